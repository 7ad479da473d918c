package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/metrics"
)

type countRefresh struct{ n int }

func (c *countRefresh) Refresh(context.Context) error { c.n++; return nil }

// TestCaughtUpEndpoint drives GET /caughtup over tables without a stream
// (their phase decides): answers, status codes, refresh on caught up.
func TestCaughtUpEndpoint(t *testing.T) {
	prog := metrics.NewProgress(time.Now)
	c := &caughtUp{progress: prog, health: metrics.NewHealth(time.Minute, time.Now), log: slog.New(slog.DiscardHandler), poll: 10 * time.Millisecond}
	ref := &countRefresh{}
	get := func(q string) (int, CaughtUpReport) {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/caughtup"+q, nil))
		var r CaughtUpReport
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v: %s", q, err, rec.Body)
		}
		return rec.Code, r
	}
	if code, r := get(""); code != 503 || r.CaughtUp || !strings.Contains(r.Behind[0].Why, "starting") {
		t.Fatalf("before start-up: %d %+v", code, r)
	}
	c.add(watchedTable{name: "a", sink: ref, pipeline: "p"})
	c.add(watchedTable{name: "b", sink: ref, pipeline: "p"})
	c.start()
	prog.Phase("a", metrics.PhaseBackfill)
	prog.Phase("b", metrics.PhaseDone)
	if code, r := get("?timeout=50ms"); code != 503 || r.CaughtUp || len(r.Behind) != 1 || r.Behind[0].Table != "a" {
		t.Fatalf("a in backfill: %d %+v", code, r)
	}
	if ref.n != 0 {
		t.Fatalf("refreshed %d times while not caught up", ref.n)
	}
	if code, r := get("?table=b"); code != 200 || !r.CaughtUp || len(r.Tables) != 1 {
		t.Fatalf("b alone: %d %+v", code, r)
	}
	if ref.n != 1 {
		t.Fatalf("refreshed %d times, want once", ref.n)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		prog.Phase("a", metrics.PhaseDone)
	}()
	if code, r := get("?timeout=5s"); code != 200 || !r.CaughtUp || len(r.Tables) != 2 {
		t.Fatalf("waiting for a: %d %+v", code, r)
	}
	if ref.n != 2 {
		t.Fatalf("one pipeline's sinks refreshed %d times in all, want 2 (once per answer)", ref.n)
	}
	if code, r := get("?table=nope"); code != 404 || !strings.Contains(r.Error, `"nope"`) {
		t.Fatalf("unknown table: %d %+v", code, r)
	}
	if code, _ := get("?timeout=forever"); code != 400 {
		t.Fatalf("bad timeout: %d", code)
	}
	if code, _ := get("?at=yesterday"); code != 400 {
		t.Fatalf("bad moment: %d", code)
	}
	c.health.Gap("b", "stream gap on table b")
	if code, r := get("?table=b"); code != 503 || !strings.Contains(r.Behind[0].Why, "gap") {
		t.Fatalf("gap: %d %+v", code, r)
	}
}
