//go:build integration

package e2e

import (
	"strings"
	"testing"
)

// TestDiff pins the comparison's classes (no network): every difference
// between the expected documents and the index's hits is found and named.
func TestDiff(t *testing.T) {
	w := func(id, key, src string) want {
		return want{Placement: Placement{ID: id, Key: key}, source: src}
	}
	tests := []struct {
		name                  string
		exp                   map[string][]want
		hits                  []Hit
		missing, extra, stale int
		says                  string
	}{
		{"equal", map[string][]want{"a": {w("a", `["a"]`, `{"pk":"a"}`)}}, []Hit{{ID: "a", Source: `{"pk":"a"}`}}, 0, 0, 0, ""},
		{"missing", map[string][]want{"a": {w("a", `["a"]`, `{"pk":"a"}`)}}, nil, 1, 0, 0, `missing: a key ["a"]`},
		{"extra", nil, []Hit{{ID: "z", Index: "i", Source: `{"pk":"z"}`}}, 0, 1, 0, "extra: z: no such item"},
		{"stale", map[string][]want{"a": {w("a", `["a"]`, `{"n":2,"pk":"a"}`)}}, []Hit{{ID: "a", Version: 7, Source: `{"n":1,"pk":"a"}`}}, 0, 0, 1, "version 7: n got 1 want 2"},
		{"collision", map[string][]want{"a|b|c": {w("a|b|c", `["a|b","c"]`, `{}`), w("a|b|c", `["a","b|c"]`, `{}`)}},
			[]Hit{{ID: "a|b|c", Source: `{}`}}, 1, 0, 0, `_id collides with item ["a|b","c"]`},
		{"old copy under other routing", map[string][]want{"a": {{Placement: Placement{ID: "a", Routing: "r2"}, source: `{}`}}},
			[]Hit{{ID: "a", Routing: "r1", Source: `{}`}, {ID: "a", Routing: "r2", Source: `{}`}}, 0, 1, 0, `second copy in index "" routing "r1"`},
		{"wrong index", map[string][]want{"a": {{Placement: Placement{ID: "a", Index: "x-b1"}, source: `{}`}}},
			[]Hit{{ID: "a", Index: "x-b0", Source: `{}`}}, 0, 0, 1, `in index "x-b0", want "x-b1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := 0
			for _, ws := range tt.exp {
				items += len(ws)
			}
			d := diff(items, tt.exp, tt.hits, nil)
			if len(d.Missing) != tt.missing || len(d.Extra) != tt.extra || len(d.Stale) != tt.stale {
				t.Fatalf("got %s", d)
			}
			if d.OK() != (tt.missing+tt.extra+tt.stale == 0) {
				t.Fatalf("OK() = %v for %s", d.OK(), d)
			}
			if !strings.Contains(d.String(), tt.says) {
				t.Fatalf("%q lacks %q", d.String(), tt.says)
			}
		})
	}
}

func TestSameJSON(t *testing.T) {
	tests := []struct {
		got, want string
		same      bool
	}{
		{`{"b":1,"a":"x"}`, `{"a":"x","b":1}`, true},
		{`{"n":1.0E-130}`, `{"n":0.` + strings.Repeat("0", 129) + `1}`, true},
		{`{"s":"\u2028"}`, "{\"s\":\"\u2028\"}", true},
		{`{"n":1.2345678901234567}`, `{"n":1.23456789012345678901}`, false},
		{`{"l":[1,2]}`, `{"l":[2,1]}`, false},
		{`{"a":{}}`, `{"a":[]}`, false},
		{`{"a":1}`, `{"a":1,"b":null}`, false},
	}
	for _, tt := range tests {
		if got := SameJSON(tt.got, tt.want); got != tt.same {
			t.Errorf("SameJSON(%s, %s) = %v, want %v", tt.got, tt.want, got, tt.same)
		}
	}
}
