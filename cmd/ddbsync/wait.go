package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/app"
)

const waitHelp = `Usage: ddbsync wait [-f pipeline.yaml] [--timeout 60s] [--table NAME]
                    [--state-dir DIR] [--metrics-addr ADDR]

Waits until every change written to the pipeline's tables before this
command started is applied by the running 'ddbsync run' and visible to
search (the indices are refreshed). It finds the run through the run file
in its state directory (--state-dir, env DDBSYNC_STATE_DIR), else through
--metrics-addr (env DDBSYNC_METRICS_ADDR), and waits for the run to come up.
With a shared state table (several nodes) any one node answers for the
whole table: the shards the other nodes read count too.

Exit codes: 0 caught up; 1 not caught up within --timeout (what is still
behind is printed) or no run answered; 2 invalid command line or file.

Flags:
`

func cmdWait(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("wait", waitHelp, stderr)
	c.register(fs)
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait")
	only := fs.String("table", "", "only these tables (comma-separated names; default: the pipeline file's tables)")
	loc := registerRunLocation(fs)
	stateDir := loc.stateDir
	asJSON := fs.Bool("json", false, "print the run's JSON answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	at := time.Now() // the moment to catch up to: this command's start
	tables := *only
	if tables == "" && fileGiven(fs) {
		f, ok := load(c.file, stderr)
		if !ok {
			return exitConfig
		}
		var names []string
		for _, p := range f.Pipelines {
			for _, t := range p.Source.Tables {
				names = append(names, t.TableName)
			}
		}
		tables = strings.Join(names, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The run answers by the deadline; the grace covers the answer's trip.
	deadline := at.Add(*timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(5*time.Second))
	defer cancel()

	var last string
	for {
		addr := loc.addr()
		left := time.Until(deadline)
		code, body, err := askCaughtUp(ctx, addr, at, tables, left)
		switch {
		case err == nil && code == http.StatusOK:
			printAnswer(stdout, body, *asJSON, "caught up")
			return exitOK
		case err == nil && code == http.StatusServiceUnavailable:
			printAnswer(stderr, body, *asJSON, fmt.Sprintf("not caught up after %s", *timeout))
			return exitFailed
		case err == nil:
			fmt.Fprintf(stderr, "ddbsync wait: %s answered %d: %s\n", addr, code, strings.TrimSpace(string(body)))
			return exitFailed
		}
		last = fmt.Sprintf("no ddbsync run answered at %s (state dir %s): %v", addr, *stateDir, err)
		if time.Until(deadline) <= 0 || ctx.Err() != nil {
			fmt.Fprintf(stderr, "ddbsync wait: not caught up after %s: %s\n", *timeout, last)
			return exitFailed
		}
		t := time.NewTimer(min(250*time.Millisecond, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// fileGiven reports whether -f/--file was on the command line or the
// default pipeline file exists.
func fileGiven(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "f" || f.Name == "file" {
			given = true
		}
	})
	if !given {
		_, err := os.Stat(defaultFile)
		return err == nil
	}
	return true
}

// askCaughtUp calls GET /caughtup on the run's metrics server.
func askCaughtUp(ctx context.Context, addr string, at time.Time, tables string, timeout time.Duration) (int, []byte, error) {
	q := url.Values{}
	q.Set("at", strconv.FormatInt(at.UnixMilli(), 10))
	q.Set("timeout", max(timeout, 0).Round(time.Millisecond).String())
	if tables != "" {
		q.Set("table", tables)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/caughtup?"+q.Encode(), nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// printAnswer prints the run's answer: the JSON, or a summary with what is
// still behind.
func printAnswer(w io.Writer, body []byte, raw bool, head string) {
	if raw {
		w.Write(body)
		return
	}
	var r app.CaughtUpReport
	if err := json.Unmarshal(body, &r); err != nil {
		fmt.Fprintf(w, "%s: %s\n", head, strings.TrimSpace(string(body)))
		return
	}
	fmt.Fprintf(w, "%s (moment %s, waited %s)\n", head, r.At.UTC().Format(time.RFC3339Nano), r.Waited)
	for _, t := range r.Tables {
		fmt.Fprintf(w, "  table %s: phase %s, caught up %v\n", t.Table, t.Phase, t.CaughtUp)
	}
	for _, b := range r.Behind {
		where := b.Table
		if b.Shard != "" {
			where += " shard " + b.Shard
		}
		fmt.Fprintf(w, "  behind: %s: %s\n", where, b.Why)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}
