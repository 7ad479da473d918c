// Command backfill is the export backfill benchmark (make bench-backfill):
// it loads a table into DynamoDB Local, exports it (PITR export through the
// stack's export emulator into S3), then times `ddbsync run` loading that
// export into OpenSearch (items/s, peak RSS) against the ceiling measured in
// the same run: a plain loader posting the same documents, encoded the same
// way and pre-built into _bulk bodies before timing, with the same
// concurrency to the same OpenSearch. The ceiling runs before and after
// ddbsync; the ratio is against their mean. Both indices get the same
// settings, and a sample of ddbsync's documents is checked byte for byte
// against the ceiling's.
//
//	bash test/bench/run.sh backfill [-items 1000000] [-parallelism 4] [-files 8] [-keep]
//	bash test/bench/run.sh backfill -export-arn ARN   # re-measure an export kept with -keep
//
// Loading 1M items into the shared DynamoDB Local takes about 2.5 min on a
// quiet stack (4 min with other tests running), the emulator's export 1-5 min.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/test/bench/internal/kit"
)

func main() {
	o := opts{}
	flag.IntVar(&o.items, "items", 1_000_000, "items in the table")
	flag.IntVar(&o.parallelism, "parallelism", 4, "export parallelism of ddbsync = concurrent _bulk requests of the ceiling")
	flag.StringVar(&o.bin, "bin", "bin/ddbsync", "ddbsync binary")
	flag.Float64Var(&o.bulkMiB, "bulk-mib", 5, "ceiling body size limit in MiB (ddbsync's default bulk_size)")
	flag.IntVar(&o.bulkItems, "bulk-items", 0, "ceiling operations per body, 0 = only -bulk-mib limits (ddbsync's export sends at most 1000 per request)")
	flag.IntVar(&o.loadWorkers, "load-workers", 8, "goroutines writing the table")
	flag.BoolVar(&o.smallBodies, "small-bodies", true, "also time the ceiling with bodies of at most 1000 items (ddbsync's export batch), to separate request size from ddbsync's own cost")
	flag.IntVar(&o.files, "files", 0, "data files per export; 0 = the stack's emulator (EXPORTEMU_FILES, 4), else a private emulator with that many")
	flag.StringVar(&o.exportARN, "export-arn", "", "reuse an export kept by an earlier -keep run (its table must still exist): skips loading and exporting")
	flag.BoolVar(&o.keep, "keep", false, "keep the table, the export and the indices")
	flag.Parse()
	// Interrupted, run still deletes what it made and stops its children.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-backfill:", err)
		os.Exit(1)
	}
}

type opts struct {
	items, parallelism, loadWorkers, bulkItems, files int
	bin, exportARN                                    string
	bulkMiB                                           float64
	keep, smallBodies, reused                         bool
}

// ceilingRun is one timed pass of the plain loader.
type ceilingRun struct {
	wall    time.Duration
	selfCPU time.Duration // the loader's own CPU time
	osCPU   time.Duration // OpenSearch's CPU time
	busy    float64       // machine CPU busy share
}

