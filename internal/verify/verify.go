// Package verify proves that an OpenSearch index equals its DynamoDB table,
// and repairs it when it does not. It reads the whole table (consistent
// parallel Scan, each item converted by the product's converter and placed
// by the sink's resolver, only a fingerprint kept per document) and the
// whole index (scroll), reports missing, extra and stale documents after
// re-reading each difference to tolerate changes in flight, and with
// repair rewrites or deletes documents with RepairVersion so that a repair
// never overwrites a newer stream write; documents changed out of band,
// whose versions outrank RepairVersion, are repaired above the table's
// clock floor, raised first through a FloorPublisher (see
// repairAboveFloor). Every repair goes through the sink's one write path
// (Writer). Sweep is the repair of extra documents alone: the orphan sweep
// after a re-backfill.
package verify

import (
	"context"
	"errors"
	"fmt"
	"github.com/ddbsync/ddbsync/internal/processor"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// Options tune a verification. The zero value works.
type Options struct {
	Segments int // parallel Scan segments (default 4)
	PageSize int // items per Scan call (default 1000)
	// RecheckAfter is how long to wait before re-reading a difference
	// (0: at once).
	RecheckAfter time.Duration
	// MaxRechecks bounds the re-reads of a difference that keeps changing
	// (default 5).
	MaxRechecks int
	// Repair fixes the differences that survive the re-check, through
	// Writer.
	Repair bool
	// Writer is the write path repairs go through (required with Repair).
	Writer Writer
	// Floor raises the table's clock floor before documents changed out of
	// band (version at or above the classic repair version) are repaired
	// above it; nil reports them as skipped.
	Floor FloorPublisher
	// DeadLetter sends repairs OpenSearch rejects for good to the
	// writer's dead-letter queue instead of reporting them failed.
	DeadLetter bool
	// Examples is how many differences of each kind the report lists
	// (default 10).
	Examples int
	// Generation is the table's version generation (see
	// change.InGeneration); repairs are written in it.
	Generation int64
	Now        func() time.Time // host clock (default time.Now)
	Logger     *slog.Logger     // nil discards
	// Progress, when set, is called now and then with the items scanned
	// and documents read so far.
	Progress func(t Target, items, docs int64)
}

func (o Options) withDefaults() Options {
	if o.Segments <= 0 {
		o.Segments = 4
	}
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	if o.MaxRechecks <= 0 {
		o.MaxRechecks = 5
	}
	if o.Examples <= 0 {
		o.Examples = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(Target, int64, int64) {}
	}
	return o
}

// Target is one table and one opensearch sink of a pipeline.
type Target struct {
	Pipeline string
	// Table is the table's name: what reports show and what
	// getMetadata("table_name") gives.
	Table string
	// Ref is how DynamoDB calls address the table: its name, or its ARN
	// for a table in another account ("" means Table).
	Ref       string
	SinkIndex int // position of the sink in the pipeline's sink list
	Sink      *config.OpenSearch
	// Processing is the pipeline's processor chain (nil: none): the
	// expected document of an item is the processed one, and an item it
	// drops has no document.
	Processing *processor.Chain
	// KeepExtras is set when the table keeps the documents of items
	// expired by TTL (ttl_deletes: keep): extra documents are reported but
	// never deleted.
	KeepExtras bool
}

func (t Target) ref() string {
	if t.Ref != "" {
		return t.Ref
	}
	return t.Table
}

// Targets lists the table × opensearch sink pairs of a pipeline, in file
// order. byName addresses tables by name (DynamoDB Local), else by ARN.
func Targets(p *config.Pipeline, byName bool) []Target {
	var out []Target
	for _, tc := range p.Source.Tables {
		for i, sc := range p.Sinks {
			if sc.OpenSearch == nil {
				continue
			}
			t := Target{Pipeline: p.Name, Table: tc.TableName, SinkIndex: i, Sink: sc.OpenSearch, Processing: p.Processing,
				KeepExtras: tc.Stream != nil && tc.Stream.TTLDeletes == "keep"}
			if !byName {
				t.Ref = tc.TableARN
			}
			out = append(out, t)
		}
	}
	return out
}

// ErrCannotRepair says why a sink's documents cannot be repaired safely.
var ErrCannotRepair = errors.New("cannot repair safely")

// CanRepair reports whether repairs of the sink's documents can be ordered
// against its stream writes: that needs external versions taken from
// getMetadata("document_version").
func CanRepair(sink *config.OpenSearch) error {
	if sink.Serverless() {
		return fmt.Errorf("%w: the sink writes to OpenSearch Serverless without versions, so a repair could overwrite a newer stream change (README: OpenSearch Serverless says how to fix differences there)", ErrCannotRepair)
	}
	ok := sink.DocumentVersionType == "" || sink.DocumentVersionType == bulk.VersionExternal || sink.DocumentVersionType == bulk.VersionExternalGTE
	if ok && sink.DocumentVersion != nil {
		ev := &change.Event{Table: "probe", ID: "probe", Doc: []byte(`{}`), Version: 123456789}
		v, err := sink.DocumentVersion.Eval(ev)
		ok = err == nil && v == strconv.FormatInt(ev.Version, 10)
	}
	if !ok {
		return fmt.Errorf("%w: --repair needs document_version_type external or external_gte with document_version ${getMetadata(\"document_version\")} (the sink has %q / %q)",
			ErrCannotRepair, sink.DocumentVersionType, templateText(sink))
	}
	return nil
}

func templateText(sink *config.OpenSearch) string {
	if sink.DocumentVersion == nil {
		return ""
	}
	return sink.DocumentVersion.String()
}

// checker is one Check in progress.
type checker struct {
	ddb    DynamoDB
	idx    Index
	t      Target
	o      Options
	log    *slog.Logger
	key    tableKey
	conv   converter
	bodies bool
	// idIsKey: the sink's document_id is the primary_key (so an _id
	// can be turned back into a key).
	idIsKey bool
	// byID: the index name has a date pattern, so an item's document may
	// be in any of the dated indices: documents are matched by _id alone.
	byID bool
}

// docKey is the DocKey of a document of the given index and _id.
func (c *checker) docKey(index, id string) DocKey {
	if c.byID {
		index = ""
	}
	return DocKey{Index: index, ID: id}
}

// Check compares one table with one sink's documents and, with
// o.Repair, repairs what differs. The error is for failures (unreachable
// services, permissions); differences are in the report.
func Check(ctx context.Context, ddb DynamoDB, idx Index, t Target, o Options) (TableReport, error) {
	o = o.withDefaults()
	rep := TableReport{Pipeline: t.Pipeline, Table: t.Table, Sink: t.SinkIndex, Index: indexSetting(t.Sink)}
	if o.Repair {
		if err := CanRepair(t.Sink); err != nil {
			return rep, err
		}
	}
	c, err := newChecker(ctx, ddb, idx, t, o)
	if err != nil {
		return rep, err
	}
	kept, err := c.compare(ctx, &rep)
	if err != nil {
		return rep, err
	}
	for _, cd := range kept {
		k, _ := cd.last.kind(c.bodies)
		why := cd.reason
		if why == "" {
			why = reasonOf(k, cd.last)
		}
		if cd.moving {
			why += " (still changing after every re-check)"
		}
		rep.add(k, Example{Index: cd.index(), ID: cd.key.ID, Reason: why}, o.Examples)
	}
	rep.Remaining = rep.Differences()
	if !c.bodies {
		rep.Notes = append(rep.Notes, "document bodies were not compared: the sink sends them through an ingest pipeline")
	}
	if t.KeepExtras && rep.Extra > 0 {
		rep.Notes = append(rep.Notes, "ttl_deletes is keep: extra documents may be those of items expired by TTL")
	}
	if !o.Repair || len(kept) == 0 {
		return rep, nil
	}
	r, fixed, err := c.repair(ctx, kept)
	rep.Repair = &r
	rep.Remaining -= fixed
	if err != nil {
		return rep, fmt.Errorf("repair table %s: %w", t.Table, err)
	}
	o.Logger.Info("repair done", "table", t.Table, "indexed", r.Indexed, "deleted", r.Deleted, "skipped", r.Skipped, "failed", r.Failed)
	return rep, nil
}

func newChecker(ctx context.Context, ddb DynamoDB, idx Index, t Target, o Options) (*checker, error) {
	res, err := bulk.NewResolver(t.Sink)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s sink %d: %w", t.Pipeline, t.SinkIndex, err)
	}
	log := o.Logger.With("table", t.Table)
	k, err := describeKey(ctx, ddb, t.ref(), log)
	if err != nil {
		return nil, err
	}
	probe := &change.Event{Table: t.Table, Op: change.OpIndex, ID: "verify-probe", PartitionKey: "verify-probe", Doc: []byte(`{}`), Timestamp: o.Now()}
	pit, perr := res.Resolve(probe)
	return &checker{
		ddb: ddb, idx: idx, t: t, o: o, log: log, key: k, bodies: t.Sink.Pipeline == nil,
		conv:    converter{table: backfill.Table{Name: t.Table, Key: k.Key}, res: res, at: o.Now(), proc: t.Processing},
		idIsKey: perr == nil && pit.ID == probe.ID,
		byID:    strings.Contains(res.IndexTemplate().String(), "%{"),
	}, nil
}

