package expr

import (
	"testing"
	"time"
)

type fakeSource struct {
	meta map[string]string
	ptr  map[string]string
	at   time.Time
}

func (f fakeSource) Metadata(k string) (string, bool) { v, ok := f.meta[k]; return v, ok }
func (f fakeSource) Pointer(p string) (string, bool)  { v, ok := f.ptr[p]; return v, ok }
func (f fakeSource) Time() time.Time                  { return f.at }

func TestEval(t *testing.T) {
	src := fakeSource{
		meta: map[string]string{"primary_key": "a|b", "opensearch_action": "index"},
		ptr:  map[string]string{"/tenant": "acme"},
		at:   time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	}
	tests := []struct {
		in, want, parseErr, evalErr string
	}{
		{in: "table-index", want: "table-index"},
		{in: `${getMetadata("primary_key")}`, want: "a|b"},
		{in: `${getMetadata('opensearch_action')}`, want: "index"},
		{in: `idx-${/tenant}-%{yyyy.MM.dd}`, want: "idx-acme-2026.03.04"},
		{in: `cost$5`, want: "cost$5"},
		{in: `${getMetadata("nope")}`, evalErr: `metadata "nope" is not set`},
		{in: `${/missing}`, evalErr: "document has no value at /missing"},
		{in: `${getMetadata(primary_key)}`, parseErr: "getMetadata needs one quoted key"},
		{in: `${foo}`, parseErr: "unsupported expression"},
		{in: `${/a`, parseErr: "unclosed"},
		{in: `%{yyyy.QQ}`, parseErr: "unsupported date pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tpl, err := Parse(tt.in)
			if tt.parseErr != "" {
				if err == nil || !contains(err.Error(), tt.parseErr) {
					t.Fatalf("Parse(%q) error = %v, want %q", tt.in, err, tt.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got, err := tpl.Eval(src)
			if tt.evalErr != "" {
				if err == nil || !contains(err.Error(), tt.evalErr) {
					t.Fatalf("Eval error = %v, want %q", err, tt.evalErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Eval = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestEvalDates(t *testing.T) {
	tp := MustParse(`logs-${/tenant}-%{yyyy.MM}.%{dd}`)
	got, err := tp.EvalDates(fakeSource{ptr: map[string]string{"/tenant": "acme"}}, "*")
	if err != nil || got != "logs-acme-*.*" {
		t.Fatalf("got %q, %v", got, err)
	}
	if !tp.HasDate() || len(tp.Pointers()) != 1 || MustParse("x").HasDate() {
		t.Fatal("HasDate/Pointers")
	}
}
