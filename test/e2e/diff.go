//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Problem is one difference between the table and the index: the
// document _id, the item's key and what is wrong.
type Problem struct {
	ID, Key, Detail string
}

func (p Problem) String() string {
	s := shorten(p.ID, 90)
	if p.Key != "" && p.Key != p.ID {
		s += " key " + p.Key
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Diff is the every-item / every-document comparison. Missing: an item
// without its document (or whose _id another item also has: the index can
// hold only one of them). Extra: a document without an item, or a second
// copy of one (other routing or index). Stale: a document whose source,
// routing or index is not the item's.
type Diff struct {
	Items, Docs           int
	Missing, Extra, Stale []Problem
}

// OK reports whether the index equals the table.
func (d Diff) OK() bool { return len(d.Missing)+len(d.Extra)+len(d.Stale) == 0 }

// maxListed bounds how many problems of each class String lists.
const maxListed = 20

// String lists the counts and, for each class, up to maxListed problems
// with their keys, sorted.
func (d Diff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "items=%d docs=%d missing=%d extra=%d stale=%d", d.Items, d.Docs, len(d.Missing), len(d.Extra), len(d.Stale))
	for _, c := range []struct {
		name string
		ps   []Problem
	}{{"missing", d.Missing}, {"extra", d.Extra}, {"stale", d.Stale}} {
		ps := append([]Problem(nil), c.ps...)
		sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
		for i, p := range ps {
			if i == maxListed {
				fmt.Fprintf(&b, "\n  %s: … %d more", c.name, len(ps)-maxListed)
				break
			}
			fmt.Fprintf(&b, "\n  %s: %s", c.name, p)
		}
	}
	return b.String()
}

// diff compares the expected documents with the index's hits; same decides
// whether a _source matches (nil: byte for byte).
func diff(items int, exp map[string][]want, hits []Hit, same func(got, want string) bool) Diff {
	if same == nil {
		same = func(got, want string) bool { return got == want }
	}
	d := Diff{Items: items, Docs: len(hits)}
	byID := map[string][]Hit{}
	for _, h := range hits {
		byID[h.ID] = append(byID[h.ID], h)
	}
	for id, ws := range exp {
		for _, w := range ws[1:] {
			d.Missing = append(d.Missing, Problem{ID: id, Key: w.Key, Detail: fmt.Sprintf("_id collides with item %s (one document for two items)", ws[0].Key)})
		}
		w := ws[0]
		hs := byID[id]
		if len(hs) == 0 {
			d.Missing = append(d.Missing, Problem{ID: id, Key: w.Key})
			continue
		}
		// The copy in the right place is the document; any other is extra.
		best := 0
		for i, h := range hs {
			if placed(w, h) {
				best = i
				break
			}
		}
		h := hs[best]
		var why []string
		if w.Routing != "" && h.Routing != w.Routing {
			why = append(why, fmt.Sprintf("routing %q, want %q", h.Routing, w.Routing))
		}
		if w.Index != "" && h.Index != w.Index {
			why = append(why, fmt.Sprintf("in index %q, want %q", h.Index, w.Index))
		}
		if !same(h.Source, w.source) {
			why = append(why, "version "+fmt.Sprint(h.Version)+": "+sourceDiff(h.Source, w.source))
		}
		if len(why) > 0 {
			d.Stale = append(d.Stale, Problem{ID: id, Key: w.Key, Detail: strings.Join(why, "; ")})
		}
		for i, o := range hs {
			if i != best {
				d.Extra = append(d.Extra, Problem{ID: id, Key: w.Key, Detail: fmt.Sprintf("second copy in index %q routing %q (version %d)", o.Index, o.Routing, o.Version)})
			}
		}
	}
	for id, hs := range byID {
		if _, ok := exp[id]; ok {
			continue
		}
		for _, h := range hs {
			d.Extra = append(d.Extra, Problem{ID: id, Detail: fmt.Sprintf("no such item (index %q, routing %q, version %d): %s", h.Index, h.Routing, h.Version, shorten(h.Source, 160))})
		}
	}
	return d
}

func placed(w want, h Hit) bool {
	return (w.Routing == "" || h.Routing == w.Routing) && (w.Index == "" || h.Index == w.Index)
}

// sourceDiff names the top-level fields that differ, with both values.
func sourceDiff(got, want string) string {
	var g, w map[string]json.RawMessage
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return fmt.Sprintf("got %s want %s", shorten(got, 200), shorten(want, 200))
	}
	names := map[string]bool{}
	for k := range g {
		names[k] = true
	}
	for k := range w {
		names[k] = true
	}
	var keys []string
	for k := range names {
		gv, gok := g[k]
		wv, wok := w[k]
		if gok != wok || string(gv) != string(wv) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		gv, wv := "(absent)", "(absent)"
		if v, ok := g[k]; ok {
			gv = shorten(string(v), 80)
		}
		if v, ok := w[k]; ok {
			wv = shorten(string(v), 80)
		}
		parts = append(parts, fmt.Sprintf("%s got %s want %s", k, gv, wv))
	}
	if len(parts) == 0 {
		return "same fields, different bytes: got " + shorten(got, 200) + " want " + shorten(want, 200)
	}
	return strings.Join(parts, ", ")
}

// shorten cuts s to n bytes, saying how long it was.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
}

// SameJSON reports whether two JSON documents hold the same value: object
// keys in any order, strings after unescaping, numbers by exact decimal
// value (1E-130 = 1.0E-130; 0.1 ≠ 0.1000000000000000055).
func SameJSON(got, want string) bool {
	g, err1 := decodeJSON(got)
	w, err2 := decodeJSON(want)
	return err1 == nil && err2 == nil && sameValue(g, w)
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		r1, ok1 := new(big.Rat).SetString(string(x))
		r2, ok2 := new(big.Rat).SetString(string(y))
		return ok1 && ok2 && r1.Cmp(r2) == 0
	}
	return a == b
}
