package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// IndexWatch notices an index deleted or recreated under a running
// pipeline (DESIGN §2.12). OpenSearch recreates a deleted index on the next
// write, so the writes themselves keep succeeding while every document
// written before is gone; only the index's UUID tells. IndexWatch remembers,
// per table, the UUID of every concrete index behind each index name the
// table writes to (learned when the name is first seen, and for a literal
// index name at the first check, before any write), and Check compares
// them with OpenSearch's current ones. A remembered concrete index that is
// gone or has another UUID is an *IndexGapError. New concrete indices
// behind a name (an alias that rolled over) are learned, not a gap.
// It is safe for concurrent use.
type IndexWatch struct {
	get   uuidGetter
	index *expr.Template
	norm  func(string) string

	mu     sync.Mutex
	tables map[string]*watched
}

// watched is one table's view: index name → concrete index → UUID (nil
// until learned).
type watched struct {
	names map[string]map[string]string
}

// uuidGetter returns the concrete indices behind name with their UUIDs;
// found is false when OpenSearch answered that the index does not exist.
// An error is a failure to ask (never a gap).
type uuidGetter func(ctx context.Context, name string) (uuids map[string]string, found bool, err error)

// IndexGapError reports that an index a table wrote to was deleted or
// recreated: documents written before are gone.
type IndexGapError struct {
	Table    string
	Index    string // the name the table writes to
	Concrete string // the concrete index that changed
	OldUUID  string
	NewUUID  string // "" when the index no longer exists
}

func (e *IndexGapError) Error() string {
	what := "was recreated (uuid " + e.OldUUID + " is now " + e.NewUUID + ")"
	if e.NewUUID == "" {
		what = "was deleted (uuid " + e.OldUUID + " no longer exists)"
	}
	name := e.Index
	if e.Concrete != e.Index {
		name += " (concrete index " + e.Concrete + ")"
	}
	return fmt.Sprintf("INDEX GAP: index %s %s under the running pipeline; documents of table %s written before are missing", name, what, e.Table)
}

// NewIndexWatch returns a watch on the indices of an opensearch sink, with
// the sink's hosts, credentials and TLS (awsCfg for SigV4 as in NewClient).
func NewIndexWatch(cfg *config.OpenSearch, awsCfg *aws.Config) (*IndexWatch, error) {
	res, err := bulk.NewResolver(cfg)
	if err != nil {
		return nil, fmt.Errorf("opensearch: %w", err)
	}
	client, err := NewClient(cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, name string) (map[string]string, bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/"+url.PathEscape(name)+"/_settings/index.uuid", nil)
		if err != nil {
			return nil, false, err
		}
		resp, err := client.Perform(req)
		if err != nil {
			return nil, false, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, false, err
		}
		return parseUUIDs(resp.StatusCode, body)
	}
	return newIndexWatch(res.IndexTemplate(), res.NormalizeIndex, get), nil
}

func newIndexWatch(index *expr.Template, norm func(string) string, get uuidGetter) *IndexWatch {
	return &IndexWatch{get: get, index: index, norm: norm, tables: map[string]*watched{}}
}

// parseUUIDs reads a GET <index>/_settings/index.uuid answer.
func parseUUIDs(status int, body []byte) (map[string]string, bool, error) {
	switch {
	case status == http.StatusNotFound:
		var e struct {
			Error struct {
				Type string `json:"type"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Type == "index_not_found_exception" {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("index settings: %s", explainStatus(status, body))
	case status != http.StatusOK:
		return nil, false, fmt.Errorf("index settings: %s", explainStatus(status, body))
	}
	var resp map[string]struct {
		Settings struct {
			Index struct {
				UUID string `json:"uuid"`
			} `json:"index"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, false, fmt.Errorf("decode index settings: %w", err)
	}
	out := make(map[string]string, len(resp))
	for name, r := range resp {
		if r.Settings.Index.UUID != "" {
			out[name] = r.Settings.Index.UUID
		}
	}
	return out, len(out) > 0, nil
}

// table returns table's view, creating it (with the literal index name,
// when the index is one) on first use. Call with w.mu held.
func (w *IndexWatch) table(name string) *watched {
	t := w.tables[name]
	if t == nil {
		t = &watched{names: map[string]map[string]string{}}
		if w.index.IsLiteral() {
			if n, err := w.index.Eval(nil); err == nil && n != "" {
				t.names[w.norm(n)] = nil
			}
		}
		w.tables[name] = t
	}
	return t
}

// Observe records the index names a batch of table's events was written
// to, and reports whether one of the table's names has no UUID learned yet
// (a new name, or a literal index that did not exist at the last check):
// the caller then calls Check at once, while the documents just written
// are there, so a deletion right after the first write is not missed.
// Events whose index cannot be resolved are the sink's business.
func (w *IndexWatch) Observe(table string, events []change.Event) (unlearned bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.table(table)
	if !w.index.IsLiteral() {
		for i := range events {
			n, err := w.index.Eval(&events[i])
			if err != nil || n == "" {
				continue
			}
			n = w.norm(n)
			if _, ok := t.names[n]; !ok {
				t.names[n] = nil
			}
		}
	}
	for _, known := range t.names {
		if known == nil {
			return true
		}
	}
	return false
}

// Check asks OpenSearch for the UUIDs behind every index name table wrote
// to. It learns the UUIDs of names seen for the first time and returns an
// *IndexGapError when a remembered concrete index is gone or was
// recreated. A failure to ask is returned as a plain error (retry later).
// After a gap the table's view is forgotten, so a re-backfill starts over.
func (w *IndexWatch) Check(ctx context.Context, table string) error {
	w.mu.Lock()
	t := w.table(table)
	names := make([]string, 0, len(t.names))
	for n := range t.names {
		names = append(names, n)
	}
	w.mu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		now, found, err := w.get(ctx, name)
		if err != nil {
			return fmt.Errorf("check index %s of table %s: %w", name, table, err)
		}
		w.mu.Lock()
		gap := compareUUIDs(table, name, t.names[name], now, found)
		switch {
		case gap != nil:
			delete(w.tables, table)
		case found:
			known := t.names[name]
			if known == nil {
				known = map[string]string{}
				t.names[name] = known
			}
			for c, u := range now {
				known[c] = u
			}
		}
		w.mu.Unlock()
		if gap != nil {
			return gap
		}
	}
	return nil
}

// Forget drops what is known about table's indices.
func (w *IndexWatch) Forget(table string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.tables, table)
}

// compareUUIDs is the decision: every remembered concrete index must still
// exist with the same UUID.
func compareUUIDs(table, name string, known, now map[string]string, found bool) *IndexGapError {
	concretes := make([]string, 0, len(known))
	for c := range known {
		concretes = append(concretes, c)
	}
	sort.Strings(concretes)
	for _, c := range concretes {
		old := known[c]
		cur, ok := now[c]
		switch {
		case !found || !ok:
			return &IndexGapError{Table: table, Index: name, Concrete: c, OldUUID: old}
		case cur != old:
			return &IndexGapError{Table: table, Index: name, Concrete: c, OldUUID: old, NewUUID: cur}
		}
	}
	return nil
}