// compare scans the table, reads the index, and re-checks the differences;
// it fills the counts of rep and returns the differences that remain.
func (c *checker) compare(ctx context.Context, rep *TableReport) ([]*candidate, error) {
	var items, docs atomic.Int64
	lastReport := time.Time{}
	progress := func(force bool) {
		if now := time.Now(); force || now.Sub(lastReport) >= 200*time.Millisecond {
			lastReport = now
			c.o.Progress(c.t, items.Load(), docs.Load())
		}
	}
	cmp := newComparer(c.bodies)
	var mu atomicFlag
	sc, err := scanTable(ctx, c.ddb, c.t.ref(), c.key, c.conv, cmp, c.o.Segments, c.o.PageSize, c.byID, func(n int) {
		items.Add(int64(n))
		if mu.try() {
			progress(false)
			mu.release()
		}
	}, c.log)
	if err != nil {
		return nil, err
	}
	rep.Items = sc.items
	rep.Read = indexNames(c.conv.res, c.t.Table, sc.indices)
	c.idx.Refresh(ctx, rep.Read)
	older, err := c.readIndex(ctx, rep.Read, cmp, sc, func() {
		docs.Add(1)
		progress(false)
	})
	if err != nil {
		return nil, err
	}
	if older > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the index name has a date pattern: documents are matched by _id across indices, and %d older cop(ies) with a lower version were ignored", older))
	}
	progress(true)
	rep.Docs = int(docs.Load())
	cands := cmp.finish()
	for _, cd := range cands {
		if cd.first.hasItem && cd.itemKey == nil {
			cd.itemKey = sc.keyFor(c.key, cd.key)
		}
	}
	cands = append(cands, sc.unresolved...)
	c.log.Debug("compared", "items", rep.Items, "docs", rep.Docs, "candidates", len(cands))
	kept, settled, err := c.recheck(ctx, cands)
	if err != nil {
		return nil, err
	}
	rep.InFlight = settled
	return kept, nil
}

// indexSetting is the sink's index format string as written.
func indexSetting(s *config.OpenSearch) string {
	if s.Index == nil {
		return `${getMetadata("table_name")}`
	}
	return s.Index.String()
}

// atomicFlag lets one goroutine at a time report progress; the others skip.
type atomicFlag struct{ v atomic.Bool }

func (f *atomicFlag) try() bool { return f.v.CompareAndSwap(false, true) }
func (f *atomicFlag) release()  { f.v.Store(false) }
