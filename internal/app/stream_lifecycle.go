package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// A table's stream can change under a running pipeline: it can be disabled
// (and perhaps enabled again, which gives it a new ARN), or the table can be
// deleted (and perhaps created again). The stream phase follows it:
//
//   - the stream whose checkpoints the store keeps is always read first, to
//     its end when it was disabled (its records stay readable for 24 h);
//   - then the table is described again: a new stream is a gap ("stream
//     replaced", both ARNs named), handled by the table's on_gap policy;
//     no stream means waiting, not ready, re-checking the table; a deleted
//     table is waited for (stream.table_deleted_wait) and then stops;
//   - a stream whose view cannot keep the index equal to the table stops
//     the table, saying what to change.

// tableRecheck is how often a table without a usable stream is described again.
const tableRecheck = 5 * time.Second

// TableStoppedError is a condition of one table no retry or restart can
// help (deleted for good, a stream view ddbsync cannot use): that table
// stops, the others go on.
type TableStoppedError struct {
	Table string
	Err   error
}

func (e *TableStoppedError) Error() string {
	return fmt.Sprintf("table %s stopped: %v", e.Table, e.Err)
}
func (e *TableStoppedError) Unwrap() error { return e.Err }

// currentStream is the stream a table's phase reads now (read by the
// caught-up check, which lists its shards).
type currentStream struct {
	mu  sync.Mutex
	arn string
}

func (c *currentStream) set(arn string) {
	c.mu.Lock()
	c.arn = arn
	c.mu.Unlock()
}

// get returns the stream read now ("" before the stream phase).
func (c *currentStream) get() string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arn
}

// streamToFollow returns the stream whose changes follow the backfill about
// to start (or resumed): the recorded one, else the table's current stream
// (waiting while it has none), recorded now so that a restart or another
// node follows the same one. "" means ctx ended first.
func (t *tableRun) streamToFollow(ctx context.Context) (string, error) {
	arn, found, err := stream.Recorded(ctx, t.store, t.info.Name)
	if err != nil || found {
		return arn, err
	}
	if arn, err = t.awaitStream(ctx, ""); err != nil || arn == "" {
		return "", err
	}
	return stream.Follow(ctx, t.store, t.info.Name, arn)
}

// streamPhase reads the stream arn (streamToFollow) until ctx ends (nil),
// the stream is replaced or lost (a *stream.GapError), or the table stops.
func (t *tableRun) streamPhase(ctx context.Context, arn string, cutoff, gen int64) error {
	t.current.set(arn)
	src := stream.New(t.streams, t.store, stream.Table{
		Name: t.info.Name, StreamARN: arn, Key: t.info.Key,
		StartPosition: t.cfg.Stream.StartPosition, ViewOnRemove: t.cfg.Stream.ViewOnRemove,
		KeepTTLDeletes: t.cfg.Stream.TTLDeletes == config.TTLKeep, Cutoff: cutoff, Generation: gen,
		SkipOldImages: t.skipOldImages,
		Floor:         t.floor,
	}, t.log, t.m, t.health, t.streamOpts)
	err := src.Run(ctx, t.sink.Write)
	var ended *stream.EndedError
	var gap *stream.GapError
	switch {
	case errors.As(err, &ended):
		t.log.Warn("the table's stream is disabled and every record it held is applied; checking the table for another stream", "table", t.info.Name, "stream", arn)
	case errors.As(err, &gap) && gap.StreamGone:
		// The recorded stream no longer exists (trimmed 24 h after it was
		// disabled): when the table has another, say so with both ARNs.
		if next, derr := describeTable(ctx, t.describer(), t.cfg, t.local); derr == nil && next.StreamEnabled && next.StreamARN != arn {
			r := t.replaced(arn, next.StreamARN)
			r.Reason += "; the old stream no longer exists, so what it still held after the last checkpoint is lost too"
			r.Err = gap
			return r
		}
		return err
	default:
		return err
	}
	next, err := t.awaitStream(ctx, arn)
	if err != nil || next == "" {
		return err
	}
	return t.replaced(arn, next)
}