func run(ctx context.Context, o opts) error {
	osURL, bucket := os.Getenv("OPENSEARCH_URL"), os.Getenv("DDBSYNC_EXPORT_BUCKET")
	if osURL == "" || bucket == "" {
		return fmt.Errorf("OPENSEARCH_URL and DDBSYNC_EXPORT_BUCKET must be set (. test/stack/env.sh)")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg) // through the export emulator
	// Load straight into DynamoDB Local (same account namespace), skipping
	// the emulator's proxy hop.
	loadDB := db
	if p := os.Getenv("DDB_PORT"); p != "" {
		loadDB = dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) { do.BaseEndpoint = aws.String("http://127.0.0.1:" + p) })
	}
	s3c := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = true })
	hc := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("ddbsync binary: %w (make build)", err)
	}

	stamp := time.Now().Format("20060102-150405")
	table := "bench-backfill-" + stamp
	if o.exportARN != "" { // arn:aws:dynamodb:<region>:<account>:table/<table>/export/<id>
		res := strings.SplitN(o.exportARN, ":", 6)
		parts := strings.Split(res[len(res)-1], "/")
		if len(res) != 6 || len(parts) != 4 || parts[0] != "table" || parts[2] != "export" {
			return fmt.Errorf("-export-arn %q: want arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/export/ID", o.exportARN)
		}
		table = parts[1]
	}
	prefix := "bench/" + table
	ddbIndex, ceilIndex := "bench-backfill-"+stamp+"-ddbsync", "bench-backfill-"+stamp+"-ceiling"
	dir, err := os.MkdirTemp("", "ddbsync-bench-backfill-")
	if err != nil {
		return err
	}
	fmt.Printf("bench-backfill: table %s, parallelism %d, OpenSearch %s, scratch %s\n", table, o.parallelism, osURL, dir)
	defer func() {
		cctx := context.WithoutCancel(ctx)
		if o.keep {
			fmt.Printf("kept: table %s, export %s (s3://%s/%s), indices %s %s, %s\n", table, o.exportARN, bucket, prefix, ddbIndex, ceilIndex, dir)
			return
		}
		_ = deleteIndex(cctx, hc, osURL, ddbIndex)
		_ = deleteIndex(cctx, hc, osURL, ceilIndex)
		_ = os.RemoveAll(dir)
		if o.reused {
			return // the table and export belong to the run that kept them
		}
		_ = deletePrefix(cctx, s3c, bucket, prefix+"/")
		_, _ = db.DeleteTable(cctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}()

	// The export goes through the stack's emulator, or a private one.
	exportDB := db
	var childEnv []string
	if o.files > 0 {
		emu, err := startEmu(ctx, dir, o.files)
		if err != nil {
			return err
		}
		defer emu.stop()
		exportDB = dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) { do.BaseEndpoint = aws.String(emu.url) })
		childEnv = emu.env()
		fmt.Printf("  private export emulator at %s writing %d files per export\n", emu.url, o.files)
	}

	var exp *types.ExportDescription
	if o.exportARN != "" {
		o.reused = true
		out, err := exportDB.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(o.exportARN)})
		if err != nil {
			return fmt.Errorf("-export-arn: %w (exports live in the memory of the stack's emulator; those of a private -files emulator end with it)", err)
		}
		exp = out.ExportDescription
		o.items = int(aws.ToInt64(exp.ItemCount))
		fmt.Printf("  reusing export %s (%d items)\n", o.exportARN, o.items)
	} else {
		// 1. The table.
		if err := createTable(ctx, loadDB, table); err != nil {
			return err
		}
		start := time.Now()
		if err := load(ctx, loadDB, table, o.items, o.loadWorkers); err != nil {
			return err
		}
		d := time.Since(start)
		fmt.Printf("  load:    %d items with BatchWriteItem in %s (%.0f items/s)\n", o.items, d.Round(time.Millisecond), float64(o.items)/d.Seconds())

		// 2. The export.
		start = time.Now()
		if exp, err = exportTable(ctx, exportDB, table, bucket, prefix); err != nil {
			return err
		}
		o.exportARN = aws.ToString(exp.ExportArn)
		fmt.Printf("  export:  %s in %s (%d items)\n", o.exportARN, time.Since(start).Round(time.Millisecond), aws.ToInt64(exp.ItemCount))
	}
	at := exp.ExportTime.Truncate(time.Second) // as ddbsync: AWS's export time rounded up to a second
	if at.Before(*exp.ExportTime) {
		at = at.Add(time.Second)
	}

	// 3. The ceiling's bodies, built before anything is timed: one set cut
	// only by bulk size, like a plain loader would, and (diagnostic) one cut
	// at ddbsync's export batch of 1000 items, the most it puts in one
	// request.
	start := time.Now()
	limits := []bodyLimit{{bytes: int(o.bulkMiB * (1 << 20)), items: o.bulkItems}}
	if o.smallBodies {
		limits = append(limits, bodyLimit{bytes: int(o.bulkMiB * (1 << 20)), items: ddbsyncBatchItems})
	}
	sets, err := buildBodies(ctx, s3c, bucket, aws.ToString(exp.ExportManifest), table, ceilIndex, at, limits)
	if err != nil {
		return fmt.Errorf("build ceiling bodies: %w", err)
	}
	for _, bb := range sets {
		if bb.total != o.items {
			return fmt.Errorf("export holds %d items, want %d", bb.total, o.items)
		}
		fmt.Printf("  bodies:  %s: %d _bulk bodies, %.1f MiB (%.0f B/item)\n", bb.limit, len(bb.bufs), float64(bb.bytes)/(1<<20), float64(bb.bytes)/float64(bb.total))
	}
	fmt.Printf("  bodies built in %s\n", time.Since(start).Round(time.Millisecond))
	if c := concurrency(o.parallelism, sets[0].files); c < o.parallelism {
		fmt.Printf("  note: the export has %d data files and ddbsync loads at most one per worker, so both sides run %d at once, not %d (-files)\n", sets[0].files, c, o.parallelism)
	}

	// Warm-up: a tenth of the bodies into the ceiling index, then a fresh one,
	// so no measured run pays for a cold JVM.
	if err := createIndex(ctx, hc, osURL, ceilIndex); err != nil {
		return err
	}
	warm := &bodies{bufs: sets[0].bufs[:max(1, len(sets[0].bufs)/10)]}
	if err := sendBodies(ctx, hc, osURL, warm, concurrency(o.parallelism, sets[0].files)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := deleteIndex(ctx, hc, osURL, ceilIndex); err != nil {
		return err
	}

	// 4. The ceilings, ddbsync, the ceilings again in reverse order. Each
	// index is counted, then deleted, so its background merges do not slow
	// the next run.
	ceil := make([][]ceilingRun, len(sets))
	runCeiling := func(i int) error {
		c, err := timeCeiling(ctx, hc, osURL, sets[i], o)
		if err != nil {
			return err
		}
		ceil[i] = append(ceil[i], c)
		fmt.Printf("  ceiling (%s): %s, %.0f items/s (loader CPU %s, OpenSearch CPU %s, machine busy %.0f%%)\n", sets[i].limit, c.wall.Round(time.Millisecond),
			float64(o.items)/c.wall.Seconds(), c.selfCPU.Round(time.Millisecond), c.osCPU.Round(time.Millisecond), 100*c.busy)
		return nil
	}
	for i := range sets {
		if err := runCeiling(i); err != nil {
			return err
		}
	}
	if err := createIndex(ctx, hc, osURL, ddbIndex); err != nil {
		return err
	}
	cpu0, os0 := readCPU(), must(nodeCPU(ctx, hc, osURL))
	dr, err := runDDBSync(ctx, bin, dir, table, bucket, aws.ToString(exp.ExportArn), osURL, ddbIndex, o.parallelism, childEnv)
	cpu1, os1 := readCPU(), must(nodeCPU(ctx, hc, osURL))
	if err != nil {
		return err
	}
	n, err := countDocs(ctx, hc, osURL, ddbIndex)
	if err != nil {
		return err
	}
	if n != int64(o.items) || dr.items != int64(o.items) {
		return fmt.Errorf("ddbsync: index %s holds %d documents, log says %d items, want %d", ddbIndex, n, dr.items, o.items)
	}
	if err := sameDocs(ctx, hc, osURL, ddbIndex, sets[0], 8); err != nil {
		return fmt.Errorf("ddbsync and the ceiling do not write the same documents: %w", err)
	}
	if err := deleteIndex(ctx, hc, osURL, ddbIndex); err != nil {
		return err
	}
	ddbOSCPU := time.Duration(os1-os0) * time.Millisecond
	fmt.Printf("  ddbsync: %s wall (%s from \"loading export\" to \"export backfill complete\"), %.0f items/s, peak RSS %.1f MiB, CPU user %s sys %s, OpenSearch CPU %s, machine busy %.0f%%\n",
		dr.wall.Round(time.Millisecond), dr.load.Round(time.Millisecond), float64(o.items)/dr.wall.Seconds(), float64(dr.maxRSSKiB)/1024,
		dr.user.Round(time.Millisecond), dr.sys.Round(time.Millisecond), ddbOSCPU, 100*busyFraction(cpu0, cpu1))
	for i := len(sets) - 1; i >= 0; i-- {
		if err := runCeiling(i); err != nil {
			return err
		}
	}

	// 5. Report.
	perItem := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(o.items) }
	ddbRate := float64(o.items) / dr.wall.Seconds()
	loadRate := float64(o.items) / dr.load.Seconds()
	ceilRate, ceilDesc := rate(o.items, ceil[0])
	fmt.Printf("bench-backfill: %d items, export parallelism %d (%d files), %d CPUs shared by ddbsync, OpenSearch and the rest of the stack\n", o.items, o.parallelism, sets[0].files, runtime.NumCPU())
	fmt.Printf("  ddbsync  %8.0f items/s  (process start to exit; %.0f items/s in its load phase)\n", ddbRate, loadRate)
	fmt.Printf("  ceiling  %8.0f items/s  (pre-built bodies, %s, same concurrency; %s)\n", ceilRate, sets[0].limit, ceilDesc)
	fmt.Printf("  ratio    %8.2f         target >= 0.90  %s\n", ddbRate/ceilRate, verdict(ddbRate/ceilRate >= 0.9))
	fmt.Printf("  peak RSS %8.1f MiB     target < 128 MiB  %s\n", float64(dr.maxRSSKiB)/1024, verdict(dr.maxRSSKiB < 128<<10))
	fmt.Printf("  where the time goes:\n")
	fmt.Printf("    ddbsync CPU %.1f µs/item (user+sys), the plain loader's %.1f µs/item\n", perItem(dr.user+dr.sys), perItem(meanSelf(ceil[0])))
	fmt.Printf("    OpenSearch CPU %.1f µs/item under ddbsync, %.1f µs/item under the ceiling\n", perItem(ddbOSCPU), perItem(meanOS(ceil[0])))
	if osPer, ddbPer := perItem(meanOS(ceil[0])), perItem(dr.user+dr.sys); osPer > 0 {
		fmt.Printf("    with every CPU busy (OpenSearch on the same machine), ddbsync's own CPU caps the ratio near %.2f = OpenSearch / (OpenSearch + ddbsync) CPU per item\n", osPer/(osPer+ddbPer))
	}
	var ceilRates []float64
	for _, c := range ceil[0] {
		ceilRates = append(ceilRates, float64(o.items)/c.wall.Seconds())
	}
	ddbRates := make([]float64, len(ceilRates))
	for i := range ddbRates {
		ddbRates[i] = ddbRate
	}
	kit.Emit(kit.Row{Bench: "export backfill", Case: fmt.Sprintf("%d items, %d files", o.items, sets[0].files), Metric: "items/s",
		A: fmt.Sprintf("ddbsync: %.0f (1 run)", ddbRate), B: "_bulk ceiling before+after: " + kit.SpreadOf(ceilRates).Format("%.0f"),
		Ratio: "A/B " + kit.SpreadOf(kit.Ratios(ddbRates, ceilRates)).Format("%.2f"),
		Rate:  fmt.Sprintf("peak RSS %.0f MiB", float64(dr.maxRSSKiB)/1024), Load: fmt.Sprintf("%.0f%% busy during ddbsync", 100*busyFraction(cpu0, cpu1))})
	if len(sets) > 1 {
		r, desc := rate(o.items, ceil[1])
		fmt.Printf("    ceiling at ddbsync's request size (%s): %.0f items/s (%s); ddbsync / that = %.2f\n", sets[1].limit, r, desc, ddbRate/r)
	}
	return nil
}

