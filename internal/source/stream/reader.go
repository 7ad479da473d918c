package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// callTimeout bounds one DynamoDB Streams call: a stalled connection is
// abandoned and the call retried instead of hanging the shard.
const callTimeout = 30 * time.Second

// recordsPerCall is GetRecords' maximum Limit.
const recordsPerCall = 1000

// readShard reads one shard from p to its end, handing each page's events
// to h (with the work context, which outlives a stop request by Grace) and
// saving progress after h returns nil. It returns nil when the shard is
// drained and completed, or when ctx ends (a stop, or the shard's lease was
// lost: then context.Cause(ctx) is checkpoint.ErrLeaseLost).
func (s *Source) readShard(ctx, work context.Context, sh shardInfo, p checkpoint.Progress, from int64, h Handler) error {
	key := s.table.shardKey(sh.ID)
	log := s.log.With("shard", sh.ID)
	// The coordinator took the lease (ctx ends when it is lost); it is
	// released right after the last acknowledged batch.
	defer s.store.Release(context.WithoutCancel(ctx), key)
	defer s.trackFloor(key)()
	s.opts.Progress.ShardStarted(s.table.Name, sh.ID)
	log.Info("reading shard", "parent", sh.Parent, "after_seq", p.Sequence, "clock_second", p.Clock.Second, "clock_count", p.Clock.Count)

	clock := p.Clock
	delay := time.Duration(0)
	var last time.Time
	var trim trimState
	it := "" // "" = take a fresh iterator from the checkpoint first
	for {
		if it == "" {
			trim.took()
			var err error
			it, err = s.iterator(ctx, sh.ID, p.Sequence)
			if err != nil && classify(err) == classTrimmed {
				done, err := s.onTrimmed(ctx, sh, p, from, &trim, err, log)
				if done {
					return s.completeTrimmed(work, key, p)
				}
				if err != nil {
					return stopped(ctx, err)
				}
				continue
			}
			if err != nil {
				return stopped(ctx, err)
			}
		}
		if err := s.opts.wait(ctx, delay-s.opts.Now().Sub(last)); err != nil {
			return nil
		}
		last = s.opts.Now()
		if err := s.applyFloor(ctx, work, key, &p, &clock); err != nil {
			return stopped(ctx, err)
		}
		s.m.GetRecords.WithLabelValues(s.table.Name).Inc()
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		out, err := s.api.GetRecords(cctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(recordsPerCall)})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			switch classify(err) {
			case classExpired:
				log.Info("shard iterator expired; refreshing", "after_seq", p.Sequence)
				it = ""
				continue
			case classRetry:
				delay = retry.Backoff(3, s.opts.PollMin, 10*time.Second)
				log.Warn("get records failed; retrying", "wait", delay, "err", err)
				continue
			case classTrimmed:
				// Never "done" on this answer alone (DESIGN §2.9): read
				// again from the checkpoint until it reads or proof shows
				// the records are gone.
				it = ""
				done, err := s.onTrimmed(ctx, sh, p, from, &trim, err, log)
				if done {
					return s.completeTrimmed(work, key, p)
				}
				if err != nil {
					return stopped(ctx, err)
				}
				continue
			case classMissing:
				s.m.Gaps.WithLabelValues(s.table.Name, "shard_missing").Inc()
				return &GapError{Table: s.table.Name, Shard: sh.ID, Reason: "shard no longer exists", Err: err}
			default:
				return fmt.Errorf("get records on table %s shard %s: %w", s.table.Name, sh.ID, err)
			}
		}
		trim.readOK()
		events, err := s.events(out.Records, from, &clock)
		if err != nil {
			return fmt.Errorf("table %s shard %s: %w", s.table.Name, sh.ID, err)
		}
		if len(events) > 0 {
			s.health.Pending(key)
			err := h(work, events)
			s.health.Acked(key)
			if err != nil && ctx.Err() != nil {
				// Stopped while the sink was still failing: nothing is lost,
				// the batch is read again at the next start.
				log.Warn("stopped before the sink acknowledged a batch; it will be read again at the next start", "events", len(events), "after_seq", p.Sequence, "err", err)
				return nil
			}
			if err != nil {
				return fmt.Errorf("write %d events of table %s shard %s (up to seq %s): %w", len(events), s.table.Name, sh.ID, events[len(events)-1].Sequence, err)
			}
		}
		if n := len(out.Records); n > 0 {
			lastRec := out.Records[n-1]
			p.Sequence = aws.ToString(lastRec.Dynamodb.SequenceNumber)
			p.Clock = clock
			if err := s.store.Save(work, key, p); err != nil {
				return err
			}
			s.m.RecordsRead.WithLabelValues(s.table.Name).Add(float64(n))
			s.m.ShardLag.WithLabelValues(s.table.Name, sh.ID).Set(s.opts.Now().Sub(createdAt(lastRec)).Seconds())
			log.Debug("acknowledged", "records", n, "events", len(events), "seq", p.Sequence)
		} else {
			s.m.ShardLag.WithLabelValues(s.table.Name, sh.ID).Set(0)
		}
		delay = s.opts.nextPoll(delay, len(out.Records))
		tip := appliedUpTo(last, out.Records)
		s.opts.Progress.Applied(s.table.Name, sh.ID, tip)
		checkpoint.PublishApplied(s.store, key, tip) // for the other nodes' caught-up answer
		if out.NextShardIterator == nil {
			p.Clock = clock
			if err := s.store.Complete(work, key, p); err != nil {
				return err
			}
			s.opts.Progress.ShardDone(s.table.Name, sh.ID)
			s.m.ShardLag.DeleteLabelValues(s.table.Name, sh.ID)
			log.Info("shard drained", "last_seq", p.Sequence)
			return nil
		}
		it = aws.ToString(out.NextShardIterator)
	}
}

