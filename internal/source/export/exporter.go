package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/retry"
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
	// LeaseRecheck is how often a data file (or the export step) held by
	// another node is tried again (default 2s).
	LeaseRecheck time.Duration
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
	if opts.LeaseRecheck <= 0 {
		opts.LeaseRecheck = 2 * time.Second
	}
	return &Exporter{ddb: ddb, s3: s3, store: store, log: log.With("table", table.Name, "backfill", "export"),
		table: table, cfg: exportConfig{Export: cfg, TableARN: tableARN}, opts: opts, Progress: func(int64, int64) {}}
}

// Run loads the export and returns the stream cutoff second. A finished
// backfill is not repeated on restart. With a shared store, one node starts
// (or reuses) the export under the lease on the table's backfill record,
// every node loads the data files whose leases it takes, and every node
// returns only when all files are done (DESIGN §2.4).
func (x *Exporter) Run(ctx context.Context, h backfill.Handler) (int64, error) {
	metaKey := backfill.MetaKey(x.table.Name)
	var meta checkpoint.Progress
	prepared := false // this process (not an earlier run or another node) set the export up
	for {
		var found bool
		var err error
		meta, found, err = x.store.Get(ctx, metaKey)
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
		if meta.Meta[backfill.MetaExportARN] != "" && meta.Meta[backfill.MetaTime] != "" {
			if !prepared && x.cfg.ExportARN == "" {
				x.log.Info("reusing export from checkpoint", "export", meta.Meta[backfill.MetaExportARN])
			}
			break
		}
		err = x.prepare(ctx, metaKey)
		if err == nil {
			prepared = true
			continue
		}
		if !errors.Is(err, checkpoint.ErrLeaseHeld) && !errors.Is(err, checkpoint.ErrLeaseLost) {
			return 0, err
		}
		x.log.Info("another node starts the export; waiting for it", "err", err)
		if err := retry.Sleep(ctx, x.opts.LeaseRecheck); err != nil {
			return 0, err
		}
	}
	arn := meta.Meta[backfill.MetaExportARN]
	at, err := backfill.TimeOf(meta)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", metaKey, err)
	}
	desc, err := x.waitExport(ctx, arn)
	if err != nil {
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
	err = backfill.EachPartition(ctx, x.log, man.files, x.opts.Parallelism, x.opts.LeaseRecheck, func(ctx context.Context, f dataFile) error {
		return x.loadFile(ctx, bucket, man.format, f, at, h, prog)
	})
	if err != nil {
		return 0, err
	}
	if err := backfill.Finish(ctx, x.store, metaKey, meta); err != nil {
		return 0, err
	}
	x.log.Info("export backfill complete", "items", prog.done.Load())
	return x.table.Cutoff(at), nil
}

// prepare is the table's one-time step, under the lease on its backfill
// record: start or reuse the export, wait for it and record its time.
func (x *Exporter) prepare(ctx context.Context, metaKey string) error {
	lctx, meta, _, err := x.store.Acquire(ctx, metaKey)
	if err != nil {
		return err
	}
	defer x.store.Release(context.WithoutCancel(ctx), metaKey)
	if meta.Done || meta.Meta[backfill.MetaTime] != "" {
		return nil
	}
	if meta.Meta == nil {
		meta.Meta = map[string]string{backfill.MetaKind: "export"}
	}
	arn, err := x.ensureExport(lctx, &meta)
	if err != nil {
		return leaseErr(lctx, err)
	}
	desc, err := x.waitExport(lctx, arn)
	if err != nil {
		return leaseErr(lctx, err)
	}
	// The version time is AWS's export time, never the host clock.
	at := desc.ExportTime.Truncate(time.Second)
	if at.Before(*desc.ExportTime) {
		at = at.Add(time.Second) // round up: every item's version stays below the replayed stream
	}
	meta.Meta[backfill.MetaExportARN] = arn
	meta.Meta[backfill.MetaTime] = strconv.FormatInt(at.Unix(), 10)
	return x.store.Save(lctx, metaKey, meta)
}

// leaseErr names a lost lease as the reason when it ended lctx.
func leaseErr(lctx context.Context, err error) error {
	if errors.Is(context.Cause(lctx), checkpoint.ErrLeaseLost) {
		return fmt.Errorf("%w: %v", checkpoint.ErrLeaseLost, err)
	}
	return err
}
