//go:build integration

// Package e2e is the one end-to-end harness of the integration and fault
// suites (STYLE.md habit 12): it creates a table in a DynamoDB Local
// namespace of its own, writes a pipeline, starts the real ddbsync binary,
// kills and restarts it, polls for readiness and convergence, and compares
// every item of the table (scanned and converted with the product's own
// converter) with every document of the index (scrolled with versions):
// missing, extra, stale, duplicated and colliding documents all fail, and
// are printed with their keys. The hostile workload is in ./workload.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/processor"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// requestTimeout bounds one call to OpenSearch.
const requestTimeout = 30 * time.Second

// Do sends a JSON request to OpenSearch at base+path; status 0 means no
// answer (the body then holds the error).
func Do(ctx context.Context, base, method, path string, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Items scans the whole table with consistent reads.
func Items(ctx context.Context, ddb *dynamodb.Client, table string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// TableDocs scans the whole table (consistent reads) and converts every
// item with the product's converter: _id → document JSON. Two items with
// one _id are an error (the index cannot hold both).
func TableDocs(ctx context.Context, ddb *dynamodb.Client, table string, key ddbjson.Key) (map[string]string, error) {
	items, err := Items(ctx, ddb, table)
	if err != nil {
		return nil, err
	}
	exp, err := expected(table, items, KeyPlacement(key), nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(exp))
	for id, e := range exp {
		if len(e) > 1 {
			return nil, fmt.Errorf("table %s: items %s and %s have one _id %q", table, e[0].Key, e[1].Key, id)
		}
		out[id] = e[0].source
	}
	return out, nil
}

// Placement is where an item's document must be: its _id, and when the
// sink sets them, its routing and index ("" = not checked). Key is the
// item's primary key as text, for messages.
type Placement struct {
	ID, Routing, Index string
	Key                string
}

// Placer computes an item's Placement, as the sink configuration does.
type Placer func(item map[string]types.AttributeValue) (Placement, error)

// KeyPlacement places documents by primary key, with the product's own
// _id rule (ddbjson.Key.KeyIDs): the default sink configuration.
func KeyPlacement(key ddbjson.Key) Placer {
	return func(item map[string]types.AttributeValue) (Placement, error) {
		ids, err := key.KeyIDs(item)
		if err != nil {
			return Placement{}, err
		}
		return Placement{ID: ids.ID, Key: KeyString(ids)}, nil
	}
}

// KeyString shows a key's parts unambiguously: ["a|b","c"].
func KeyString(ids ddbjson.IDs) string {
	parts := []string{ids.Partition}
	if ids.Sort != "" {
		parts = append(parts, ids.Sort)
	}
	b, _ := json.Marshal(parts)
	return shorten(string(b), 120)
}

// want is one item as the index must hold it.
type want struct {
	Placement
	source string
}

// expected converts every item with the product's converter and groups
// the results by _id (more than one per _id is a collision).
func expected(table string, items []map[string]types.AttributeValue, place Placer, chain *processor.Chain) (map[string][]want, error) {
	out := make(map[string][]want, len(items))
	for _, item := range items {
		p, err := place(item)
		if err != nil {
			return nil, fmt.Errorf("place item: %w", err)
		}
		if p.Key == "" {
			p.Key = p.ID
		}
		doc, err := ddbjson.Item(item)
		if err != nil {
			return nil, fmt.Errorf("convert item %s: %w", p.Key, err)
		}
		if chain.Len() > 0 {
			ev := change.Event{Table: table, Op: change.OpIndex, ID: p.ID, Doc: doc}
			if dropped, err := chain.Apply(&ev); err != nil || dropped {
				continue // dropped: deleted; failed: dead-lettered
			}
			doc = ev.Doc
		}
		out[p.ID] = append(out[p.ID], want{Placement: p, source: string(doc)})
	}
	return out, nil
}

// Doc is one document as the index holds it.
type Doc struct {
	Source  string
	Version int64
}

// Hit is one document of a scroll, with where it lives.
type Hit struct {
	ID, Index, Routing string
	Version            int64
	Source             string
}

// IndexDocs reads every document of the index with a scroll (a missing
// index is empty; a new index whose shard is not allocated yet is waited
// for). An _id held twice (other routing or index) keeps the last one;
// IndexHits returns them all.
func IndexDocs(ctx context.Context, base, index string) (map[string]Doc, error) {
	hits, err := IndexHits(ctx, base, index)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Doc, len(hits))
	for _, h := range hits {
		out[h.ID] = Doc{Source: h.Source, Version: h.Version}
	}
	return out, nil
}

// IndexHits reads every document of index (a name or a pattern such as
// "name*") with a scroll, with versions, routing and index.
func IndexHits(ctx context.Context, base, index string) ([]Hit, error) {
	var out []Hit
	if st, b := Do(ctx, base, "POST", "/"+index+"/_refresh", nil); st != 200 && st != 404 && st != 503 {
		return nil, fmt.Errorf("refresh %s: %d %s", index, st, b)
	}
	var status int
	var resp []byte
	for try := 0; ; try++ {
		status, resp = Do(ctx, base, "POST", "/"+index+"/_search?scroll=1m", []byte(`{"size":2000,"version":true,"query":{"match_all":{}}}`))
		if status != 503 || try == 50 { // 503: a new index's shard is not allocated yet
			break
		}
		if err := retry.Sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	var scrollID string
	defer func() {
		if scrollID != "" {
			body, _ := json.Marshal(map[string]any{"scroll_id": []string{scrollID}})
			Do(context.WithoutCancel(ctx), base, "DELETE", "/_search/scroll", body)
		}
	}()
	for {
		switch {
		case status == 404:
			return out, nil
		case status != 200:
			return nil, fmt.Errorf("search %s: %d %s", index, status, resp)
		}
		var r struct {
			ScrollID string `json:"_scroll_id"`
			Hits     struct {
				Hits []struct {
					ID      string          `json:"_id"`
					Index   string          `json:"_index"`
					Routing string          `json:"_routing"`
					Version int64           `json:"_version"`
					Source  json.RawMessage `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(resp, &r); err != nil {
			return nil, fmt.Errorf("search %s: %w", index, err)
		}
		scrollID = r.ScrollID
		if len(r.Hits.Hits) == 0 {
			return out, nil
		}
		for _, h := range r.Hits.Hits {
			out = append(out, Hit{ID: h.ID, Index: h.Index, Routing: h.Routing, Version: h.Version, Source: string(h.Source)})
		}
		body, _ := json.Marshal(map[string]string{"scroll": "1m", "scroll_id": scrollID})
		status, resp = Do(ctx, base, "POST", "/_search/scroll", body)
	}
}

// Compare compares every item of table with every document of index
// (placed by primary key).
func Compare(ctx context.Context, ddb *dynamodb.Client, table string, key ddbjson.Key, base, index string) (Diff, error) {
	return CompareWith(ctx, ddb, table, KeyPlacement(key), base, index)
}

// CompareWith compares every item of table with every document of index
// (a name or pattern), placing items with place.
func CompareWith(ctx context.Context, ddb *dynamodb.Client, table string, place Placer, base, index string) (Diff, error) {
	return CompareProcessed(ctx, ddb, table, place, nil, nil, base, index)
}

// CompareProcessed is CompareWith for a pipeline with processors and a
// server that may re-serialize _source: every item is expected as chain
// processes it (nil: unprocessed; items the chain drops or fails on are
// expected to have no document), and same decides whether a _source matches
// its item's document (nil: byte for byte).
func CompareProcessed(ctx context.Context, ddb *dynamodb.Client, table string, place Placer, chain *processor.Chain, same func(got, want string) bool, base, index string) (Diff, error) {
	items, err := Items(ctx, ddb, table)
	if err != nil {
		return Diff{}, err
	}
	exp, err := expected(table, items, place, chain)
	if err != nil {
		return Diff{}, err
	}
	hits, err := IndexHits(ctx, base, index)
	if err != nil {
		return Diff{}, err
	}
	return diff(len(items), exp, hits, same), nil
}

// PointerPlacement places documents as a sink with document_id
// "${/<idAttr>}", routing "${/<routingAttr>}" and index
// "<indexPrefix>${/<indexAttr>}" does ("" leaves that part to the default:
// the key's _id, no routing check, no index check). The attributes must be
// strings (the workload's Changing attributes are).
func PointerPlacement(key ddbjson.Key, idAttr, routingAttr, indexPrefix, indexAttr string) Placer {
	byKey := KeyPlacement(key)
	str := func(item map[string]types.AttributeValue, a string) (string, error) {
		v, ok := item[a].(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("attribute %q is not a string", a)
		}
		return v.Value, nil
	}
	return func(item map[string]types.AttributeValue) (Placement, error) {
		p, err := byKey(item)
		if err != nil {
			return p, err
		}
		if idAttr != "" {
			if p.ID, err = str(item, idAttr); err != nil {
				return p, err
			}
		}
		if routingAttr != "" {
			if p.Routing, err = str(item, routingAttr); err != nil {
				return p, err
			}
		}
		if indexAttr != "" {
			v, err := str(item, indexAttr)
			if err != nil {
				return p, err
			}
			p.Index = indexPrefix + v
		}
		return p, nil
	}
}