// events converts a page of records, skipping those before the cutoff and
// kept TTL deletes, and assigns versions from the lineage clock.
func (s *Source) events(records []types.Record, from int64, clock *change.Clock) ([]change.Event, error) {
	events := make([]change.Event, 0, len(records))
	for _, r := range records {
		created := createdAt(r)
		if created.Unix() < from {
			s.m.RecordsSkipped.WithLabelValues(s.table.Name, "before_cutoff").Inc()
			continue
		}
		ev, err := s.table.toEvent(r)
		if err != nil {
			return nil, fmt.Errorf("record seq %s: %w", aws.ToString(r.Dynamodb.SequenceNumber), err)
		}
		if ev.TTLDelete && s.table.KeepTTLDeletes {
			s.m.RecordsSkipped.WithLabelValues(s.table.Name, "ttl_kept").Inc()
			continue
		}
		ev.Version = change.InGeneration(clock.Next(created), s.table.Generation)
		events = append(events, ev)
	}
	return events, nil
}

// iterator returns a shard iterator after seq, or at TRIM_HORIZON when the
// shard has no checkpoint yet (records before the cutoff are skipped). A
// TrimmedDataAccessException is returned as is, for onTrimmed to judge.
func (s *Source) iterator(ctx context.Context, shard, seq string) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(s.table.StreamARN), ShardId: aws.String(shard)}
	if seq != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(seq)
	} else {
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	}
	out, err := retryCall(ctx, s, "get shard iterator", func() (*dynamodbstreams.GetShardIteratorOutput, error) {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return s.api.GetShardIterator(cctx, in)
	})
	switch {
	case err == nil:
		return aws.ToString(out.ShardIterator), nil
	case classify(err) == classTrimmed:
		return "", err // the reader decides (onTrimmed)
	case classify(err) == classMissing:
		s.m.Gaps.WithLabelValues(s.table.Name, "shard_missing").Inc()
		return "", &GapError{Table: s.table.Name, Shard: shard, Reason: "shard no longer exists", Err: err}
	default:
		return "", fmt.Errorf("get shard iterator for table %s shard %s: %w", s.table.Name, shard, err)
	}
}

// stopped turns an error caused by a stop request into nil.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// completeTrimmed marks a shard done whose records are proven trimmed and
// all older than the cutoff (onTrimmed): there is nothing to apply.
func (s *Source) completeTrimmed(ctx context.Context, key string, p checkpoint.Progress) error {
	return s.store.Complete(ctx, key, p)
}
