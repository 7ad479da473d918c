package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/progress"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
	"github.com/ddbsync/ddbsync/internal/source/export"
	"github.com/ddbsync/ddbsync/internal/source/scan"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// tableRun is everything one table's replication needs.
type tableRun struct {
	cfg      config.Table
	info     tableInfo
	ddb      *dynamodb.Client
	streams  *dynamodbstreams.Client
	s3       *s3.Client
	store    checkpoint.Store
	sink     Sink
	log      *slog.Logger
	m        *metrics.Stream
	bm       *metrics.Backfill
	health   *metrics.Health
	local    bool
	stateDir string
	sweeper  Sweeper // nil without an opensearch sink
	floor    *stream.Floor
	// skipOldImages: no sink places documents by non-key attributes, so
	// stream events need not carry old images (see checkStreamView).
	skipOldImages bool
	progress      *metrics.Progress // caught-up tips and phase (nil: not tracked)
	view          ProgressView      // a terminal progress bar (nil: none)

	guard *indexGuard // nil: indices are not watched

	pipeline   *config.Pipeline // the table's pipeline (its sinks decide which stream views work)
	streamOpts stream.Options
	current    *currentStream // the stream read now
	recheck    time.Duration  // how often a table without a usable stream is described (0: tableRecheck)
	tables     TableAPI       // DescribeTable for the stream phase (nil: ddb)
}

// run replicates the table until ctx ends. A stream gap stops it, unless
// the table says `on_gap: rebackfill` and has a backfill: then the table's
// version generation moves (once across the nodes sharing the state, which
// forgets the table's stream and backfill state), the backfill runs again,
// documents whose items are gone are swept, and the stream continues from
// the new backfill time. A node whose stream phase sees another node move
// the generation follows it the same way.
func (t *tableRun) run(ctx context.Context) error {
	sweep := false
	var rebackfills []time.Time
	for {
		gen, err := checkpoint.Generation(ctx, t.store, t.info.Name)
		if err != nil {
			return err
		}
		err = t.guard.around(ctx, func(ctx context.Context) error { return t.runOnce(ctx, gen, sweep) })
		if errors.Is(err, errGenerationMoved) {
			t.log.Warn("another node re-backfills the table after a stream gap; following it", "table", t.info.Name, "from_generation", gen)
			sweep = true
			continue
		}
		var gap *stream.GapError
		if !errors.As(err, &gap) {
			return err
		}
		t.health.Gap(t.info.Name, gap.Error())
		if t.cfg.Stream.OnGap != config.OnGapRebackfill || (t.cfg.Export == nil && t.cfg.Scan == nil) {
			return err
		}
		// A gap right after a re-backfill would loop: stop after a few.
		rebackfills = append(rebackfills, time.Now())
		if n := len(rebackfills); n > maxRebackfills && time.Since(rebackfills[n-1-maxRebackfills]) < time.Hour {
			return fmt.Errorf("%d re-backfills within an hour did not clear the gap; stopping: %w", maxRebackfills, err)
		}
		// A new version generation: the re-backfill outranks every document
		// written before the gap, and the new stream outranks the re-backfill.
		t.log.Error("STREAM GAP: re-backfilling the table (on_gap: rebackfill)", "table", t.info.Name, "shard", gap.Shard, "generation", gen+1, "err", err)
		moved, err := checkpoint.MoveGeneration(ctx, t.store, t.info.Name, gen, func(ctx context.Context) error {
			if err := t.store.Forget(ctx, "stream/"+t.info.Name+"/"); err != nil {
				return err
			}
			return t.store.Forget(ctx, backfill.Prefix(t.info.Name))
		})
		if err != nil {
			return fmt.Errorf("move the version generation of table %s: %w", t.info.Name, err)
		}
		if !moved {
			t.log.Info("another node already moved the table to a new generation; joining its re-backfill", "table", t.info.Name)
		}
		sweep = true
	}
}

// errGenerationMoved ends a stream phase whose table another node moved to
// a new version generation (a re-backfill after a gap it saw).
var errGenerationMoved = errors.New("the table's version generation moved")

// generationWatch is how often a stream phase checks the table's generation
// with a store that announces no changes (a shared one announces a move:
// checkpoint.ChangeGate).
const generationWatch = 2 * time.Second

// watchGeneration calls stop(errGenerationMoved) once the table's generation
// is no longer gen, until ctx ends.
func (t *tableRun) watchGeneration(ctx context.Context, gen int64, stop context.CancelCauseFunc) {
	gate := checkpoint.NewChangeGate(t.store, generationWatch)
	failed := false
	for {
		if !gate.Wait(ctx, failed) {
			return
		}
		now, err := checkpoint.Generation(ctx, t.store, t.info.Name)
		if failed = err != nil; failed {
			t.log.Debug("read the table's generation", "table", t.info.Name, "err", err)
			continue
		}
		if now != gen {
			stop(errGenerationMoved)
			return
		}
	}
}

