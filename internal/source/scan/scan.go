// Package scan backfills a table with a parallel Scan: one reader per
// segment, each resumable from the LastEvaluatedKey saved after the sink
// acknowledged the page before it. It serves tables without PITR and
// DynamoDB Local.
package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// API is the DynamoDB call the scan needs.
type API interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Options configure one table's scan.
type Options struct {
	Segments  int
	PageSize  int
	RateLimit float64 // items per second over all segments; 0 = unlimited
	Now       func() time.Time
	// LeaseRecheck is how often a segment held by another node is tried
	// again (default 2s).
	LeaseRecheck time.Duration
}

// Scanner backfills one table.
type Scanner struct {
	api   API
	store checkpoint.Store
	log   *slog.Logger
	table backfill.Table
	opts  Options
	// Progress counts items acknowledged (for progress reports).
	Progress func(items int)
}

// New returns a Scanner; nothing runs until Run.
func New(api API, store checkpoint.Store, table backfill.Table, log *slog.Logger, opts Options) *Scanner {
	if opts.Segments <= 0 {
		opts.Segments = 4
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LeaseRecheck <= 0 {
		opts.LeaseRecheck = 2 * time.Second
	}
	return &Scanner{api: api, store: store, log: log.With("table", table.Name, "backfill", "scan"), table: table, opts: opts, Progress: func(int) {}}
}

func (s *Scanner) segmentKey(i int) string {
	return "backfill/" + s.table.Name + "/scan/" + strconv.Itoa(i) + "-of-" + strconv.Itoa(s.opts.Segments)
}

// Run scans every segment to its end and returns the stream cutoff second.
// A finished backfill is not repeated on restart.
func (s *Scanner) Run(ctx context.Context, h backfill.Handler) (int64, error) {
	metaKey := backfill.MetaKey(s.table.Name)
	meta, found, err := s.store.Get(ctx, metaKey)
	if err != nil {
		return 0, err
	}
	var at time.Time
	if found {
		if at, err = backfill.TimeOf(meta); err != nil {
			return 0, fmt.Errorf("%s: %w", metaKey, err)
		}
		if meta.Done {
			s.log.Info("backfill already complete", "time", at.UTC())
			return s.table.Cutoff(at), nil
		}
		s.log.Info("resuming scan backfill", "time", at.UTC())
	} else {
		// The scan's version time is the host clock at start; the overlap
		// absorbs skew between this host and AWS (DESIGN §2.3). One time
		// for every node: the first to record it wins.
		at = s.opts.Now().Truncate(time.Second)
		meta = checkpoint.Progress{Meta: map[string]string{backfill.MetaKind: "scan", backfill.MetaTime: strconv.FormatInt(at.Unix(), 10)}}
		var created bool
		meta, created, err = s.store.Create(ctx, metaKey, meta)
		if err != nil {
			return 0, err
		}
		if at, err = backfill.TimeOf(meta); err != nil {
			return 0, fmt.Errorf("%s: %w", metaKey, err)
		}
		if created {
			s.log.Info("starting scan backfill", "segments", s.opts.Segments, "time", at.UTC())
		} else {
			s.log.Info("joining scan backfill started by another node", "time", at.UTC())
		}
	}
	var limiter *rate.Limiter
	if s.opts.RateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(s.opts.RateLimit), max(int(s.opts.RateLimit), s.opts.PageSize))
	}
	segments := make([]int, s.opts.Segments)
	for i := range segments {
		segments[i] = i
	}
	err = backfill.EachPartition(ctx, s.log, segments, len(segments), s.opts.LeaseRecheck, func(ctx context.Context, i int) error {
		return s.segment(ctx, i, at, limiter, h)
	})
	if err != nil {
		return 0, err
	}
	if err := backfill.Finish(ctx, s.store, metaKey, meta); err != nil {
		return 0, err
	}
	s.log.Info("scan backfill complete")
	return s.table.Cutoff(at), nil
}

// segment scans one segment from its checkpoint to its end. It fails with
// checkpoint.ErrLeaseHeld or ErrLeaseLost when another node scans it.
func (s *Scanner) segment(ctx context.Context, i int, at time.Time, limiter *rate.Limiter, h backfill.Handler) (err error) {
	key := s.segmentKey(i)
	lctx, p, _, err := s.store.Acquire(ctx, key)
	if err != nil {
		return err
	}
	defer s.store.Release(context.WithoutCancel(ctx), key)
	defer func() {
		if err != nil && errors.Is(context.Cause(lctx), checkpoint.ErrLeaseLost) {
			err = fmt.Errorf("%w: %v", checkpoint.ErrLeaseLost, err)
		}
	}()
	ctx = lctx
	if p.Done {
		return nil
	}
	var start map[string]types.AttributeValue
	if len(p.LastKey) > 0 {
		if start, err = ddbjson.DecodeItem(p.LastKey); err != nil {
			return fmt.Errorf("%s: bad saved key: %w", key, err)
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, p.LastKey)
		s.log.Info("resuming segment", "segment", i, "after_key", compact.String())
	}
	for {
		if limiter != nil {
			if err := limiter.WaitN(ctx, min(s.opts.PageSize, limiter.Burst())); err != nil {
				return err
			}
		}
		in := &dynamodb.ScanInput{
			TableName: aws.String(s.table.Name), Segment: aws.Int32(int32(i)), TotalSegments: aws.Int32(int32(s.opts.Segments)),
			Limit: aws.Int32(int32(s.opts.PageSize)), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		}
		out, err := retry.Do(ctx, s.log, "scan", func() (*dynamodb.ScanOutput, error) { return s.api.Scan(ctx, in) })
		if err != nil {
			return fmt.Errorf("scan table %s segment %d: %w", s.table.Name, i, err)
		}
		events := make([]change.Event, 0, len(out.Items))
		for _, item := range out.Items {
			ev, err := s.table.Event(item, at)
			if err != nil {
				return fmt.Errorf("scan table %s segment %d: %w", s.table.Name, i, err)
			}
			events = append(events, ev)
		}
		if len(events) > 0 {
			if err := h(ctx, events); err != nil {
				return fmt.Errorf("write scan page of table %s segment %d: %w", s.table.Name, i, err)
			}
			s.Progress(len(events))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return s.store.Complete(ctx, key, checkpoint.Progress{})
		}
		if p.LastKey, err = ddbjson.MarshalItem(out.LastEvaluatedKey); err != nil {
			return err
		}
		if err := s.store.Save(ctx, key, p); err != nil {
			return err
		}
		start = out.LastEvaluatedKey
	}
}