// replaced counts and returns the gap of a replaced stream.
func (t *tableRun) replaced(old, next string) *stream.GapError {
	t.m.Gaps.WithLabelValues(t.info.Name, "stream_replaced").Inc()
	return stream.Replaced(t.info.Name, old, next)
}

// awaitStream describes the table until it has an enabled stream other than
// old and returns its ARN ("" when ctx ended first). While it has none the
// table is not ready, with the reason; a table deleted for longer than
// stream.table_deleted_wait, a re-created table with another key schema, or
// a stream view that cannot keep the index equal stop the table.
func (t *tableRun) awaitStream(ctx context.Context, old string) (string, error) {
	recheck := t.recheck
	if recheck == 0 {
		recheck = tableRecheck
	}
	var missingSince time.Time
	waiting := ""
	defer func() {
		if waiting != "" {
			t.health.Unblock(t.info.Name)
		}
	}()
	wait := func(why string) {
		if why != waiting {
			t.log.Warn(why, "table", t.info.Name, "stream", old, "recheck", recheck)
			t.health.Block(t.info.Name, why)
			waiting = why
		}
	}
	for {
		info, err := describeTable(ctx, t.describer(), t.cfg, t.local)
		switch {
		case ctx.Err() != nil:
			return "", nil
		case errors.Is(err, errTableMissing):
			if missingSince.IsZero() {
				missingSince = time.Now()
			}
			if d := time.Since(missingSince); d >= t.cfg.Stream.TableDeletedWait {
				return "", &TableStoppedError{Table: t.info.Name, Err: fmt.Errorf(
					"the table was deleted (its stream %s is fully applied) and was not created again within stream.table_deleted_wait (%s); remove it from the pipeline, or create it again and restart: %w",
					old, t.cfg.Stream.TableDeletedWait, err)}
			}
			wait(fmt.Sprintf("the table was deleted; waiting up to %s (stream.table_deleted_wait) for it to be created again", t.cfg.Stream.TableDeletedWait))
		case err != nil && !retry.Transient(err):
			return "", err
		case err != nil:
			t.log.Warn("describe table failed; retrying", "table", t.info.Name, "err", err)
		case info.StreamEnabled && info.StreamARN != old:
			if info.Key != t.info.Key {
				return "", &TableStoppedError{Table: t.info.Name, Err: fmt.Errorf(
					"the table was created again with another key schema (%s, was %s): its documents' ids would change; replicate it to a new index with a new pipeline", keyNames(info.Key), keyNames(t.info.Key))}
			}
			if err := streamViewProblem(t.pipeline, info); err != nil {
				return "", &TableStoppedError{Table: t.info.Name, Err: fmt.Errorf("its new stream %s cannot be used: %w", info.StreamARN, err)}
			}
			return info.StreamARN, nil
		default:
			missingSince = time.Time{}
			wait("the table's stream is disabled: every record it held is applied; waiting for a stream to be enabled on the table (changes made meanwhile are not streamed)")
		}
		tm := time.NewTimer(recheck)
		select {
		case <-ctx.Done():
			tm.Stop()
			return "", nil
		case <-tm.C:
		}
	}
}

// keyNames names a key schema: "pk" or "pk, sk".
func keyNames(k ddbjson.Key) string {
	if k.Sort == "" {
		return k.Partition
	}
	return k.Partition + ", " + k.Sort
}

// pollMax is the table's idle poll interval (stream.poll_interval).
func pollMax(t config.Table) time.Duration {
	if t.Stream == nil {
		return 0
	}
	return t.Stream.PollInterval
}

// describer is the DescribeTable of the table's account (tables, when set:
// a test's fake).
func (t *tableRun) describer() TableAPI {
	if t.tables != nil {
		return t.tables
	}
	return t.ddb
}
