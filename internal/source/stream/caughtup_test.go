package stream

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/metrics"
)

// TestCaughtUpThroughLineage: once the readers report caught up to a moment
// taken after the writes, every record of the lineage (parent, then child)
// has been handed to the handler.
func TestCaughtUpThroughLineage(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "child", parent: "parent"}, {id: "parent", closed: true}}}
	f.put("parent", "INSERT", "a", "1", 100)
	f.put("parent", "MODIFY", "a", "2", 100)
	f.put("child", "MODIFY", "a", "3", 101)
	f.put("child", "INSERT", "b", "1", 101)
	store := memStore(t)
	prog := metrics.NewProgress(time.Now)
	at := time.Now()
	table := Table{Name: "t", StreamARN: "arn:stream"}
	caughtUp := func() bool {
		listed, err := Listing(context.Background(), f, store, table, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ok, _ := prog.CaughtUp("t", at, listed)
		return ok
	}
	if caughtUp() {
		t.Fatal("caught up before the stream started")
	}
	src := newTestSource(t, f, store, "TRIM_HORIZON")
	src.opts.Progress = prog
	rec := &recorder{}
	var seen int
	err := runUntil(t, src, rec.write, func() bool {
		if caughtUp() {
			seen = len(rec.snapshot())
			return true
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 4 {
		t.Fatalf("caught up with %d of 4 events applied", seen)
	}
	listed, _ := Listing(context.Background(), f, store, table, slog.New(slog.DiscardHandler))
	if len(listed) != 2 || !(listed[0].Complete || listed[1].Complete) {
		t.Fatalf("listing %+v: the parent should be complete", listed)
	}
}

func TestAppliedUpTo(t *testing.T) {
	start := time.Unix(500, 0)
	if got := appliedUpTo(start, nil); !got.Equal(start) {
		t.Errorf("empty page: %v, want the call's start", got)
	}
	recs := []types.Record{
		{Dynamodb: &types.StreamRecord{ApproximateCreationDateTime: aws.Time(time.Unix(100, 0))}},
		{Dynamodb: &types.StreamRecord{ApproximateCreationDateTime: aws.Time(time.Unix(120, 0))}},
	}
	if got := appliedUpTo(start, recs); !got.Equal(time.Unix(120, 0)) {
		t.Errorf("page: %v, want the last record's creation time", got)
	}
}
