package opensearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// DeadLetter is one line of a dead-letter file: the bulk operation as it was
// sent (index, _id, routing, pipeline, action, version, version type, the
// document) and why OpenSearch refused it.
type DeadLetter = dlqEntry

// ReadDeadLetters reads a dead-letter file's lines. A line that is not a
// dead letter is an error naming its line number; a last line cut short
// (a crash while appending) is reported the same way.
func ReadDeadLetters(r io.Reader) ([]DeadLetter, error) {
	var out []DeadLetter
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 512<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var d DeadLetter
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("line %d: not a dead letter: %w", n, err)
		}
		if d.Index == "" || d.ID == "" || d.Action == "" {
			return nil, fmt.Errorf("line %d: dead letter without index, id or action", n)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}

// item rebuilds the bulk operation exactly as it was first sent.
func (d *DeadLetter) item() bulk.Item {
	it := bulk.Item{Action: bulk.Action(d.Action), Index: d.Index, ID: d.ID, Routing: d.Routing, Pipeline: d.Pipeline,
		Event: &change.Event{Table: d.Table, ID: d.ID, PartitionKey: d.Key.PartitionKey, SortKey: d.Key.SortKey,
			Sequence: d.Sequence, Doc: []byte(d.Document)}}
	if d.Version != nil && d.VersionType != "" && d.VersionType != bulk.VersionInternal {
		it.Version, it.VersionType = *d.Version, d.VersionType
	}
	return it
}

// ReplayResult is what became of replayed dead letters.
type ReplayResult struct {
	// Applied: OpenSearch took the operation (or the delete found nothing).
	Applied int
	// Superseded: OpenSearch holds this version or a newer one (409): a
	// later change of the item is in the index and was kept.
	Superseded []DeadLetter
	// Failed: refused again, written to the sink's dead-letter file.
	Failed []DeadLetter
}

// Replay sends dead letters again as they were first sent — same index,
// _id, routing, pipeline, action, and the ORIGINAL external version and
// version type — through the sink's one write path (client, retries, item
// classification, dead-letter file). A replay therefore never overwrites a
// newer change: OpenSearch refuses an older or equal external version with
// 409, reported as superseded. Letters refused again are appended to the
// sink's dead-letter file (open the sink with the file that should receive
// them). It returns an error when the write path does (OpenSearch down past
// max_retries, ctx done) or when a refused letter cannot be kept.
func (s *Sink) Replay(ctx context.Context, letters []DeadLetter) (ReplayResult, error) {
	var res ReplayResult
	var tables []string
	groups := map[string][]int{} // table → positions in letters
	for i := range letters {
		t := letters[i].Table
		if _, ok := groups[t]; !ok {
			tables = append(tables, t)
		}
		groups[t] = append(groups[t], i)
	}
	for _, table := range tables {
		pos := groups[table]
		items := make([]bulk.Item, len(pos))
		for i, p := range pos {
			items[i] = letters[p].item()
		}
		results, err := s.WriteItems(ctx, table, items, ItemOptions{NoDeadLetter: true})
		if err != nil {
			return res, fmt.Errorf("replay %s: %w", table, err)
		}
		var dead []deadItem
		var deadLetters []DeadLetter
		for i, r := range results {
			d := letters[pos[i]]
			switch r.Outcome {
			case ItemSuperseded:
				res.Superseded = append(res.Superseded, d)
			case ItemFailed:
				// OpenSearch checks the mapping before the version: a letter
				// whose item has changed since may be refused (400) rather
				// than answered 409. When the index holds its version or a
				// newer one, it is superseded all the same.
				if s.holdsVersion(ctx, items[i]) {
					s.met.superseded.WithLabelValues(table).Inc()
					res.Superseded = append(res.Superseded, d)
					continue
				}
				e, err := bulk.Encode([]bulk.Item{items[i]})
				if err != nil {
					return res, fmt.Errorf("replay %s: %w", table, err)
				}
				dead = append(dead, deadItem{entry: e[0], status: r.Status, typ: r.Type, reason: r.Reason})
				deadLetters = append(deadLetters, d)
			}
		}
		if len(dead) > 0 {
			if s.dlq == nil {
				return res, fmt.Errorf("replay %s: %d letters refused again and no dead-letter file to keep them", table, len(dead))
			}
			if _, err := s.dlq.write(ctx, dead, time.Now()); err != nil {
				return res, fmt.Errorf("replay %s: %d letters refused again, not kept: %w", table, len(dead), err)
			}
			s.met.deadLettered.WithLabelValues(table).Add(float64(len(dead)))
			res.Failed = append(res.Failed, deadLetters...)
		}
	}
	res.Applied = len(letters) - len(res.Superseded) - len(res.Failed)
	return res, nil
}

// holdsVersion reports whether the index holds it.ID at it.Version or a
// newer external version (a real-time GET). Any doubt — no version, an
// error, a missing document — is false: the letter is kept.
func (s *Sink) holdsVersion(ctx context.Context, it bulk.Item) bool {
	if !it.Versioned() {
		return false
	}
	q := url.Values{"_source": {"false"}}
	if it.Routing != "" {
		q.Set("routing", it.Routing)
	}
	status, body, err := s.do(ctx, http.MethodGet, "/"+url.PathEscape(it.Index)+"/_doc/"+url.PathEscape(it.ID)+"?"+q.Encode(), nil)
	if err != nil || status != http.StatusOK {
		return false
	}
	var r struct {
		Found   bool  `json:"found"`
		Version int64 `json:"_version"`
	}
	if json.Unmarshal(body, &r) != nil || !r.Found {
		return false
	}
	return r.Version >= it.Version
}
