package verify

import (
	"reflect"
	"testing"
)

func TestCompare(t *testing.T) {
	fp := func(s string) Fingerprint { return FingerprintOf([]byte(s)) }
	k := func(index, id string) DocKey { return DocKey{Index: index, ID: id} }
	tests := []struct {
		name        string
		items, docs map[DocKey]Fingerprint
		want        []Difference
	}{
		{name: "both empty"},
		{name: "equal", items: map[DocKey]Fingerprint{k("t", "a"): fp(`{"pk":"a"}`)}, docs: map[DocKey]Fingerprint{k("t", "a"): fp(`{"pk":"a"}`)}},
		{
			name:  "missing",
			items: map[DocKey]Fingerprint{k("t", "a"): fp("a"), k("t", "b"): fp("b")},
			docs:  map[DocKey]Fingerprint{k("t", "a"): fp("a")},
			want:  []Difference{{Kind: Missing, DocKey: k("t", "b"), Reason: "item has no document"}},
		},
		{
			name:  "extra",
			items: map[DocKey]Fingerprint{k("t", "a"): fp("a")},
			docs:  map[DocKey]Fingerprint{k("t", "a"): fp("a"), k("t", "z"): fp("z")},
			want:  []Difference{{Kind: Extra, DocKey: k("t", "z"), Reason: "document has no item"}},
		},
		{
			name:  "stale",
			items: map[DocKey]Fingerprint{k("t", "a"): fp(`{"n":1}`)},
			docs:  map[DocKey]Fingerprint{k("t", "a"): fp(`{"n":1.0}`)},
			want:  []Difference{{Kind: Stale, DocKey: k("t", "a"), Reason: "document differs from the item"}},
		},
		{
			name:  "same _id in another index is missing plus extra",
			items: map[DocKey]Fingerprint{k("t-2024", "a"): fp("a")},
			docs:  map[DocKey]Fingerprint{k("t-2023", "a"): fp("a")},
			want: []Difference{
				{Kind: Missing, DocKey: k("t-2024", "a"), Reason: "item has no document"},
				{Kind: Extra, DocKey: k("t-2023", "a"), Reason: "document has no item"},
			},
		},
		{
			name:  "all three, sorted by kind then key",
			items: map[DocKey]Fingerprint{k("t", "m2"): fp("m"), k("t", "m1"): fp("m"), k("t", "s"): fp("new"), k("t", "ok"): fp("ok")},
			docs:  map[DocKey]Fingerprint{k("t", "s"): fp("old"), k("t", "ok"): fp("ok"), k("t", "x"): fp("x")},
			want: []Difference{
				{Kind: Missing, DocKey: k("t", "m1"), Reason: "item has no document"},
				{Kind: Missing, DocKey: k("t", "m2"), Reason: "item has no document"},
				{Kind: Extra, DocKey: k("t", "x"), Reason: "document has no item"},
				{Kind: Stale, DocKey: k("t", "s"), Reason: "document differs from the item"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.items, tt.docs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Compare:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestComparerIgnoresBodiesBehindAPipeline(t *testing.T) {
	c := newComparer(false)
	c.addItem(DocKey{"t", "a"}, FingerprintOf([]byte("a")))
	if cd := c.addDoc(DocKey{"t", "a"}, FingerprintOf([]byte("rewritten by the ingest pipeline")), 1); cd != nil {
		t.Fatalf("a body difference counted without body comparison: %+v", cd)
	}
	if rest := c.finish(); len(rest) != 0 {
		t.Fatalf("left over: %+v", rest)
	}
}
