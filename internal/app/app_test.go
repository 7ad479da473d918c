package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

type recSink struct {
	got   int
	fail  error
	close int
}

func (r *recSink) Write(_ context.Context, evs []change.Event) error {
	if r.fail != nil {
		return r.fail
	}
	r.got += len(evs)
	return nil
}

func (r *recSink) Close() error { r.close++; return nil }

// TestFanoutAcksOnlyWhenEverySinkAccepted: a batch is acknowledged only
// when all sinks of the pipeline took it.
func TestFanoutAcksOnlyWhenEverySinkAccepted(t *testing.T) {
	ok, bad := &recSink{}, &recSink{fail: errors.New("down")}
	f := fanout{ok, bad}
	if err := f.Write(context.Background(), []change.Event{{ID: "a"}}); err == nil {
		t.Fatal("fanout acknowledged a batch a sink refused")
	}
	bad.fail = nil
	if err := f.Write(context.Background(), []change.Event{{ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if ok.got != 2 || bad.got != 1 {
		t.Fatalf("writes: %d, %d", ok.got, bad.got)
	}
	if err := f.Close(); err != nil || ok.close != 1 || bad.close != 1 {
		t.Fatalf("close: %v", err)
	}
}

func TestStallAfter(t *testing.T) {
	tests := []struct {
		name string
		ts   []time.Duration
		want time.Duration
	}{
		{"default", nil, 10 * time.Minute},
		{"smallest wins", []time.Duration{5 * time.Minute, 2 * time.Minute}, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &config.File{}
			for _, d := range tt.ts {
				f.Pipelines = append(f.Pipelines, &config.Pipeline{Source: config.Source{ShardAcknowledgmentTimeout: d}})
			}
			if got := stallAfter(f); got != tt.want {
				t.Fatalf("stallAfter = %s, want %s", got, tt.want)
			}
		})
	}
}
