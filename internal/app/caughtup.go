package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// visibility says what caught up means for these sinks.
func (c *caughtUp) visibility() string {
	if c.serverless {
		return "applied (OpenSearch Serverless has no refresh API: it makes writes searchable on its own schedule)"
	}
	return "applied and searchable"
}

// anyServerless reports whether a sink of f writes to OpenSearch Serverless.
func anyServerless(f *config.File) bool {
	for _, p := range f.Pipelines {
		for _, s := range p.Sinks {
			if s.OpenSearch != nil && s.OpenSearch.Serverless() {
				return true
			}
		}
	}
	return false
}

// refresher is a sink that can make what it wrote visible to search.
type refresher interface {
	Refresh(ctx context.Context) error
}

// Refresh refreshes every sink that can (OpenSearch: POST _refresh).
func (f fanout) Refresh(ctx context.Context) error {
	for i, s := range f {
		if r, ok := s.(refresher); ok {
			if err := r.Refresh(ctx); err != nil {
				return fmt.Errorf("sink %d: %w", i, err)
			}
		}
	}
	return nil
}

// watchedTable is what the caught-up check needs of one running table.
type watchedTable struct {
	name     string
	streams  stream.API
	stream   *currentStream // nil without a stream block
	store    checkpoint.Store
	sink     refresher
	pipeline string // one sink set per pipeline: refreshed once
	// settle is added to the moment: on AWS a write's stream record may
	// appear a moment after the write returned (0 on DynamoDB Local,
	// which writes it with the item).
	settle time.Duration
}

// awsSettle is watchedTable.settle on AWS.
const awsSettle = time.Second

// caughtUp answers "is every change written to the tables before moment M
// applied and visible to search?" for the metrics server, `ddbsync wait`
// and `run --until-caught-up`. The per-shard rule is metrics.Progress.CaughtUp;
// this adds a fresh stream listing (taken after M) and, once caught up, a
// refresh of the sinks' indices. With a shared state table the answer is
// for the whole table across nodes: the listing carries every shard's
// lease and the moment its reader (on any node) published as applied, and
// the backfill records say whether any node still back-fills. The refresh
// covers the other nodes' writes too: it refreshes the sink's indices,
// not this node's requests, and every write a node acknowledged (and so
// published) is in them.
type caughtUp struct {
	// serverless: a sink writes to OpenSearch Serverless, which has no
	// refresh API and makes writes searchable on its own schedule, so
	// caught up means applied there, not searchable yet.
	serverless bool
	progress   *metrics.Progress
	health     *metrics.Health
	log        *slog.Logger
	poll       time.Duration

	mu      sync.Mutex
	tables  []watchedTable
	started bool // every table is known (start-up finished)
}

// add registers a table during start-up.
func (c *caughtUp) add(t watchedTable) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tables = append(c.tables, t)
}

// start marks the table list complete.
func (c *caughtUp) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
}

// snapshot returns the tables and whether start-up finished.
func (c *caughtUp) snapshot() ([]watchedTable, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]watchedTable(nil), c.tables...), c.started
}

