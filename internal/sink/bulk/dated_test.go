package bulk

import (
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

// TestDatedIndex pins which index names count as the pattern's.
func TestDatedIndex(t *testing.T) {
	tests := []struct {
		index     string
		normalize bool
		wildcard  string
		match     []string
		noMatch   []string
	}{
		{"logs-%{yyyy.MM.dd}", false, "logs-*", []string{"logs-2024.03.09"}, []string{"logs-archive", "logs-2024.03.09-old", "logs-24.03.09"}},
		{"${/tenant}-%{yyyy}-%{MM}", false, "acme-*-*", []string{"acme-2024-03"}, []string{"acme-2024-3", "other-2024-03"}},
		{"Logs_${getMetadata(\"table_name\")}#%{yyMMdd-HH}", true, "logs_orders*", []string{"logs_orders240309-23"}, []string{"logs_orders2403-23"}},
	}
	for _, tt := range tests {
		t.Run(tt.index, func(t *testing.T) {
			r, err := NewResolver(&config.OpenSearch{Index: tpl(tt.index), NormalizeIndex: tt.normalize})
			if err != nil {
				t.Fatal(err)
			}
			ev := &change.Event{Table: "orders", ID: "k", Doc: []byte(`{"tenant":"acme"}`), Timestamp: t0}
			d, err := r.datedIndexOf(ev, map[string]datedIndex{})
			if err != nil {
				t.Fatal(err)
			}
			if d.wildcard != tt.wildcard {
				t.Errorf("wildcard %q, want %q", d.wildcard, tt.wildcard)
			}
			it, err := r.Resolve(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !d.re.MatchString(it.Index) {
				t.Errorf("%s does not match its own index %q", d.re, it.Index)
			}
			for _, n := range tt.match {
				if !d.re.MatchString(n) {
					t.Errorf("%s does not match %q", d.re, n)
				}
			}
			for _, n := range tt.noMatch {
				if d.re.MatchString(n) {
					t.Errorf("%s matches %q", d.re, n)
				}
			}
		})
	}
}
