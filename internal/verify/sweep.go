package verify

import (
	"context"
	"fmt"
	"github.com/ddbsync/ddbsync/internal/processor"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v2"

	"github.com/ddbsync/ddbsync/internal/config"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// SweepOptions tune Sweep. The zero value works.
type SweepOptions struct {
	// AWSConfig carries the credentials for SigV4 signing when the sink has
	// an `aws` block (build it from that block, as run does).
	AWSConfig *aws.Config
	Segments  int // parallel Scan segments (default 4)
	// RecheckAfter is the wait before the re-read of each orphan (default
	// 0: at once; the GetItem re-read still catches items created meanwhile).
	RecheckAfter time.Duration
	Now          func() time.Time // host clock (default time.Now)
	// Generation is the table's version generation (see Options).
	Generation int64
	// Processing is the pipeline's processor chain (nil: none): items it
	// drops have no document.
	Processing *processor.Chain
	// Writer is the write path the deletes go through: the running
	// pipeline's sink (its client, retries, classification and dead-letter
	// queue). Nil builds one from the sink config (sinkos.NewWriter).
	Writer Writer
	// Index replaces the index reader built from the writer's client
	// (tests).
	Index Index
}

// Sweep deletes the documents of the sink's index(es) that have no item in
// the table — the orphans a re-backfill leaves behind (items deleted while
// the stream was not read). table is the table's name (for
// getMetadata("table_name")), ref how DynamoDB calls address it (its name,
// or its ARN; "" means table). Each orphan is re-read (GetItem, consistent)
// before it is deleted with RepairVersion of that read, so a stream write
// made after the read always wins, and a document newer than the repair is
// skipped, never forced. Missing and stale documents are left alone (the
// backfill writes them). Do not call it for a table with ttl_deletes: keep.
func Sweep(ctx context.Context, ddb DynamoDB, table, ref string, sink *config.OpenSearch, log *slog.Logger, o SweepOptions) (deleted int, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := CanRepair(sink); err != nil {
		return 0, err
	}
	w := o.Writer
	if w == nil {
		sw, err := sinkos.NewWriter(sink, sinkos.Options{Logger: log, AWSConfig: o.AWSConfig})
		if err != nil {
			return 0, err
		}
		defer sw.Close()
		w = sw
	}
	idx := o.Index
	if idx == nil {
		c, ok := w.(interface{ Client() *opensearch.Client })
		if !ok {
			return 0, fmt.Errorf("sweep table %s: the writer has no client to read the index with; set SweepOptions.Index", table)
		}
		idx = NewIndex(c.Client(), log)
	}
	vo := Options{Segments: o.Segments, RecheckAfter: o.RecheckAfter, Now: o.Now, Logger: log, Generation: o.Generation,
		Writer: w, DeadLetter: true}.withDefaults()
	c, err := newChecker(ctx, ddb, idx, Target{Table: table, Ref: ref, Sink: sink, Processing: o.Processing}, vo)
	if err != nil {
		return 0, err
	}
	var rep TableReport
	kept, err := c.compare(ctx, &rep)
	if err != nil {
		return 0, fmt.Errorf("sweep table %s: %w", table, err)
	}
	var orphans []*candidate
	for _, cd := range kept {
		if k, _ := cd.last.kind(c.bodies); k == Extra && cd.reason == "" {
			orphans = append(orphans, cd)
		}
	}
	if len(orphans) == 0 {
		log.Info("orphan sweep: nothing to delete", "table", table, "docs", rep.Docs, "items", rep.Items)
		return 0, nil
	}
	r, _, err := c.repair(ctx, orphans)
	if err != nil {
		return r.Deleted, fmt.Errorf("sweep table %s: %w", table, err)
	}
	log.Info("orphan sweep done", "table", table, "deleted", r.Deleted, "skipped_newer", r.Skipped, "dead_lettered", r.DeadLettered, "failed", r.Failed)
	if r.Failed > 0 {
		return r.Deleted, fmt.Errorf("sweep table %s: %d orphan document(s) could not be deleted (first: %v)", table, r.Failed, r.Examples)
	}
	return r.Deleted, nil
}
