package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/config"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
	"github.com/ddbsync/ddbsync/internal/verify"
)

// exitDifferences is verify's exit code when the index is not equal to
// the table (after the repair with --repair).
const exitDifferences = 4

const verifyHelp = `Usage: ddbsync verify [-f pipeline.yaml] [-c data-prepper-config.yaml] [--repair] [--json] [--segments N]
                      [--recheck-after 5s] [--state-dir DIR] [--metrics-addr ADDR]

Compares every table of the pipeline file with the documents of each of its
opensearch sinks: reads the whole table (consistent parallel Scan, each item
converted exactly as 'run' converts it) and the whole index (scroll), and
reports missing documents (an item without its document), extra documents
(a document without its item) and stale documents (bytes that differ from
the item's). Each difference is re-read after --recheck-after (GetItem and
a real-time GET) and kept only if it still differs (one whose item or
document keeps changing is re-read up to 5 times), so replication in
flight is tolerated; 'ddbsync run' may keep running.

--repair then fixes what remains: missing and stale documents are indexed
from the item, extra documents deleted, with external version
(read time − 60 s) × 10⁶ − 1: any stream change made after the read has a
higher version and wins. A document changed out of band (an OpenSearch
_update, _update_by_query, or index or DELETE without a version) holds a
higher version than that: for those, verify raises the table's clock
floor F (above their versions and above now + 60 s) through the running
ddbsync (POST /admin/clock-floor on --metrics-addr; it answers once every
shard reader applied F, so every stream change read later gets a version
above F), or, with no run alive, in the --state-dir store, which the next
run starts above; then it reads each item again and writes it with
version F. A later stream change still wins. When neither is reachable
such documents are reported as skipped, never forced.

Exit codes: 0 equal (after the repair with --repair), 4 differences remain,
1 failed (AWS or OpenSearch errors), 2 invalid command line or pipeline file,
or --repair with a sink whose versions cannot be ordered (not external).

Flags:
`

func cmdVerify(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("verify", verifyHelp, stderr)
	c.register(fs)
	repair := fs.Bool("repair", false, "fix the differences that remain after the re-check")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	segments := fs.Int("segments", 4, "parallel Scan segments per table")
	recheck := fs.Duration("recheck-after", 5*time.Second, "wait before re-reading a difference")
	stateDir := fs.String("state-dir", envOr("DDBSYNC_STATE_DIR", ".ddbsync"), "run's checkpoint directory, read (not locked) for each table's version generation (env DDBSYNC_STATE_DIR)")
	metricsAddr := fs.String("metrics-addr", envOr("DDBSYNC_METRICS_ADDR", "127.0.0.1:4900"), "the running ddbsync's metrics address, where --repair raises a table's clock floor (env DDBSYNC_METRICS_ADDR)")
	dpConfig := registerDPConfig(fs)
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 || *segments < 1 || *recheck < 0 {
		fmt.Fprintln(stderr, "ddbsync verify: unexpected arguments, --segments below 1 or a negative --recheck-after")
		return exitUsage
	}
	prog := newProgress(stderr)
	log, f, code, done := c.setup(prog, stderr) // a log line first clears the progress line
	if done {
		return code
	}
	coord, ok := loadDPConfig(*dpConfig, stderr)
	if !ok {
		return exitConfig
	}
	local := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	var targets int
	for _, p := range f.Pipelines {
		for _, t := range verify.Targets(p, local) {
			targets++
			if *repair {
				if err := verify.CanRepair(t.Sink); err != nil {
					fmt.Fprintf(stderr, "%s: pipeline %s sink %d: %v\n", c.file, p.Name, t.SinkIndex, err)
					return exitConfig
				}
			}
		}
	}
	if targets == 0 {
		fmt.Fprintf(stderr, "%s: no table has an opensearch sink to verify\n", c.file)
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := verify.Options{Segments: *segments, RecheckAfter: *recheck, Repair: *repair, Logger: log}
	if *repair {
		opts.Floor = newFloorPublisher(*metricsAddr, *stateDir, log)
	}
	opts.Progress = prog.show
	rep := &verify.Report{Repair: *repair, Equal: true}
	err := verifyAll(ctx, f, coord, local, *stateDir, opts, rep)
	prog.done()
	if err != nil {
		log.Error("verify failed", "err", err)
		return exitFailed
	}
	for _, t := range rep.Tables {
		if t.Remaining > 0 {
			rep.Equal = false
		}
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		log.Error("write report", "err", err)
		return exitFailed
	}
	if !rep.Equal {
		return exitDifferences
	}
	return exitOK
}

// verifyAll checks every table × opensearch sink of f, in file order.
func verifyAll(ctx context.Context, f *config.File, coord *config.Coordination, local bool, stateDir string, opts verify.Options, rep *verify.Report) error {
	type sinkIO struct {
		idx verify.Index
		w   *sinkos.Sink
	}
	sinks := map[*config.OpenSearch]sinkIO{}
	defer func() {
		for _, s := range sinks {
			_ = s.w.Close()
		}
	}()
	for _, p := range f.Pipelines {
		targets := verify.Targets(p, local)
		if len(targets) == 0 {
			continue
		}
		awsCfg, err := app.AWSConfig(ctx, p.Source.AWS)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		for _, t := range targets {
			sio, ok := sinks[t.Sink]
			if !ok {
				sinkAWS := &awsCfg
				if t.Sink.AWS != nil { // SigV4 with the sink's own region and role, as run does
					cfg, err := app.AWSConfig(ctx, *t.Sink.AWS)
					if err != nil {
						return fmt.Errorf("pipeline %s sink %d: %w", p.Name, t.SinkIndex, err)
					}
					sinkAWS = &cfg
				}
				// The sink's own write path (client, retries, classification)
				// writes the repairs; its client reads the index.
				w, err := sinkos.NewWriter(t.Sink, sinkos.Options{Logger: opts.Logger, AWSConfig: sinkAWS})
				if err != nil {
					return fmt.Errorf("pipeline %s sink %d: %w", p.Name, t.SinkIndex, err)
				}
				sio = sinkIO{idx: verify.NewIndex(w.Client(), opts.Logger), w: w}
				sinks[t.Sink] = sio
			}
			// Repairs are written in the table's current version generation
			// (it moves on at every re-backfill after a stream gap).
			topts := opts
			topts.Writer = sio.w
			if topts.Generation, err = tableGeneration(ctx, p, coord, stateDir, t.Table); err != nil {
				return fmt.Errorf("pipeline %s table %s: %w", p.Name, t.Table, err)
			}
			tr, err := verify.Check(ctx, ddb, sio.idx, t, topts)
			if err != nil {
				return fmt.Errorf("pipeline %s table %s: %w", p.Name, t.Table, err)
			}
			rep.Tables = append(rep.Tables, tr)
		}
	}
	return nil
}

// progress prints a one-line status on standard error when it is a
// terminal, and is the writer of the log, which clears that line first.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		p.tty = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return p
}

func (p *progress) show(t verify.Target, items, docs int64) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s: %d items scanned, %d documents read", t.Table, items, docs)
	p.shown = true
}

// Write clears the status line, then writes b (a log line).
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	return p.w.Write(b)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
