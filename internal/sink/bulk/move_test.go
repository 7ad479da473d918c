package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

// img is one image of the test item: the attributes the templates read.
type img struct {
	Tenant string `json:"tenant"`
	Alt    string `json:"alt"`
	N      int    `json:"n"`
}

func (i *img) doc() []byte {
	if i == nil {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"pk": "k", "tenant": i.Tenant, "alt": i.Alt, "n": i.N})
	return b
}

// modify, insert and remove build the stream events of the test item.
func streamEvent(old, cur *img, v int64) change.Event {
	ev := change.Event{Table: "t", ID: "k", PartitionKey: "k", Version: v, Timestamp: t0, OldDoc: old.doc()}
	switch {
	case cur == nil:
		ev.Op, ev.EventName, ev.Doc = change.OpDelete, "REMOVE", []byte(`{"pk":"k"}`) // view_on_remove NEW_IMAGE
	case old == nil:
		ev.Op, ev.EventName, ev.Doc = change.OpIndex, "INSERT", cur.doc()
	default:
		ev.Op, ev.EventName, ev.Doc = change.OpIndex, "MODIFY", cur.doc()
	}
	return ev
}

// TestResolveAllPlacesByOldImage pins which operations one event makes.
func TestResolveAllPlacesByOldImage(t *testing.T) {
	cfg := &config.OpenSearch{Index: tpl("docs"), DocumentID: tpl(`${/alt}`), Routing: tpl(`${/tenant}`)}
	a := &img{Tenant: "A", Alt: "x", N: 1}
	tests := []struct {
		name     string
		vt       string
		old, cur *img
		want     []string
	}{
		{"insert", "", nil, a, []string{"index docs/x@A v7"}},
		{"modify in place", "", a, &img{"A", "x", 2}, []string{"index docs/x@A v7"}},
		{"routing moves", "", a, &img{"B", "x", 2}, []string{"index docs/x@B v7", "delete docs/x@A v7"}},
		{"id moves", "", a, &img{"A", "y", 2}, []string{"index docs/y@A v7", "delete docs/x@A v7"}},
		{"routing moves, external_gte", "external_gte", a, &img{"B", "x", 2}, []string{"delete docs/x@A v7", "index docs/x@B v7"}},
		{"routing moves, internal", "internal", a, &img{"B", "x", 2}, []string{"delete docs/x@A", "index docs/x@B"}},
		{"remove is placed by the old image", "", a, nil, []string{"delete docs/x@A v7"}},
		{"old image the templates cannot place", "", &img{}, &img{"B", "y", 2}, []string{"index docs/y@B v7"}},
		{"new image the templates cannot place", "", a, &img{}, []string{"delete docs/x@A v7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *cfg
			c.DocumentVersionType = tt.vt
			r, err := NewResolver(&c)
			if err != nil {
				t.Fatal(err)
			}
			ev := streamEvent(tt.old, tt.cur, 7)
			if tt.old != nil && tt.old.Tenant == "" {
				ev.OldDoc = []byte(`{"pk":"k"}`)
			}
			if tt.cur != nil && tt.cur.Tenant == "" {
				ev.Doc = []byte(`{"pk":"k"}`)
			}
			its, err := r.ResolveAll(&ev)
			if (err != nil) != (tt.cur != nil && tt.cur.Tenant == "") {
				t.Fatalf("err = %v", err)
			}
			var got []string
			for _, it := range its {
				s := fmt.Sprintf("%s %s/%s@%s", it.Action, it.Index, it.ID, it.Routing)
				if it.Versioned() {
					s += fmt.Sprintf(" v%d", it.Version)
				}
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestRemoveWithoutOldImage: without an old image (stream view NEW_IMAGE or
// KEYS_ONLY) a pointer on a non-key attribute cannot place the delete; it
// is reported, not guessed.
func TestRemoveWithoutOldImage(t *testing.T) {
	r, _ := NewResolver(&config.OpenSearch{Routing: tpl(`${/tenant}`)})
	ev := streamEvent(nil, nil, 3)
	ev.Op, ev.EventName = change.OpDelete, "REMOVE"
	if _, err := r.ResolveAll(&ev); err == nil {
		t.Fatal("a delete without old image resolved a routing on a non-key attribute")
	}
}

// osModel is OpenSearch's external versioning on physical documents: one
// shard (every routing of an _id is the same document) or one shard per
// routing. Tombstones stay (the test runs well within index.gc_deletes).
type osModel struct {
	oneShard bool
	vt       string
	docs     map[string]*physDoc
}

type physDoc struct {
	live    bool
	version int64
	source  string
}

func (m *osModel) key(it Item) string {
	if m.oneShard {
		return it.Index + "/" + it.ID
	}
	return it.Index + "/" + it.ID + "@" + it.Routing
}

func (m *osModel) apply(it Item) {
	d := m.docs[m.key(it)]
	if d == nil {
		d = &physDoc{}
		m.docs[m.key(it)] = d
	}
	if it.Versioned() {
		known := d.live || d.version != 0
		if known && (d.version > it.Version || (d.version == it.Version && it.VersionType == VersionExternal)) {
			return // 409: superseded
		}
		d.version = it.Version
	}
	d.live = it.Action != ActionDelete
	if d.live {
		d.source = string(it.Event.Doc)
	}
}

// Indices and Found make the model a Locator.
func (m *osModel) Indices(_ context.Context, wildcard string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for k := range m.docs {
		name := k[:strings.IndexByte(k, '/')]
		if ok, _ := path.Match(wildcard, name); ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

func (m *osModel) Found(_ context.Context, docs []DocRef) ([]bool, error) {
	out := make([]bool, len(docs))
	for i, d := range docs {
		doc := m.docs[m.key(Item{Index: d.Index, ID: d.ID, Routing: d.Routing})]
		out[i] = doc != nil && doc.live
	}
	return out, nil
}

// TestMovesConverge replays random histories of one item whose routing
// and id attribute change, with deletes and re-inserts, cut into random
// bulks (coalesced), on one shard and on many, for each version type, and
// with a crash that re-sends a suffix of the bulks: the index must end
// with exactly the item's last image at its last placement. With a daily
// index pattern the changes fall on random days, and the index holds an
// unrelated index that the pattern's wildcard also matches.
func TestMovesConverge(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, index := range []string{"docs", "docs-%{yyyy.MM.dd}"} {
		for _, vt := range []string{"external", "external_gte", "internal"} {
			r, err := NewResolver(&config.OpenSearch{Index: tpl(index), DocumentID: tpl(`${/alt}`), Routing: tpl(`${/tenant}`), DocumentVersionType: vt})
			if err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 2000; run++ {
				movesRun(t, rng, r, index, vt)
			}
		}
	}
}

func movesRun(t *testing.T, rng *rand.Rand, r *Resolver, index, vt string) {
	var events []change.Event
	var cur *img
	for v := int64(1); v <= int64(1+rng.Intn(8)); v++ {
		var next *img
		if cur == nil || rng.Intn(5) > 0 {
			next = &img{Tenant: string(rune('A' + rng.Intn(3))), Alt: string(rune('x' + rng.Intn(2))), N: int(v)}
		}
		if cur == nil && next == nil {
			continue
		}
		ev := streamEvent(cur, next, v)
		ev.Timestamp = t0.Add(time.Duration(rng.Intn(3)) * 24 * time.Hour)
		events = append(events, ev)
		cur = next
	}
	var bulks [][]change.Event
	for rest := events; len(rest) > 0; {
		n := 1 + rng.Intn(len(rest))
		bulks = append(bulks, rest[:n])
		rest = rest[n:]
	}
	replayFrom := rng.Intn(len(bulks))
	for _, oneShard := range []bool{true, false} {
		m := &osModel{oneShard: oneShard, vt: vt, docs: map[string]*physDoc{}}
		unrelated := Item{Index: "docs-archive", ID: "x", Routing: "A", Event: &change.Event{Doc: []byte(`{}`)}}
		m.apply(unrelated)
		send := func(b []change.Event) {
			p, err := r.PrepareContext(context.Background(), b, m)
			if err != nil || len(p.Unresolved) > 0 {
				t.Fatalf("prepare: %v %v", err, p.Unresolved)
			}
			for _, e := range p.Entries {
				m.apply(e.Item)
			}
		}
		for _, b := range bulks {
			send(b)
		}
		if vt != "internal" { // internal versions give no order to a replay
			for _, b := range bulks[replayFrom:] {
				send(b)
			}
		}
		live := map[string]string{}
		for k, d := range m.docs {
			if d.live {
				live[k] = d.source
			}
		}
		want := map[string]string{m.key(unrelated): "{}"}
		if cur != nil {
			last := events[len(events)-1]
			name, _ := tpl(index).Eval(&last)
			want[m.key(Item{Index: name, ID: cur.Alt, Routing: cur.Tenant})] = string(cur.doc())
		}
		if fmt.Sprint(live) != fmt.Sprint(want) {
			t.Fatalf("%s %s oneShard=%v history %s bulks %d replay from %d:\ngot  %v\nwant %v", index, vt, oneShard, history(events), len(bulks), replayFrom, live, want)
		}
	}
}

func history(evs []change.Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("[v%d %s day %d %s old=%s] ", e.Version, e.EventName, e.Timestamp.Day(), e.Doc, e.OldDoc)
	}
	return s
}
