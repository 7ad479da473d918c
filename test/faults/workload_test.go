//go:build integration

package faults

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// The suite's writes are the hostile workload of test/e2e/workload, unshaped: every DynamoDB
// type at its edges, numbers integral in some writers and fractional in others on a fresh index,
// separator / long / "sha256:" keys, hot keys changed many times a second, deletes and
// re-inserts.

// writers is how many concurrent writers a scenario's workload runs; each pauses writers×pace
// between steps, so the suite's rate stays what one writer at pace wrote before.
const writers = 4

// workload returns a new hostile workload over keys keys; each gets a seed of its own,
// derived from the scenario's.
func (s *scenario) workload(keys int, pace time.Duration) *workload.Workload {
	n := s.wlRuns.Add(1)
	return s.Workload(workload.Config{Seed: s.seedN + uint64(n)*0x9e3779b97f4a7c15, Writers: writers, Keys: keys, Pace: pace * writers, Pad: s.pad})
}

// load writes count hostile items and every special key with BatchWriteItem (a table for a
// backfill to read).
func (s *scenario) load(count int) {
	s.t.Helper()
	start := time.Now()
	w := s.workload(count, time.Millisecond)
	if err := w.Load(s.ctx, count); err != nil {
		s.t.Fatalf("load %s: %v", s.table, err)
	}
	s.written.Add(w.Written())
	s.t.Logf("%s: loaded %d items in %s", s.name, w.Written(), time.Since(start).Round(time.Millisecond))
}

// writer is the workload running in the background.
type writer struct {
	s   *scenario
	w   *workload.Workload
	run *workload.Running
}

// startWrites runs the workload over keys keys (new ones get inserted) until stopWrites.
func (s *scenario) startWrites(keys int, pace time.Duration) *writer {
	w := s.workload(keys, pace)
	wr := &writer{s: s, w: w, run: s.StartWorkload(w)}
	s.active = append(s.active, wr)
	return wr
}

// stopWrites stops the workload and fails the scenario if a write failed.
func (w *writer) stopWrites() {
	w.s.t.Helper()
	if w.run == nil {
		return
	}
	err := w.run.Stop()
	w.run = nil
	w.s.written.Add(w.w.Written())
	w.w = nil
	if err != nil {
		w.s.t.Fatalf("workload: %v", err)
	}
}

// writeFor runs the workload for d and stops it (for scenarios where ddbsync is down).
func (s *scenario) writeFor(keys int, pace, d time.Duration) {
	s.t.Helper()
	w := s.startWrites(keys, pace)
	s.sleep(d)
	w.stopWrites()
}

// deleteItems deletes up to n items of the table (their documents become orphans when
// ddbsync is down and the stream is lost) and returns how many.
func (s *scenario) deleteItems(n int) int {
	s.t.Helper()
	items, err := itemsOf(s)
	if err != nil {
		s.t.Fatal(err)
	}
	w := s.workload(1, time.Millisecond)
	deleted := 0
	for _, item := range items {
		if deleted == n {
			break
		}
		k := workload.Key{Attrs: map[string]types.AttributeValue{s.key.Partition: item[s.key.Partition]}}
		if s.key.Sort != "" {
			k.Attrs[s.key.Sort] = item[s.key.Sort]
		}
		if err := w.Delete(s.ctx, k); err != nil {
			s.t.Fatal(fmt.Errorf("delete an item of %s: %w", s.table, err))
		}
		deleted++
	}
	s.written.Add(w.Written())
	return deleted
}