// CaughtUpReport is the JSON answer of GET /caughtup.
type CaughtUpReport struct {
	CaughtUp bool             `json:"caught_up"`
	At       time.Time        `json:"at"`     // the moment asked about
	Waited   string           `json:"waited"` // how long the answer took
	Tables   []TableCaughtUp  `json:"tables"`
	Behind   []metrics.Behind `json:"behind,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// TableCaughtUp is one table's answer.
type TableCaughtUp struct {
	Table    string `json:"table"`
	Phase    string `json:"phase"`
	CaughtUp bool   `json:"caught_up"`
}

// check answers once for the tables named in only (all when empty).
func (c *caughtUp) check(ctx context.Context, at time.Time, only map[string]bool) (CaughtUpReport, error) {
	r := CaughtUpReport{At: at, CaughtUp: true}
	tables, started := c.snapshot()
	if !started {
		r.CaughtUp = false
		r.Behind = []metrics.Behind{{Why: "starting: waiting for the servers and the tables' descriptions"}}
		return r, nil
	}
	for name := range only {
		if !c.has(name) {
			return r, fmt.Errorf("%w: %q (tables: %s)", errUnknownTable, name, strings.Join(c.names(), ", "))
		}
	}
	for _, t := range tables {
		if len(only) > 0 && !only[t.name] {
			continue
		}
		ok, behind, err := c.checkTable(ctx, t, at)
		if err != nil {
			return r, err
		}
		r.Tables = append(r.Tables, TableCaughtUp{Table: t.name, Phase: c.progress.PhaseOf(t.name), CaughtUp: ok})
		r.Behind = append(r.Behind, behind...)
		r.CaughtUp = r.CaughtUp && ok
	}
	return r, nil
}

func (c *caughtUp) checkTable(ctx context.Context, t watchedTable, at time.Time) (bool, []metrics.Behind, error) {
	if gap, ok := c.health.GapFor(t.name); ok {
		return false, []metrics.Behind{{Table: t.name, Why: "stream gap: " + gap}}, nil
	}
	if why, ok := c.health.BlockedFor(t.name); ok {
		// Waiting for a stream (changes meanwhile are not streamed) or stopped.
		return false, []metrics.Behind{{Table: t.name, Why: why}}, nil
	}
	at = at.Add(t.settle)
	if st, ok := t.store.(sharedState); ok {
		// Several nodes: a backfill on any of them is never caught up.
		behind, err := backfillBehind(ctx, st, t.name, time.Now())
		if err != nil || len(behind) > 0 {
			return false, behind, err
		}
	}
	var listed []metrics.ListedShard
	if arn := t.stream.get(); arn != "" && c.progress.PhaseOf(t.name) == metrics.PhaseStream {
		// The shards already read first: a fresh listing (a DescribeStream
		// call) only when they are all past the moment.
		if ok, behind := c.progress.CaughtUp(t.name, at, c.progress.Known(t.name)); !ok {
			return false, behind, nil
		}
		var err error
		listed, err = stream.Listing(ctx, t.streams, t.store, stream.Table{Name: t.name, StreamARN: arn}, c.log)
		if err != nil {
			return false, nil, fmt.Errorf("list shards of table %s: %w", t.name, err)
		}
	}
	ok, behind := c.progress.CaughtUp(t.name, at, listed)
	return ok, behind, nil
}

// wait polls check until caught up or until the deadline, then refreshes
// the sinks of the tables asked about so the changes are searchable.
func (c *caughtUp) wait(ctx context.Context, at time.Time, only map[string]bool, deadline time.Time) (CaughtUpReport, error) {
	start := time.Now()
	for {
		r, err := c.check(ctx, at, only)
		if err != nil {
			return r, err
		}
		if r.CaughtUp {
			if err := c.refresh(ctx, only); err != nil {
				return r, err
			}
			r.Waited = time.Since(start).Round(time.Millisecond).String()
			return r, nil
		}
		if !time.Now().Add(c.poll).Before(deadline) {
			r.Waited = time.Since(start).Round(time.Millisecond).String()
			return r, nil
		}
		t := time.NewTimer(c.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, ctx.Err()
		case <-t.C:
		}
	}
}

// refresh refreshes each distinct sink of the tables asked about once.
func (c *caughtUp) refresh(ctx context.Context, only map[string]bool) error {
	done := map[string]bool{}
	tables, _ := c.snapshot()
	for _, t := range tables {
		if len(only) > 0 && !only[t.name] || t.sink == nil || done[t.pipeline] {
			continue
		}
		done[t.pipeline] = true
		if err := t.sink.Refresh(ctx); err != nil {
			return fmt.Errorf("refresh the indices of table %s: %w", t.name, err)
		}
	}
	return nil
}

// errUnknownTable: the request names a table this run does not replicate.
var errUnknownTable = errors.New("table is not replicated by this run")

// maxCaughtUpTimeout bounds ?timeout= of one request.
const maxCaughtUpTimeout = 30 * time.Minute

// ServeHTTP answers GET /caughtup[?table=a,b][&timeout=30s][&at=RFC3339 or unix ms]:
// 200 with caught_up true, or 503 with what is still behind when the
// timeout (default 0: answer at once) passes first.
func (c *caughtUp) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	at := time.Now()
	if s := q.Get("at"); s != "" {
		var err error
		if at, err = parseMoment(s); err != nil {
			metrics.WriteJSON(w, http.StatusBadRequest, CaughtUpReport{Error: err.Error()})
			return
		}
	}
	var timeout time.Duration
	if s := q.Get("timeout"); s != "" {
		var err error
		if timeout, err = time.ParseDuration(s); err != nil || timeout < 0 || timeout > maxCaughtUpTimeout {
			metrics.WriteJSON(w, http.StatusBadRequest, CaughtUpReport{Error: fmt.Sprintf("timeout %q: want a duration from 0 to %s", s, maxCaughtUpTimeout)})
			return
		}
	}
	only := map[string]bool{}
	for _, name := range strings.Split(q.Get("table"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			only[name] = true
		}
	}
	r, err := c.wait(req.Context(), at, only, time.Now().Add(timeout))
	switch {
	case errors.Is(err, context.Canceled):
		return
	case errors.Is(err, errUnknownTable):
		r.CaughtUp, r.Error = false, err.Error()
		metrics.WriteJSON(w, http.StatusNotFound, r)
	case err != nil:
		r.CaughtUp, r.Error = false, err.Error()
		metrics.WriteJSON(w, http.StatusServiceUnavailable, r)
	case r.CaughtUp:
		metrics.WriteJSON(w, http.StatusOK, r)
	default:
		metrics.WriteJSON(w, http.StatusServiceUnavailable, r)
	}
}

func (c *caughtUp) has(name string) bool {
	tables, _ := c.snapshot()
	for _, t := range tables {
		if t.name == name {
			return true
		}
	}
	return false
}

func (c *caughtUp) names() []string {
	tables, _ := c.snapshot()
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t.name
	}
	return out
}

// parseMoment reads an RFC 3339 time or Unix milliseconds.
func parseMoment(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("at %q: want RFC 3339 (2006-01-02T15:04:05.999Z) or Unix milliseconds", s)
	}
	return t, nil
}

// untilCaughtUp returns when every table is caught up to moment at (nil),
// or ctx ends (its error). Used by `run --until-caught-up`.
func (c *caughtUp) untilCaughtUp(ctx context.Context, at time.Time) error {
	last := time.Time{}
	for {
		r, err := c.wait(ctx, at, nil, time.Now().Add(30*time.Second))
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && r.CaughtUp {
			c.log.Info("caught up: every change written before the start is "+c.visibility(), "at", at.UTC().Format(time.RFC3339Nano))
			return nil
		}
		if err != nil {
			if serr := retry.Sleep(ctx, c.poll); serr != nil {
				return serr
			}
		}
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			attrs := []any{"at", at.UTC().Format(time.RFC3339Nano)}
			if err != nil {
				attrs = append(attrs, "err", err)
			}
			for _, b := range r.Behind {
				attrs = append(attrs, b.Table+"/"+b.Shard, b.Why)
			}
			c.log.Info("not caught up yet", attrs...)
		}
	}
}
