//go:build integration

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// tableDocs scans the whole table (consistent reads) and converts every item with the
// product's converter: _id → document JSON.
func (s *scenario) tableDocs() (map[string]string, error) {
	out := map[string]string{}
	p := dynamodb.NewScanPaginator(s.ddb, &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(s.ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", s.table, err)
		}
		for _, item := range page.Items {
			ids, err := s.key.KeyIDs(item)
			if err != nil {
				return nil, err
			}
			doc, err := ddbjson.Item(item)
			if err != nil {
				return nil, err
			}
			out[ids.ID] = string(doc)
		}
	}
	return out, nil
}

// indexDoc is one document as the index holds it.
type indexDoc struct {
	source  string
	version int64
}

// indexDocs reads every document of the index with a scroll (a missing index is empty).
func (s *scenario) indexDocs() (map[string]indexDoc, error) {
	out := map[string]indexDoc{}
	ctx := s.ctx
	if st, b := osDo(ctx, s.os, "POST", "/"+s.index+"/_refresh", nil); st != 200 && st != 404 {
		return nil, fmt.Errorf("refresh %s: %d %s", s.index, st, b)
	}
	status, resp := osDo(ctx, s.os, "POST", "/"+s.index+"/_search?scroll=1m", []byte(`{"size":2000,"version":true,"query":{"match_all":{}}}`))
	var scrollID string
	defer func() {
		if scrollID != "" {
			body, _ := json.Marshal(map[string]any{"scroll_id": []string{scrollID}})
			osDo(ctx, s.os, "DELETE", "/_search/scroll", body)
		}
	}()
	for {
		switch {
		case status == 404:
			return out, nil
		case status != 200:
			return nil, fmt.Errorf("search %s: %d %s", s.index, status, resp)
		}
		var r struct {
			ScrollID string `json:"_scroll_id"`
			Hits     struct {
				Hits []struct {
					ID      string          `json:"_id"`
					Version int64           `json:"_version"`
					Source  json.RawMessage `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(resp, &r); err != nil {
			return nil, fmt.Errorf("search %s: %w", s.index, err)
		}
		scrollID = r.ScrollID
		if len(r.Hits.Hits) == 0 {
			return out, nil
		}
		for _, h := range r.Hits.Hits {
			out[h.ID] = indexDoc{source: string(h.Source), version: h.Version}
		}
		body, _ := json.Marshal(map[string]string{"scroll": "1m", "scroll_id": scrollID})
		status, resp = osDo(ctx, s.os, "POST", "/_search/scroll", body)
	}
}

// httpClient is for the suite's own calls to OpenSearch (not through any fault proxy).
var httpClient = &http.Client{Timeout: 30 * time.Second}

// osDo sends a JSON request to OpenSearch at base+path; status 0 means no answer.
func osDo(ctx context.Context, base, method, path string, body []byte) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// diff is the every-item / every-document comparison.
type diff struct {
	items, docs           int
	missing, extra, stale []string
}

func (d diff) ok() bool { return len(d.missing)+len(d.extra)+len(d.stale) == 0 }

func (d diff) String() string {
	first := func(s []string) []string {
		sort.Strings(s)
		if len(s) > 5 {
			return s[:5]
		}
		return s
	}
	return fmt.Sprintf("items=%d docs=%d missing=%d %q extra=%d %q stale=%d %q", d.items, d.docs,
		len(d.missing), first(d.missing), len(d.extra), first(d.extra), len(d.stale), first(d.stale))
}

func (s *scenario) compare() (diff, error) {
	items, err := s.tableDocs()
	if err != nil {
		return diff{}, err
	}
	docs, err := s.indexDocs()
	if err != nil {
		return diff{}, err
	}
	d := diff{items: len(items), docs: len(docs)}
	for id, want := range items {
		got, ok := docs[id]
		switch {
		case !ok:
			d.missing = append(d.missing, id)
		case got.source != want:
			d.stale = append(d.stale, fmt.Sprintf("%s (version %d) got %s want %s", id, got.version, got.source, want))
		}
	}
	for id, got := range docs {
		if _, ok := items[id]; !ok {
			d.extra = append(d.extra, fmt.Sprintf("%s (version %d)", id, got.version))
		}
	}
	return d, nil
}

// awaitEqual waits (writes must have stopped) until the index equals the table and returns
// the comparison; after timeout it records the scenario's row and fails with the last diff.
func (s *scenario) awaitEqual(timeout time.Duration) diff {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	start := time.Now()
	for {
		d, err := s.compare()
		if err == nil && d.ok() {
			s.t.Logf("%s: equal after %s: %d items = %d documents", s.name, time.Since(start).Round(100*time.Millisecond), d.items, d.docs)
			return d
		}
		if time.Now().After(deadline) {
			if err != nil {
				s.record(d, "FAILED: "+err.Error())
				s.t.Fatalf("%s: comparison failed: %v", s.name, err)
			}
			s.record(d, "FAILED: did not converge")
			s.t.Fatalf("%s: index %s did not converge to table %s in %s: %s", s.name, s.index, s.table, timeout, d)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// converge is awaitEqual that records the scenario's row (note says what was injected).
func (s *scenario) converge(timeout time.Duration, note string) diff {
	s.t.Helper()
	d := s.awaitEqual(timeout)
	s.record(d, note)
	return d
}

func (s *scenario) record(d diff, note string) {
	s.recorded = true
	results.add(row{scenario: s.name, written: s.written.Load(), checked: d.docs, items: d.items,
		missing: len(d.missing), extra: len(d.extra), stale: len(d.stale), note: note})
}

// row is one line of the suite's table.
type row struct {
	scenario              string
	written               int64
	items, checked        int
	missing, extra, stale int
	note                  string
}

type resultTable struct {
	mu   sync.Mutex
	rows []row
}

func (r *resultTable) add(x row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, x)
	fmt.Printf("faults: %s\n", strings.Trim(formatRow(x), "| "))
}

func formatRow(x row) string {
	return fmt.Sprintf("| %-18s | %7d | %7d | %7d | %7d | %5d | %5d | %s |", x.scenario, x.written, x.items, x.checked, x.missing, x.extra, x.stale, x.note)
}

// String is the whole table (Markdown).
func (r *resultTable) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "\nfault-injection results (seed %d)\n", suiteSeed)
	fmt.Fprintf(&b, "| %-18s | %7s | %7s | %7s | %7s | %5s | %5s | %s |\n", "scenario", "changes", "items", "docs", "missing", "extra", "stale", "faults injected")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|---|\n", strings.Repeat("-", 20), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 7), strings.Repeat("-", 7))
	for _, x := range r.rows {
		b.WriteString(formatRow(x) + "\n")
	}
	return b.String()
}