// concurrency is how many requests ddbsync can have in flight: one per data
// file being loaded, at most parallelism files at once. The ceiling uses
// the same.
func concurrency(parallelism, files int) int { return max(1, min(parallelism, files)) }

// ddbsyncBatchItems is the export backfill's batch (export.Options.BatchItems
// default): each sink Write, hence each _bulk request, holds at most this many.
const ddbsyncBatchItems = 1000

func (l bodyLimit) String() string {
	s := fmt.Sprintf("<= %.3g MiB", float64(l.bytes)/(1<<20))
	if l.items > 0 {
		s += fmt.Sprintf(" and <= %d items", l.items)
	}
	return s + " per body"
}

// rate is the items/s of the mean wall time of runs, and the runs' rates.
func rate(items int, runs []ceilingRun) (float64, string) {
	var sum time.Duration
	desc := fmt.Sprintf("mean of %d runs:", len(runs))
	for _, c := range runs {
		sum += c.wall
		desc += fmt.Sprintf(" %.0f", float64(items)/c.wall.Seconds())
	}
	return float64(items) / (sum / time.Duration(len(runs))).Seconds(), desc
}

func meanSelf(runs []ceilingRun) time.Duration {
	var sum time.Duration
	for _, c := range runs {
		sum += c.selfCPU
	}
	return sum / time.Duration(len(runs))
}

