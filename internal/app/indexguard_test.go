package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// fakeWatch reports an index gap once lost is set.
type fakeWatch struct {
	mu      sync.Mutex
	lost    bool
	fresh   bool
	forgot  int
	checks  int
	failing error
}

func (f *fakeWatch) Observe(string, []change.Event) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fresh
}

func (f *fakeWatch) Check(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if f.failing != nil {
		return f.failing
	}
	if f.lost {
		return &opensearch.IndexGapError{Table: "t", Index: "idx", Concrete: "idx", OldUUID: "u1", NewUUID: "u2"}
	}
	return nil
}

func (f *fakeWatch) Forget(string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgot++
}

type nopSink struct{}

func (nopSink) Write(context.Context, []change.Event) error { return nil }
func (nopSink) Close() error                                { return nil }

func newTestGuard(w *fakeWatch) *indexGuard {
	return &indexGuard{table: "t", watches: []indexWatcher{w}, m: metrics.NewStream(nil),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), every: time.Millisecond}
}

// TestIndexGuardStopsTheRoundWithAGap: a recreated index found by the
// periodic check stops the running round and comes back as the stream gap
// that on_gap handles; the baseline is forgotten for the re-backfill.
func TestIndexGuardStopsTheRoundWithAGap(t *testing.T) {
	w := &fakeWatch{}
	g := newTestGuard(w)
	err := g.around(context.Background(), func(ctx context.Context) error {
		w.mu.Lock()
		w.lost = true
		w.mu.Unlock()
		<-ctx.Done() // a stream runs until stopped
		return nil
	})
	var gap *stream.GapError
	if !errors.As(err, &gap) || gap.Table != "t" || !strings.Contains(err.Error(), "INDEX GAP") {
		t.Fatalf("around = %v, want a stream gap naming the index", err)
	}
	if w.forgot == 0 {
		t.Fatal("the table's baseline was not forgotten")
	}
}

// TestIndexGuardIgnoresFailuresToAsk: OpenSearch not answering the check
// is not a gap; the round ends normally.
func TestIndexGuardIgnoresFailuresToAsk(t *testing.T) {
	w := &fakeWatch{failing: errors.New("connection refused")}
	g := newTestGuard(w)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := g.around(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil }); err != nil {
		t.Fatalf("around = %v, want nil", err)
	}
	if w.checks < 2 {
		t.Fatalf("%d checks, want periodic ones", w.checks)
	}
}

// TestGuardedSinkChecksNewIndexNames: a batch written to a new index name
// is checked before it is acknowledged.
func TestGuardedSinkChecksNewIndexNames(t *testing.T) {
	w := &fakeWatch{fresh: true, lost: true}
	s := newTestGuard(w).guardSink(nopSink{})
	err := s.Write(context.Background(), []change.Event{{Table: "t"}})
	var gap *stream.GapError
	if !errors.As(err, &gap) {
		t.Fatalf("Write = %v, want a gap", err)
	}
	w.failing = errors.New("timeout")
	if err := s.Write(context.Background(), []change.Event{{Table: "t"}}); err != nil {
		t.Fatalf("Write with a failing check = %v, want nil (the periodic check retries)", err)
	}
}
