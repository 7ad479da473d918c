package export

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// Options tune the export backfill; zero values take the defaults.
type Options struct {
	Parallelism int           // data files loaded at once (default 4)
	BatchItems  int           // items per sink batch (default 2500: fewer, larger bulk requests and checkpoint saves, memory bounded)
	PollMin     time.Duration // first DescribeExport wait (default 2s)
	PollMax     time.Duration // longest DescribeExport wait (default 30s)
	TempDir     string        // where data files are staged for MD5 checks
	ByName      bool          // address the table by name (DynamoDB Local)
}

// Exporter backfills one table from an export.
type Exporter struct {
	ddb   DynamoAPI
	s3    S3API
	store checkpoint.Store
	log   *slog.Logger
	table backfill.Table
	cfg   exportConfig
	opts  Options
	// Progress is told how many items were acknowledged, and the total.
	Progress func(done, total int64)
}

// exportConfig is the configured export plus the table ARN.
type exportConfig struct {
	config.Export
	TableARN string
}

// New returns an Exporter; nothing runs until Run.
func New(ddb DynamoAPI, s3 S3API, store checkpoint.Store, table backfill.Table, tableARN string, cfg config.Export, log *slog.Logger, opts Options) *Exporter {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	if opts.BatchItems <= 0 {
		opts.BatchItems = 2500
	}
	if opts.PollMin <= 0 {
		opts.PollMin = 2 * time.Second
	}
	if opts.PollMax <= 0 {
		opts.PollMax = 30 * time.Second
	}
	return &Exporter{ddb: ddb, s3: s3, store: store, log: log.With("table", table.Name, "backfill", "export"),
		table: table, cfg: exportConfig{Export: cfg, TableARN: tableARN}, opts: opts, Progress: func(int64, int64) {}}
}

// Run loads the export and returns the stream cutoff second. A finished
// backfill is not repeated on restart.
func (x *Exporter) Run(ctx context.Context, h backfill.Handler) (int64, error) {
	metaKey := backfill.MetaKey(x.table.Name)
	meta, found, err := x.store.Get(ctx, metaKey)
	if err != nil {
		return 0, err
	}
	if found && meta.Done {
		at, err := backfill.TimeOf(meta)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", metaKey, err)
		}
		x.log.Info("backfill already complete", "time", at.UTC())
		return x.table.Cutoff(at), nil
	}
	if meta.Meta == nil {
		meta.Meta = map[string]string{backfill.MetaKind: "export"}
	}
	arn, err := x.ensureExport(ctx, &meta)
	if err != nil {
		return 0, err
	}
	desc, err := x.waitExport(ctx, arn)
	if err != nil {
		return 0, err
	}
	// The version time is AWS's export time, never the host clock.
	at := desc.ExportTime.Truncate(time.Second)
	if at.Before(*desc.ExportTime) {
		at = at.Add(time.Second) // round up: every item's version stays below the replayed stream
	}
	meta.Meta[backfill.MetaExportARN] = arn
	meta.Meta[backfill.MetaTime] = strconv.FormatInt(at.Unix(), 10)
	if err := x.store.Save(ctx, metaKey, meta); err != nil {
		return 0, err
	}
	bucket := x.cfg.S3Bucket
	if bucket == "" {
		bucket = aws.ToString(desc.S3Bucket)
	}
	man, err := x.manifest(ctx, bucket, aws.ToString(desc.ExportManifest))
	if err != nil {
		return 0, err
	}
	x.log.Info("loading export", "export", arn, "export_time", desc.ExportTime.UTC(), "format", man.format, "files", len(man.files), "items", man.total)
	prog := newProgress(man.total, x.Progress)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(x.opts.Parallelism)
	for _, f := range man.files {
		g.Go(func() error { return x.loadFile(gctx, bucket, man.format, f, at, h, prog) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	if err := x.store.Complete(ctx, metaKey, meta); err != nil {
		return 0, err
	}
	x.log.Info("export backfill complete", "items", prog.done.Load())
	return x.table.Cutoff(at), nil
}