func meanOS(runs []ceilingRun) time.Duration {
	var sum time.Duration
	for _, c := range runs {
		sum += c.osCPU
	}
	return sum / time.Duration(len(runs))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// timeCeiling loads the pre-built bodies into a fresh ceiling index, checks
// the count, and deletes the index again.
func timeCeiling(ctx context.Context, hc *http.Client, osURL string, bb *bodies, o opts) (ceilingRun, error) {
	var c ceilingRun
	if err := createIndex(ctx, hc, osURL, bb.index); err != nil {
		return c, err
	}
	cpu0, self0 := readCPU(), selfCPU()
	os0, err := nodeCPU(ctx, hc, osURL)
	if err != nil {
		return c, err
	}
	start := time.Now()
	if err := sendBodies(ctx, hc, osURL, bb, concurrency(o.parallelism, bb.files)); err != nil {
		return c, fmt.Errorf("ceiling: %w", err)
	}
	c.wall = time.Since(start)
	os1, err := nodeCPU(ctx, hc, osURL)
	if err != nil {
		return c, err
	}
	c.osCPU = time.Duration(os1-os0) * time.Millisecond
	c.selfCPU = selfCPU() - self0
	c.busy = busyFraction(cpu0, readCPU())
	n, err := countDocs(ctx, hc, osURL, bb.index)
	if err != nil {
		return c, err
	}
	if n != int64(bb.total) {
		return c, fmt.Errorf("ceiling: index %s holds %d documents, want %d", bb.index, n, bb.total)
	}
	return c, deleteIndex(ctx, hc, osURL, bb.index)
}

// selfCPU is this process's user + system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// must drops the error of a diagnostic reading (0 when it failed).
func must(v int64, _ error) int64 { return v }
