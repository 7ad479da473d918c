//go:build integration

package e2e

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// Place is where a document lives: index, _id and routing ("" when none).
type Place struct{ Index, ID, Routing string }

// TablePlaced scans the whole table (consistent reads) and places every
// item as the product's sink does: the product's converter for the body,
// the sink's resolver (document_id, routing, index of cfg) for the place.
// at is the time %{...} date patterns are evaluated against.
func TablePlaced(ctx context.Context, ddb *dynamodb.Client, table string, key ddbjson.Key, cfg *config.OpenSearch, at time.Time) (map[Place]string, error) {
	res, err := bulk.NewResolver(cfg)
	if err != nil {
		return nil, err
	}
	items, err := Items(ctx, ddb, table)
	if err != nil {
		return nil, err
	}
	bt := backfill.Table{Name: table, Key: key}
	out := make(map[Place]string, len(items))
	for _, item := range items {
		ev, err := bt.Event(item, at)
		if err != nil {
			return nil, err
		}
		it, err := res.Resolve(&ev)
		if err != nil {
			return nil, err
		}
		pl := Place{Index: it.Index, ID: it.ID, Routing: it.Routing}
		if _, dup := out[pl]; dup {
			return nil, fmt.Errorf("two items of %s are placed at %+v", table, pl)
		}
		out[pl] = string(ev.Doc)
	}
	return out, nil
}

// IndexPlaced reads every document of the indices matching index (a name
// or wildcard) with its place (a missing index is empty), through the one
// scroll of the harness (IndexHits).
func IndexPlaced(ctx context.Context, base, index string) (map[Place]string, error) {
	hits, err := IndexHits(ctx, base, index)
	if err != nil {
		return nil, err
	}
	out := make(map[Place]string, len(hits))
	for _, h := range hits {
		pl := Place{Index: h.Index, ID: h.ID, Routing: h.Routing}
		if _, dup := out[pl]; dup {
			return nil, fmt.Errorf("index %s holds %+v twice", index, pl)
		}
		out[pl] = h.Source
	}
	return out, nil
}

// PlaceDiff compares every placed item with every placed document.
type PlaceDiff struct {
	Items, Docs           int
	Missing, Extra, Stale []string
}

// OK reports no difference.
func (d PlaceDiff) OK() bool { return len(d.Missing)+len(d.Extra)+len(d.Stale) == 0 }

// String lists the first differences.
func (d PlaceDiff) String() string {
	first := func(s []string) []string {
		if len(s) > 5 {
			return s[:5]
		}
		return s
	}
	return fmt.Sprintf("items=%d docs=%d missing=%d %q extra=%d %q stale=%d %q", d.Items, d.Docs,
		len(d.Missing), first(d.Missing), len(d.Extra), first(d.Extra), len(d.Stale), first(d.Stale))
}

// ComparePlaced diffs items and documents by place; anyIndex compares by
// _id and routing only (the index of a %{...} date pattern depends on the
// time of the item's last change, which a scan cannot see) and then still
// requires exactly one document per item.
func ComparePlaced(items, docs map[Place]string, anyIndex bool) PlaceDiff {
	norm := func(m map[Place]string) (map[Place]string, []string) {
		if !anyIndex {
			return m, nil
		}
		out := map[Place]string{}
		var dups []string
		for p, s := range m {
			k := Place{ID: p.ID, Routing: p.Routing}
			if _, dup := out[k]; dup {
				dups = append(dups, fmt.Sprintf("%+v in several indices", k))
			}
			out[k] = s
		}
		return out, dups
	}
	items, _ = norm(items)
	docs, dups := norm(docs)
	d := PlaceDiff{Items: len(items), Docs: len(docs), Extra: dups}
	for p, want := range items {
		got, ok := docs[p]
		switch {
		case !ok:
			d.Missing = append(d.Missing, fmt.Sprintf("%+v", p))
		case got != want:
			d.Stale = append(d.Stale, fmt.Sprintf("%+v got %s want %s", p, got, want))
		}
	}
	for p := range docs {
		if _, ok := items[p]; !ok {
			d.Extra = append(d.Extra, fmt.Sprintf("%+v", p))
		}
	}
	return d
}
