package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/redrive"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// exitStillRefused is redrive's exit code when some letters were refused
// again (they are in the new dead-letter file the report names).
const exitStillRefused = 4

// redriveMaxRetries bounds redrive's retries of transient failures when the
// sink's max_retries is 0 (run's "until success").
const redriveMaxRetries = 8

const redriveHelp = `Usage: ddbsync redrive [-f pipeline.yaml] [--state-dir DIR] [--dlq FILE|s3://BUCKET/PREFIX/] [--id ID ...] [--dry-run]

Replays dead letters: documents OpenSearch refused for good, kept in each
opensearch sink's dlq.s3 objects (every .jsonl object under the bucket and
key_path_prefix), its dlq_file or, without either, in
<state-dir>/dlq/<pipeline>.jsonl. Fix the cause first (the mapping, the
item, the ingest pipeline), then redrive.

Every letter is sent as it was first sent — same index, _id, routing,
action and its ORIGINAL external version — through the sink's write path,
so a replay never overwrites a newer change: OpenSearch answers 409 and the
letter is reported as superseded. Letters refused again are written to a
new file beside the original (<name>.redrive-<time>.jsonl; for S3, under
<state-dir>/dlq/). The original file or objects are not changed ('ddbsync
run' may be appending to them); move them away once a redrive reports
nothing refused.

--dlq chooses one file or S3 prefix (default: every sink's queue); S3 is
read with the sink's dlq.s3 region and role; --id (repeatable) chooses
letters by _id; --dry-run only reports what would be sent.

Exit codes: 0 every selected letter applied or superseded, 4 some refused
again, 1 failed (OpenSearch unreachable, unreadable file), 2 invalid
command line or pipeline file.

Flags:
`

// idList is a repeatable flag. It is not split on commas: a DynamoDB key,
// and so an _id, may hold one.
type idList []string

func (l *idList) String() string { return strings.Join(*l, " ") }

func (l *idList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func cmdRedrive(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("redrive", redriveHelp, stderr)
	c.register(fs)
	stateDir := fs.String("state-dir", envOr("DDBSYNC_STATE_DIR", ".ddbsync"), "run's state directory, which holds the default dead-letter files (env DDBSYNC_STATE_DIR)")
	dlq := fs.String("dlq", "", "replay only this dead-letter `file or s3://bucket/prefix/`")
	var ids idList
	fs.Var(&ids, "id", "replay only the letters with this _id (repeatable)")
	dryRun := fs.Bool("dry-run", false, "report what would be replayed; send nothing")
	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ddbsync redrive: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	log, f, code, done := c.setup(stderr, stderr)
	if done {
		return code
	}
	targets, err := redrive.Targets(f, *stateDir, *dlq)
	if err != nil {
		fmt.Fprintln(stderr, "ddbsync redrive:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	awsByPipeline := map[string]config.AWS{}
	for _, p := range f.Pipelines {
		awsByPipeline[p.Name] = p.Source.AWS
	}
	read := redrive.NewReader(func(ctx context.Context, sink *config.OpenSearch) (redrive.ObjectReader, error) {
		return app.DLQS3Client(ctx, sink, os.Getenv)
	}, log)
	code = exitOK
	for _, t := range targets {
		newReplayer := func(sink *config.OpenSearch, output string) (redrive.Replayer, error) {
			opts := sinkos.Options{Logger: log.With("pipeline", t.Pipeline, "sink", "opensearch"), DefaultDLQFile: output}
			if sink.AWS != nil { // SigV4 with the sink's own region and role, as run does
				cfg, err := app.AWSConfig(ctx, *sink.AWS)
				if err != nil {
					return nil, err
				}
				opts.AWSConfig = &cfg
			}
			cp := *sink
			cp.DLQFile, cp.DLQS3 = "", nil // refused letters go to output, never back into the queue being read
			if cp.MaxRetries == 0 {
				cp.MaxRetries = redriveMaxRetries // an operator waits for the answer: give up on an outage
			}
			return sinkos.New(&cp, opts)
		}
		rep, err := redrive.Run(ctx, t, ids, *dryRun, redrive.OutputFor(t, *stateDir, time.Now()), read, newReplayer)
		printRedrive(stdout, rep, *dryRun)
		switch {
		case err != nil:
			log.Error("redrive failed", "pipeline", t.Pipeline, "file", t.File, "err", err)
			code = exitFailed
		case (len(rep.Result.Failed) > 0 || len(rep.NotReplayable) > 0) && code == exitOK:
			code = exitStillRefused
		}
	}
	return code
}

// printRedrive writes one target's report.
func printRedrive(w io.Writer, r redrive.Report, dryRun bool) {
	fmt.Fprintf(w, "%s (pipeline %s): %d dead letter(s), %d selected\n", r.Target.File, r.Target.Pipeline, r.Letters, r.Selected)
	for _, id := range r.Missing {
		fmt.Fprintf(w, "  --id %s: no letter has this _id\n", id)
	}
	for _, id := range r.NotReplayable {
		fmt.Fprintf(w, "  %s: a processor failed on this item; not sent (fix the item or the pipeline, then run verify --repair)\n", id)
	}
	if dryRun || r.Selected == 0 {
		if dryRun && r.Selected > 0 {
			fmt.Fprintf(w, "  dry run: nothing sent\n")
		}
		return
	}
	res := r.Result
	fmt.Fprintf(w, "  applied: %d\n  superseded (the index holds this version or a newer change, kept): %d\n  refused again: %d\n",
		res.Applied, len(res.Superseded), len(res.Failed))
	for _, d := range res.Superseded {
		fmt.Fprintf(w, "    superseded: index %s _id %q version %s\n", d.Index, d.ID, versionText(d))
	}
	for _, d := range res.Failed {
		fmt.Fprintf(w, "    refused: index %s _id %q version %s\n", d.Index, d.ID, versionText(d))
	}
	if r.Output != "" {
		fmt.Fprintf(w, "  letters refused again are in %s\n", r.Output)
	}
}

func versionText(d sinkos.DeadLetter) string {
	if d.Version == nil {
		return "(internal)"
	}
	return fmt.Sprint(*d.Version)
}
