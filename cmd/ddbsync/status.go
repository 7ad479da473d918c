package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/status"
)

const statusHelp = `Usage: ddbsync status [-f pipeline.yaml] [-c data-prepper-config.yaml] [--state-dir DIR] [--metrics-addr ADDR] [--json]

Shows, per pipeline and table: the phase (backfill / stream), the
backfill's progress, every stream shard's checkpoint and lag, dead letters
and the last warning or error. It reads the state directory (safe beside a
running 'ddbsync run') and, when a run is alive (found through its run file
in the state directory, else --metrics-addr), that run's /status. With a
shared DynamoDB state table (source_coordination store: dynamodb) it reads
the table: every shard and open backfill partition with the node holding
its lease, the lease's expiry and how far the shard is applied.

Exit codes: 0 shown; 2 invalid command line or file; 1 the state cannot be read.

Flags:
`

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("status", statusHelp, stderr)
	c.register(fs)
	loc := registerRunLocation(fs)
	stateDir := loc.stateDir
	asJSON := fs.Bool("json", false, "print JSON")
	dpConfig := registerDPConfig(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	f, ok := load(c.file, stderr)
	if !ok {
		return exitConfig
	}
	var tables []status.TableRef
	for _, p := range f.Pipelines {
		for _, t := range p.Source.Tables {
			tables = append(tables, status.TableRef{Pipeline: p.Name, Table: t.TableName})
		}
	}
	coord, ok := loadDPConfig(*dpConfig, stderr)
	if !ok {
		return exitConfig
	}
	state, err := checkpoint.ReadFileState(*stateDir)
	if err != nil {
		fmt.Fprintf(stderr, "ddbsync status: %v\n", err)
		return exitFailed
	}
	leases, err := sharedState(f, coord, state)
	if err != nil {
		fmt.Fprintf(stderr, "ddbsync status: %v\n", err)
		return exitFailed
	}
	addr := loc.addr()
	var live *metrics.StatusBody
	var liveErr error
	if addr != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		live, liveErr = askStatus(ctx, addr)
		cancel()
	}
	r := status.Build(tables, state, live)
	r.SetLeases(leases, time.Now())
	if liveErr != nil {
		r.LiveErr = fmt.Sprintf("no run answered at %s: %v", addr, liveErr)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return exitOK
	}
	printStatus(stdout, r, *stateDir)
	return exitOK
}

// askStatus calls GET /status on a run's metrics server.
func askStatus(ctx context.Context, addr string) (*metrics.StatusBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET /status: %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var body metrics.StatusBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /status: %w", err)
	}
	return &body, nil
}

// printStatus writes the human form: one block per table.
func printStatus(w io.Writer, r status.Report, stateDir string) {
	if r.Live {
		fmt.Fprintf(w, "run: pid %d, up %s\n", r.PID, time.Since(*r.Started).Round(time.Second))
	} else {
		fmt.Fprintf(w, "run: none answering (%s); state from %s\n", r.LiveErr, stateDir)
	}
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\npipeline %s, table %s: %s", t.Pipeline, t.Table, t.Phase)
		if t.LagSec != nil {
			fmt.Fprintf(w, ", lag %s", secs(*t.LagSec))
		}
		fmt.Fprintln(w)
		if b := t.Backfill; b != nil {
			fmt.Fprintf(w, "  backfill: %s", orDash(b.Kind))
			if b.Done {
				fmt.Fprint(w, ", done")
			}
			fmt.Fprintf(w, ", %d of %d partitions started are done", b.PartsDone, b.PartsSeen)
			if b.ItemsDone > 0 {
				fmt.Fprintf(w, ", %d", b.ItemsDone)
				if b.ItemsTotal > 0 {
					fmt.Fprintf(w, " of %d", b.ItemsTotal)
				}
				fmt.Fprintf(w, " items (%.0f/s)", b.ItemsPerS)
			}
			fmt.Fprintln(w)
			for _, p := range b.Open {
				fmt.Fprintf(w, "    %s: lease %s\n", p.Partition, leaseText(p.Lease, false, time.Now()))
			}
		}
		if t.DeadLetters > 0 {
			fmt.Fprintf(w, "  dead letters: %d in %s (replay with ddbsync redrive)\n", t.DeadLetters, t.DLQFile)
		}
		if t.Gap != "" {
			fmt.Fprintf(w, "  GAP: %s\n", t.Gap)
		}
		if p := t.LastProblem; p != nil {
			msg := p.Msg
			if p.Err != "" {
				msg += ": " + p.Err
			}
			fmt.Fprintf(w, "  last problem (%s, %s ago): %s\n", p.Level, time.Since(p.At).Round(time.Second), msg)
		}
		if len(t.Shards) == 0 {
			continue
		}
		printShards(w, t.Shards)
	}
}

// printShards writes a table's shards: state, lease (a shared state table
// only), lag, checkpoint and parent.
func printShards(w io.Writer, shards []status.ShardReport) {
	shared := false
	for _, s := range shards {
		shared = shared || s.Lease != nil
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if shared {
		fmt.Fprintln(tw, "  SHARD\tSTATE\tLEASE\tAPPLIED UP TO\tLAG\tCHECKPOINT\tPARENT")
	} else {
		fmt.Fprintln(tw, "  SHARD\tSTATE\tLAG\tCHECKPOINT\tPARENT")
	}
	now := time.Now()
	for _, s := range shards {
		state := "waiting"
		switch {
		case s.Done:
			state = "done"
		case s.Reading:
			state = "reading"
		}
		if s.Owner != "" && !s.Done {
			state = "reading (node " + s.Owner + ")"
		}
		lag := "-"
		if s.LagSec != nil {
			lag = secs(*s.LagSec)
		}
		if shared {
			lease, applied := leaseText(s.Lease, s.Done, now), "-"
			if s.Lease != nil && s.Lease.AppliedUpTo != nil {
				applied = s.Lease.AppliedUpTo.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Shard, state, lease, applied, lag, orDash(s.Sequence), orDash(s.Parent))
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Shard, state, lag, orDash(s.Sequence), orDash(s.Parent))
	}
	_ = tw.Flush()
}

// leaseText says who holds a lease and until when, or since when it is
// expired.
func leaseText(l *status.LeaseReport, done bool, now time.Time) string {
	switch {
	case l == nil || done:
		return "-"
	case l.Node == "" || l.Expires == nil:
		return "free"
	case l.Held:
		return fmt.Sprintf("node %s until %s (%s)", l.Node, l.Expires.UTC().Format(time.RFC3339), l.Expires.Sub(now).Round(100*time.Millisecond))
	default:
		return fmt.Sprintf("node %s EXPIRED %s ago", l.Node, now.Sub(*l.Expires).Round(100*time.Millisecond))
	}
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(100 * time.Millisecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
