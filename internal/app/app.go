// Package app wires a loaded pipeline file into running sources and sinks
// and owns their lifecycle: one errgroup for the whole run, one per table.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// Options are the process-level settings from the command line.
type Options struct {
	StateDir    string
	MetricsAddr string // "" disables the metrics server
	Logger      *slog.Logger
	Registry    *prometheus.Registry
	Stdout      io.Writer
	Getenv      func(string) string
	// UntilCaughtUp stops the run (checkpoints saved, exit 0) once every
	// change written before the run started is applied and searchable.
	UntilCaughtUp bool
	// StartupTimeout bounds how long start-up waits for OpenSearch and
	// DynamoDB to become reachable (0: fail at once).
	StartupTimeout time.Duration
	// ReadyLag is how far behind a table may be for /readyz (0: 1 minute).
	ReadyLag time.Duration
	// Coordination is the source_coordination of a data-prepper-config.yaml
	// (`run -c`): the state store of every pipeline without its own; nil
	// means the local state directory.
	Coordination *config.Coordination
	// Progress, when set, is shown each backfill's progress (main sets a
	// terminal progress bar when stderr is a terminal).
	Progress ProgressView
}

// ProgressView shows a backfill's progress as it happens.
type ProgressView interface {
	Backfill(table, kind string, done, total int64)
}

// ErrUnsupported wraps configuration that parses but that ddbsync does not run yet.
var ErrUnsupported = errors.New("the pipeline uses options ddbsync does not run yet")