// maxRebackfills bounds the re-backfills per hour of one table.
const maxRebackfills = 3

// runOnce backfills the table when configured, and only then applies its
// stream (DESIGN §2.4): stream records older than the backfill time minus
// the overlap are skipped, the rest replayed in order over the backfill.
// After a re-backfill (sweep) documents without an item are deleted
// before the stream resumes.
func (t *tableRun) runOnce(ctx context.Context, gen int64, sweep bool) error {
	var cutoff int64
	var err error
	// The stream to follow is fixed before the backfill begins: changes
	// after the backfill's start are in it.
	arn := ""
	if t.cfg.Stream != nil {
		if arn, err = t.streamToFollow(ctx); err != nil || arn == "" {
			return err
		}
	}
	bt := backfill.Table{Name: t.info.Name, Key: t.info.Key, Overlap: t.cfg.Overlap, Generation: gen}
	switch {
	case t.cfg.Export != nil:
		x := export.New(t.ddb, t.s3, t.store, bt, t.cfg.TableARN, *t.cfg.Export, t.log, export.Options{
			Parallelism: t.cfg.Export.Parallelism, TempDir: t.stateDir, ByName: t.local,
		})
		x.Progress = t.reporter("export")
		cutoff, err = x.Run(ctx, t.sink.Write)
	case t.cfg.Scan != nil:
		sc := scan.New(t.ddb, t.store, bt, t.log, scan.Options{
			Segments: t.cfg.Scan.Segments, PageSize: t.cfg.Scan.PageSize, RateLimit: t.cfg.Scan.RateLimit,
		})
		report := t.reporter("scan")
		var done atomic.Int64
		sc.Progress = func(n int) { report(done.Add(int64(n)), t.info.ItemCount) }
		cutoff, err = sc.Run(ctx, t.sink.Write)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("backfill table %s: %w", t.info.Name, err)
	}
	if sweep {
		if err := t.sweepOrphans(ctx, gen); err != nil {
			return fmt.Errorf("sweep orphan documents of table %s: %w", t.info.Name, err)
		}
		t.health.ClearGap(t.info.Name)
		t.log.Info("re-backfill complete; stream resumes", "table", t.info.Name)
	}
	if ctx.Err() != nil || t.cfg.Stream == nil {
		return nil
	}
	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go t.watchGeneration(sctx, gen, stop)
	err = t.streamPhase(sctx, arn, cutoff, gen)
	if ctx.Err() == nil && errors.Is(context.Cause(sctx), errGenerationMoved) {
		return errGenerationMoved
	}
	return err
}

// reporter returns a progress callback that updates the gauges, the live
// view (/status, the terminal bar) and logs a summary at most every 10 s.
// The rate counts only this process's items (a resumed backfill starts
// with items done) and is given once progress.Estimate has watched long
// enough, so the first estimate is not nonsense.
func (t *tableRun) reporter(kind string) func(done, total int64) {
	var mu sync.Mutex
	var last time.Time
	var est progress.Estimate
	return func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		t.progress.Backfill(t.info.Name, kind, done, total)
		if t.view != nil {
			t.view.Backfill(t.info.Name, kind, done, total)
		}
		t.bm.Done.WithLabelValues(t.info.Name, kind).Set(float64(done))
		t.bm.Total.WithLabelValues(t.info.Name, kind).Set(float64(total))
		now := time.Now()
		est.Observe(done, now)
		if now.Sub(last) < 10*time.Second && (total == 0 || done < total) {
			return
		}
		last = now
		attrs := []any{"kind", kind, "items_done", done, "items_total", total}
		if rate, ok := est.Rate(); ok {
			attrs = append(attrs, "items_per_s", int(rate))
		}
		if eta, ok := est.ETA(total); ok && done < total {
			attrs = append(attrs, "eta", eta)
			if eta > 20*time.Hour {
				t.log.Warn("backfill may outlive the stream's 24 h retention; raise parallelism or the sink's capacity", attrs...)
				return
			}
		}
		t.log.Info("backfill progress", attrs...)
	}
}

// Sweeper deletes the documents of a table whose items no longer exist.
type Sweeper interface {
	Sweep(ctx context.Context, table string, generation int64) (deleted int, err error)
}

// sweepOrphans runs the orphan sweep after a re-backfill.
func (t *tableRun) sweepOrphans(ctx context.Context, gen int64) error {
	if t.sweeper == nil {
		t.log.Info("no orphan sweep: no opensearch sink, or ttl_deletes: keep", "table", t.info.Name)
		return nil
	}
	n, err := t.sweeper.Sweep(ctx, t.info.Name, gen)
	if err != nil {
		return err
	}
	t.log.Info("orphan documents deleted after re-backfill", "table", t.info.Name, "deleted", n)
	return nil
}
