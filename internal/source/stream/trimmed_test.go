package stream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// TestDecideTrimmed pins when a TrimmedDataAccessException proves that
// records after the checkpoint are gone (DESIGN §2.9); anything else is
// read again with a fresh iterator.
func TestDecideTrimmed(t *testing.T) {
	const bound = 5 * time.Minute
	tests := []struct {
		name string
		e    trimEvidence
		want trimVerdict
	}{
		{"first answer on an iterator, no checkpoint (Local's empty shard)",
			trimEvidence{Listed: true, Start: "100"}, trimRetry},
		{"first answer, checkpoint inside the shard",
			trimEvidence{Checkpoint: "150", Listed: true, Start: "100"}, trimRetry},
		{"first answer on a closed shard: the iterator may be stale",
			trimEvidence{Listed: true, Start: "100", ClosedBefore: false}, trimRetry},
		{"fresh iterator on an open shard, within the bound",
			trimEvidence{Listed: true, Start: "100", Fresh: true, Failing: bound - time.Second}, trimRetry},
		{"fresh iterator with checkpoint on an open shard, within the bound",
			trimEvidence{Checkpoint: "150", Listed: true, Start: "100", Fresh: true, Failing: time.Minute}, trimRetry},
		{"fresh iterators past the bound",
			trimEvidence{Listed: true, Start: "100", Fresh: true, Failing: bound}, trimGone},
		{"fresh iterators past the bound, with checkpoint",
			trimEvidence{Checkpoint: "150", Listed: true, Start: "100", Fresh: true, Failing: bound + time.Minute}, trimGone},
		{"stale iterator past the bound proves nothing",
			trimEvidence{Listed: true, Start: "100", Failing: bound + time.Minute}, trimRetry},
		{"fresh iterator on a shard closed before it was taken",
			trimEvidence{Checkpoint: "150", Listed: true, Start: "100", Fresh: true, ClosedBefore: true}, trimGone},
		{"range now starts after the checkpoint",
			trimEvidence{Checkpoint: "150", Listed: true, Start: "151"}, trimGone},
		{"range starts after the checkpoint, compared as big integers",
			trimEvidence{Checkpoint: "99999999999999999999", Listed: true, Start: "100000000000000000000"}, trimGone},
		{"range start below the checkpoint as integers (greater as strings)",
			trimEvidence{Checkpoint: "10", Listed: true, Start: "9"}, trimRetry},
		{"range start equal to the checkpoint",
			trimEvidence{Checkpoint: "000000000000000000150", Listed: true, Start: "000000000000000000150"}, trimRetry},
		{"range start without a checkpoint proves nothing",
			trimEvidence{Listed: true, Start: "999"}, trimRetry},
		{"shard gone from the listing",
			trimEvidence{Checkpoint: "150"}, trimGone},
		{"shard gone from the listing, no checkpoint",
			trimEvidence{}, trimGone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, proof := decideTrimmed(tc.e, bound)
			if got != tc.want {
				t.Fatalf("decideTrimmed(%+v) = %v (%q), want %v", tc.e, got, proof, tc.want)
			}
			if (got == trimGone) != (proof != "") {
				t.Fatalf("verdict %v with proof %q", got, proof)
			}
		})
	}
}

