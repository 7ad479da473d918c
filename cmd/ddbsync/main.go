// Command ddbsync keeps an OpenSearch index equal to a DynamoDB table,
// configured by a Data Prepper / OpenSearch Ingestion pipeline file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/config"
	backfillbar "github.com/ddbsync/ddbsync/internal/progress"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a runtime failure (sink rejected data without a DLQ, AWS errors, ...)
	exitConfig  = 2 // invalid command line or pipeline file
	exitGap     = 3 // stream data was lost before it could be read (trimmed, vanished shard)
	exitUsage   = 2
	defaultFile = "pipeline.yaml"
)

const usage = `ddbsync keeps an OpenSearch index equal to a DynamoDB table.

Usage:
  ddbsync run      [-f pipeline.yaml] [--state-dir DIR] [--metrics-addr ADDR] [--until-caught-up]
  ddbsync wait     [-f pipeline.yaml] [--timeout 60s] [--table NAME]
  ddbsync status   [-f pipeline.yaml] [--state-dir DIR] [--metrics-addr ADDR] [--json]
  ddbsync validate [-f pipeline.yaml]
  ddbsync verify   [-f pipeline.yaml] [--repair] [--json] [--segments N] [--recheck-after 5s]
  ddbsync redrive  [-f pipeline.yaml] [--state-dir DIR] [--dlq FILE|s3://BUCKET/PREFIX/] [--id ID ...] [--dry-run]
  ddbsync version

Global flags (before or after the subcommand):
  --log-format text|json   log format on standard error (default text)
  --log-level  debug|info|warn|error (default info)

Run 'ddbsync <command> --help' for the flags of a command.
`

func main() {
	// The backfill's allocations are short-lived and the heap is small
	// (~40 MiB at 1M items): collect half as often unless GOGC says otherwise.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "validate":
		return cmdValidate(rest, stdout, stderr)
	case "verify":
		return cmdVerify(rest, stdout, stderr)
	case "redrive":
		return cmdRedrive(rest, stdout, stderr)
	case "wait":
		return cmdWait(rest, stdout, stderr)
	case "status":
		return cmdStatus(rest, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "ddbsync %s\n", version)
		return exitOK
	default:
		fmt.Fprintf(stderr, "ddbsync: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// common holds the flags every subcommand takes.
type common struct {
	file      string
	logFormat string
	logLevel  string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "f", defaultFile, "pipeline file (Data Prepper / OpenSearch Ingestion YAML)")
	fs.StringVar(&c.file, "file", defaultFile, "same as -f")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
}

func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a subcommand's flags; done reports that the command ends
// now with code (exitOK after -h, exitUsage after a bad flag, which fs has
// printed).
func parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return exitOK, false
}

// setup makes the logger (writing to w) and loads the pipeline file,
// printing what failed to stderr; done reports that the command ends now
// with code (exitUsage for a bad log flag, exitConfig for the file).
func (c *common) setup(w, stderr io.Writer) (log *slog.Logger, f *config.File, code int, done bool) {
	log, err := c.logger(w)
	if err != nil {
		fmt.Fprintln(stderr, "ddbsync:", err)
		return nil, nil, exitUsage, true
	}
	f, ok := load(c.file, stderr)
	if !ok {
		return nil, nil, exitConfig, true
	}
	return log, f, exitOK, false
}

// load reads and validates the pipeline file, printing every problem.
func load(file string, stderr io.Writer) (*config.File, bool) {
	f, err := config.Load(file, os.LookupEnv)
	if err != nil {
		printLoadError(stderr, file, err)
		return nil, false
	}
	return f, true
}

// printLoadError prints why a configuration file did not load: every
// problem with its line and path, or the one error.
func printLoadError(stderr io.Writer, file string, err error) {
	var errs *config.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(stderr, "%s: %d problem(s):\n%s\n", file, len(*errs), errs.Error())
		return
	}
	fmt.Fprintf(stderr, "%s: %v\n", file, err)
}

const validateHelp = `Usage: ddbsync validate [-f pipeline.yaml] [-c data-prepper-config.yaml]

Checks the pipeline file and reports every problem at once, each with its
line and YAML path. Exit code 0 when valid (and prints what would run),
2 when not. Nothing is contacted.

Flags:
`

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("validate", validateHelp, stderr)
	c.register(fs)
	dpConfig := registerDPConfig(fs)
	if code, done := parse(fs, args); done {
		return code
	}
	f, ok := load(c.file, stderr)
	if !ok {
		return exitConfig
	}
	coord, ok := loadDPConfig(*dpConfig, stderr)
	if !ok {
		return exitConfig
	}
	if err := app.Check(f); err != nil {
		// The same check and message as run's, so the two agree.
		fmt.Fprintf(stderr, "%s: 'ddbsync run' would refuse this file: %v\n", c.file, err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "%s is valid.\n%s", c.file, f.Summary())
	printStateStores(stdout, f, coord)
	printLocalARNs(stdout, f, os.Getenv)
	if warns := f.Warnings(); len(warns) > 0 {
		fmt.Fprintf(stdout, "\nWarnings (valid, but check the table):\n")
		for _, p := range warns {
			fmt.Fprintf(stdout, "  line %d: %s: %s\n", p.Line, p.Path, p.Msg)
		}
	}
	return exitOK
}

