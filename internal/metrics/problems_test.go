package metrics

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProblemsTap(t *testing.T) {
	var buf bytes.Buffer
	p := &Problems{}
	log := slog.New(p.Tap(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})))
	log.With("table", "orders").Warn("bulk retry", "err", errors.New("429"))
	log.Info("ignored", "table", "orders")
	log.Error("no table here")
	log.Error("stream failed", "table", "users", "err", "boom")

	got, ok := p.Last("orders")
	if !ok || got.Msg != "bulk retry" || got.Err != "429" || got.Level != "WARN" {
		t.Errorf("orders: %+v %v", got, ok)
	}
	if got, ok := p.Last("users"); !ok || got.Err != "boom" {
		t.Errorf("users: %+v %v", got, ok)
	}
	// The wrapped handler's own level still decides what is printed.
	if strings.Contains(buf.String(), "bulk retry") || !strings.Contains(buf.String(), "stream failed") {
		t.Errorf("printed:\n%s", buf.String())
	}
}

func TestSnapshot(t *testing.T) {
	now := time.Unix(1000, 0)
	p := NewProgress(func() time.Time { return now })
	p.Phase("t", PhaseBackfill)
	p.Backfill("t", "export", 5, 10)
	s := p.Snapshot()
	if len(s) != 1 || s[0].LagSec != nil || s[0].Backfill.Done != 5 || s[0].Backfill.Total != 10 {
		t.Fatalf("backfill snapshot: %+v", s)
	}
	p.Phase("t", PhaseStream)
	p.ShardStarted("t", "s1")
	p.Applied("t", "s1", now.Add(-3*time.Second))
	p.ShardStarted("t", "s0")
	p.ShardDone("t", "s0")
	s = p.Snapshot()
	if len(s[0].Shards) != 2 || s[0].Shards[0].Shard != "s0" || s[0].Shards[0].LagSec != nil || *s[0].Shards[1].LagSec != 3 || *s[0].LagSec != 3 {
		t.Fatalf("stream snapshot: %+v", s[0])
	}
}