// TestTrimmedScenarios runs the reader against a fake stream for each
// trimmed-data situation: a false answer is read through, proof is a gap.
func TestTrimmedScenarios(t *testing.T) {
	type outcome uint8
	const (
		delivers outcome = iota // every record applied, no gap
		gap                     // *GapError
	)
	tests := []struct {
		name   string
		setup  func(f *fakeStreams, store checkpoint.Store)
		cutoff int64
		bound  time.Duration
		want   outcome
		// afterSeq: the fresh iterators continue after the checkpoint.
		afterSeq bool
	}{
		{name: "Local empty shard, fresh table, no checkpoint, no backfill",
			setup: func(f *fakeStreams, _ checkpoint.Store) { f.localEmpty = true }, want: delivers},
		{name: "Local empty shard, with a backfill cutoff",
			setup: func(f *fakeStreams, _ checkpoint.Store) { f.localEmpty = true }, cutoff: 10, want: delivers},
		{name: "trimmed on GetShardIterator a few times, no checkpoint",
			setup: func(f *fakeStreams, _ checkpoint.Store) { f.trimIter = map[string]int{"s1": 3} }, want: delivers},
		{name: "trimmed on GetRecords a few times, with checkpoint",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				f.trimReads = map[string]int{"s1": 3}
				seedCheckpoint(t, f, st)
			}, want: delivers, afterSeq: true},
		{name: "trimmed on GetShardIterator a few times, with checkpoint",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				f.trimIter = map[string]int{"s1": 3}
				seedCheckpoint(t, f, st)
			}, want: delivers, afterSeq: true},
		{name: "range starts after the checkpoint: gap at once",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				f.trimReads = map[string]int{"s1": 1000}
				seedCheckpoint(t, f, st)
				f.start = map[string]string{"s1": "900000000000000000000"}
			}, bound: time.Hour, want: gap},
		{name: "shard gone from the listing while not drained: gap at once",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				seedCheckpoint(t, f, st)
				f.trimReads = map[string]int{"s1": 1000}
				f.unlistOnTrim = map[string]bool{"s1": true}
			}, bound: time.Hour, want: gap},
		{name: "open shard, fresh iterators fail past the bound",
			setup: func(f *fakeStreams, _ checkpoint.Store) { f.trimmed = map[string]bool{"s1": true} },
			bound: 50 * time.Millisecond, want: gap},
		{name: "open shard with checkpoint, fresh iterators fail past the bound",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				seedCheckpoint(t, f, st)
				f.trimmed = map[string]bool{"s1": true}
			}, bound: 50 * time.Millisecond, want: gap},
		{name: "open shard with checkpoint, past the bound even with a cutoff",
			setup: func(f *fakeStreams, st checkpoint.Store) {
				seedCheckpoint(t, f, st)
				f.trimmed = map[string]bool{"s1": true}
			}, cutoff: 10, bound: 50 * time.Millisecond, want: gap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
			store := memStore(t)
			tc.setup(f, store)
			s := newTestSource(t, f, store, "TRIM_HORIZON")
			s.table.Cutoff = tc.cutoff
			s.opts.Now = movingClock(1000)
			if tc.bound > 0 {
				s.opts.TrimmedBound = tc.bound
			}
			rec := &recorder{}
			if tc.want == gap {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := s.Run(ctx, rec.write)
				var g *GapError
				if !errors.As(err, &g) || g.Shard != "s1" {
					t.Fatalf("Run = %v, want a gap on s1", err)
				}
				if p, _, _ := store.Get(context.Background(), "stream/t/shard/s1"); p.Done {
					t.Fatal("a shard with a gap was marked done")
				}
				return
			}
			// Records arrive after the reader started on the empty shard.
			go func() {
				if f.localEmpty {
					<-f.emptyIterTaken("s1") // the reader holds an iterator of the empty shard
				} else {
					time.Sleep(20 * time.Millisecond)
				}
				f.put("s1", "INSERT", "a", "1", 100)
				f.put("s1", "MODIFY", "a", "2", 100)
				f.put("s1", "INSERT", "b", "1", 101)
			}()
			err := runUntil(t, s, rec.write, func() bool { return len(rec.snapshot()) == 3 })
			if err != nil {
				t.Fatalf("Run = %v, want every record applied", err)
			}
			if f.trimmedAnswers() == 0 {
				t.Fatal("the fake never answered TrimmedDataAccessException: the scenario tested nothing")
			}
			if p, _, _ := store.Get(context.Background(), "stream/t/shard/s1"); p.Done {
				t.Fatal("an open shard was marked done")
			}
			if tc.afterSeq {
				f.mu.Lock()
				calls := append([]string(nil), f.calls...)
				f.mu.Unlock()
				for _, c := range calls {
					if !strings.HasPrefix(c, "s1 AFTER_SEQUENCE_NUMBER 1") {
						t.Fatalf("with a checkpoint, iterator %q: want AFTER_SEQUENCE_NUMBER of the checkpoint", c)
					}
				}
			}
		})
	}
}

// seedCheckpoint acknowledges one record of s1 (older than every cutoff
// used here), as an earlier run would have.
func seedCheckpoint(t *testing.T, f *fakeStreams, st checkpoint.Store) {
	t.Helper()
	f.put("s1", "INSERT", "old", "0", 5)
	seq := *f.shard("s1").records[0].Dynamodb.SequenceNumber
	ctx := context.Background()
	if err := st.Save(ctx, "stream/t/meta", checkpoint.Progress{Meta: map[string]string{"stream_arn": "arn:stream", "from": "0"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, "stream/t/shard/s1", checkpoint.Progress{Sequence: seq}); err != nil {
		t.Fatal(err)
	}
}

// TestLocalEmptyChildShardsAreRead: the rollover case of issue 8: child
// shards taken while empty are not skipped as trimmed after a backfill;
// every record of every child is applied in lineage order.
func TestLocalEmptyChildShardsAreRead(t *testing.T) {
	f := &fakeStreams{localEmpty: true, shards: []*fakeShard{{id: "s1", closed: true}, {id: "s2", parent: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 100)
	store := memStore(t)
	s := newTestSource(t, f, store, "LATEST")
	s.table.Cutoff = 50
	s.opts.Now = movingClock(1000)
	s.opts.TrimmedBound = time.Hour // the false answer must clear on its own
	rec := &recorder{}
	go func() {
		<-f.emptyIterTaken("s2") // s2 is being polled while empty
		f.put("s2", "MODIFY", "a", "2", 101)
		f.put("s2", "INSERT", "b", "1", 101)
	}()
	if err := runUntil(t, s, rec.write, func() bool { return len(rec.snapshot()) == 3 }); err != nil {
		t.Fatalf("Run = %v", err)
	}
	got := rec.snapshot()
	if got[0].ID != "a" || got[1].ID != "a" || got[2].ID != "b" || got[1].Version <= got[0].Version {
		t.Fatalf("events %+v", got)
	}
	if f.trimmedAnswers() == 0 {
		t.Fatal("the fake never answered TrimmedDataAccessException")
	}
}

// movingClock is a clock that starts at unix second sec and runs.
func movingClock(sec int64) func() time.Time {
	start := time.Now()
	return func() time.Time { return time.Unix(sec, 0).Add(time.Since(start)) }
}