const runHelp = `Usage: ddbsync run [-f pipeline.yaml] [-c data-prepper-config.yaml] [--state-dir DIR] [--metrics-addr ADDR] [--until-caught-up]

Replicates every table of the pipeline file into its sinks until stopped
(SIGINT/SIGTERM: finish the batch in flight, checkpoint, exit 0), or with
--until-caught-up until every change written before the start is applied
and searchable (then exit 0; the next run continues from there). With a
shared state table that means the whole table, across every node.
OpenSearch and DynamoDB that are not reachable yet are waited for, up to
--startup-timeout; bad credentials, a missing table or a bad certificate
fail at once.
AWS endpoints and credentials come from the standard AWS SDK environment
(AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_PROFILE, ...).

Exit codes: 0 stopped cleanly, 1 failed, 2 invalid configuration,
3 stream gap (records were trimmed before they could be read).

Flags:
`

func cmdRun(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("run", runHelp, stderr)
	c.register(fs)
	stateDir := fs.String("state-dir", envOr("DDBSYNC_STATE_DIR", ".ddbsync"), "checkpoint directory (env DDBSYNC_STATE_DIR)")
	metricsAddr := fs.String("metrics-addr", envOr("DDBSYNC_METRICS_ADDR", "127.0.0.1:4900"), "address for /metrics, /healthz, /readyz, /caughtup; empty disables (env DDBSYNC_METRICS_ADDR)")
	until := fs.Bool("until-caught-up", false, "stop (exit 0) once every change written before the start is applied and searchable")
	startupTimeout := fs.Duration("startup-timeout", envDuration("DDBSYNC_STARTUP_TIMEOUT", app.DefaultStartupTimeout), "how long to wait for OpenSearch and DynamoDB to become reachable at start-up; 0 fails at once (env DDBSYNC_STARTUP_TIMEOUT)")
	readyLag := fs.Duration("ready-lag", envDuration("DDBSYNC_READY_LAG", app.DefaultReadyLag), "how far behind a table may be for /readyz (env DDBSYNC_READY_LAG)")
	dpConfig := registerDPConfig(fs)
	if code, done := parse(fs, args); done {
		return code
	}
	// On a terminal, backfills show a live progress bar below the log
	// lines (text logs only: JSON logs are for machines).
	logOut := stderr
	var bar *backfillbar.Bar
	if isTerminal(stderr) && c.logFormat == "text" {
		bar = backfillbar.NewBar(stderr, time.Now)
		logOut = bar
	}
	log, f, code, done := c.setup(logOut, stderr)
	if done {
		return code
	}
	coord, ok := loadDPConfig(*dpConfig, stderr)
	if !ok {
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log.Info("ddbsync starting", "version", version, "file", c.file, "state_dir", *stateDir)
	err := app.Run(ctx, f, app.Options{
		StateDir: *stateDir, MetricsAddr: *metricsAddr, Logger: log, Registry: reg, Stdout: stdout, Getenv: os.Getenv,
		UntilCaughtUp: *until, StartupTimeout: *startupTimeout, ReadyLag: *readyLag, Coordination: coord,
		Progress: progressView(bar),
	})
	var gap *stream.GapError
	switch {
	case err == nil:
		log.Info("ddbsync stopped")
		return exitOK
	case errors.As(err, &gap):
		log.Error("STREAM GAP: data was lost before it could be replicated; the index is no longer guaranteed equal to the table. Re-backfill the table (configure export or scan with on_gap: rebackfill) or investigate.", "table", gap.Table, "shard", gap.Shard, "err", err)
		return exitGap
	case errors.Is(err, app.ErrUnsupported), errors.Is(err, app.ErrConfig):
		log.Error("'ddbsync run' refuses this file", "err", err)
		return exitConfig
	default:
		log.Error("ddbsync failed", "err", err)
		return exitFailed
	}
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return strings.TrimSpace(v)
	}
	return def
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressView is bar as an app.ProgressView (nil when there is none, so
// the interface is nil too).
func progressView(bar *backfillbar.Bar) app.ProgressView {
	if bar == nil {
		return nil
	}
	return bar
}

// runLocation is how wait and status find a running `run`: its state
// directory (whose run file names the metrics address) and, failing that,
// the metrics address itself.
type runLocation struct {
	stateDir, metricsAddr *string
}

func registerRunLocation(fs *flag.FlagSet) runLocation {
	return runLocation{
		stateDir:    fs.String("state-dir", envOr("DDBSYNC_STATE_DIR", ".ddbsync"), "the run's state directory (env DDBSYNC_STATE_DIR)"),
		metricsAddr: fs.String("metrics-addr", envOr("DDBSYNC_METRICS_ADDR", "127.0.0.1:4900"), "the run's metrics address, when its state directory has no run file (env DDBSYNC_METRICS_ADDR)"),
	}
}

// addr is the run's metrics address: from its run file, else the flag.
func (l runLocation) addr() string {
	if rf, err := app.ReadRunFile(*l.stateDir); err == nil && rf.MetricsAddr != "" {
		return rf.MetricsAddr
	}
	return *l.metricsAddr
}