// Run runs every pipeline of f until ctx ends (nil) or something fails.
func Run(ctx context.Context, f *config.File, o Options) error {
	if err := Check(f); err != nil {
		return err
	}
	startedAt := time.Now() // the moment --until-caught-up catches up to
	// Export staging, the run file and the default DLQ live in the state
	// directory whatever the state store.
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state dir %s: %w", o.StateDir, err)
	}
	// Warnings and errors about a table are remembered for /status.
	problems := &metrics.Problems{}
	o.Logger = slog.New(problems.Tap(o.Logger.Handler()))
	stores := &stateStores{dir: o.StateDir, log: o.Logger, leases: metrics.NewLeases(o.Registry)}
	defer stores.Close()
	health := metrics.NewHealth(stallAfter(f), time.Now)
	streamMetrics := metrics.NewStream(o.Registry)
	progress, waits := metrics.NewProgress(time.Now), &metrics.Waits{}
	cu := &caughtUp{progress: progress, health: health, log: o.Logger, poll: 200 * time.Millisecond, serverless: anyServerless(f)}

	// The metrics server lives as long as the tables run.
	var ms errgroup.Group
	mctx, stopMetrics := context.WithCancel(ctx)
	defer func() { stopMetrics(); _ = ms.Wait() }()
	floors := newFloors(o.Logger)
	if o.MetricsAddr != "" {
		status := metrics.Status{PID: os.Getpid(), Started: startedAt, Progress: progress, Health: health, Problems: problems}
		routes := append(probes(health, progress, waits, f, o).Routes(), floors.route(), status.Route(),
			metrics.Route{Pattern: "/caughtup", Handler: cu})
		ms.Go(func() error { return metrics.Serve(mctx, o.MetricsAddr, o.Registry, health, routes...) })
		o.Logger.Info("serving /metrics, /healthz, /readyz, /caughtup, /status", "addr", o.MetricsAddr)
		defer writeRunFile(o.StateDir, o.MetricsAddr, o.Logger)()
	}
	backfillMetrics := metrics.NewBackfill(o.Registry)
	var runs []*tableRun
	// Leases are renewed until every table stopped and released its own.
	var hb errgroup.Group
	hctx, stopHeartbeats := context.WithCancel(context.WithoutCancel(ctx))
	defer func() { stopHeartbeats(); _ = hb.Wait() }()
	for _, p := range f.Pipelines {
		coord := Coordination(p, o.Coordination)
		store, err := stores.forPipeline(ctx, p, coord, o, waits)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		// One fair share of stream shards across the pipeline's tables.
		share := stream.NewShare(store, coord.LeaseTimeout)
		sink, err := buildSinks(ctx, p, o, health)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		defer sink.Close()
		if err := startupWait(ctx, o.StartupTimeout, waits, o.Logger, "opensearch (pipeline "+p.Name+")", sink.Prepare); err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		awsCfg, err := awsConfig(ctx, p.Source.AWS)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		streams := dynamodbstreams.NewFromConfig(awsCfg)
		s3c := newS3Client(awsCfg, "", o.Getenv)
		envLocal := o.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || o.Getenv("AWS_ENDPOINT_URL") != ""
		watches, err := newIndexWatches(ctx, p)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		for _, t := range p.Source.Tables {
			local := envLocal || t.LocalARN() // DynamoDB Local's ARNs: address the table by name
			var info tableInfo
			err := startupWait(ctx, o.StartupTimeout, waits, o.Logger, "dynamodb (table "+t.TableName+")", func(ctx context.Context) (err error) {
				info, err = describeTable(ctx, ddb, t, local)
				return err
			})
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			if err := checkStartStream(ctx, store, p, t, info); err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			ref := t.TableARN
			if local {
				ref = info.Name
			}
			sweeper, err := newSweeper(ddb, ref, p, t, sink, o.Logger.With("pipeline", p.Name, "table", info.Name))
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			tableS3 := s3c
			if t.Export != nil && t.Export.S3Region != "" && t.Export.S3Region != awsCfg.Region {
				tableS3 = newS3Client(awsCfg, t.Export.S3Region, o.Getenv)
			}
			floor, err := floors.forTable(ctx, info.Name, store)
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
			cur := &currentStream{}
			guard := &indexGuard{table: info.Name, watches: watches, m: streamMetrics, log: o.Logger.With("pipeline", p.Name), every: indexCheckEvery}
			runs = append(runs, &tableRun{sweeper: sweeper, floor: floor, guard: guard,
				cfg: t, info: info, ddb: ddb, streams: streams, s3: tableS3, store: store,
				sink: withProcessors(p.Processing, guard.guardSink(sink), sink, o.Logger.With("pipeline", p.Name)),
				log:  o.Logger.With("pipeline", p.Name), m: streamMetrics, bm: backfillMetrics,
				health: health, local: local, stateDir: o.StateDir,
				skipOldImages: !needsOldImages(p, info), progress: progress, view: o.Progress,
				pipeline: p, current: cur, streamOpts: stream.Options{Progress: progress, PollMax: pollMax(t), Share: share},
			})
			w := watchedTable{name: info.Name, streams: streams, store: store, sink: sink, pipeline: p.Name}
			if !local {
				w.settle = awsSettle
			}
			if t.Stream != nil {
				w.stream = cur
			}
			cu.add(w)
		}
	}
	hb.Go(func() error { return stores.run(hctx) })
	hb.Go(func() error { return floors.follow(hctx) })
	health.Started()
	cu.start()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	g, gctx := errgroup.WithContext(runCtx)
	var stopped stoppedTables
	for _, r := range runs {
		if r.cfg.Export != nil || r.cfg.Scan != nil {
			progress.Phase(r.info.Name, metrics.PhaseBackfill)
		}
		g.Go(func() error {
			err := r.run(gctx)
			if err != nil && gctx.Err() != nil && errors.Is(err, context.Canceled) {
				// A stop (SIGTERM, --until-caught-up) that cut a state or
				// stream call short: not a failure.
				return nil
			}
			if err == nil && r.cfg.Stream == nil && gctx.Err() == nil {
				progress.Phase(r.info.Name, metrics.PhaseDone)
			}
			var ts *TableStoppedError
			if errors.As(err, &ts) && !o.UntilCaughtUp {
				// This table cannot go on; the others do (--until-caught-up
				// cannot succeed without it, so there it ends the run).
				o.Logger.Error("TABLE STOPPED: the table is no longer replicated; the other tables go on", "table", r.info.Name, "err", err)
				health.Block(r.info.Name, "stopped: "+err.Error())
				stopped.add(err)
				return nil
			}
			return err
		})
	}
	if o.UntilCaughtUp {
		g.Go(func() error {
			if cu.untilCaughtUp(gctx, startedAt) == nil {
				stopRun() // every table stops after its last acknowledged batch
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return stopped.err()
}

// stoppedTables collects the tables that stopped alone (TableStoppedError):
// the run's error once every table has ended.
type stoppedTables struct {
	mu   sync.Mutex
	errs []error
}

func (s *stoppedTables) add(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *stoppedTables) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// stallAfter is how long a batch may wait for the sink before /readyz
// fails: the smallest shard_acknowledgment_timeout of the file (Data
// Prepper's name for how long a shard may wait for its acknowledgement).
func stallAfter(f *config.File) time.Duration {
	d := time.Duration(0)
	for _, p := range f.Pipelines {
		if t := p.Source.ShardAcknowledgmentTimeout; t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	if d == 0 {
		d = 10 * time.Minute
	}
	return d
}
