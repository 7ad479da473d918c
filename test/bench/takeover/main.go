// Command takeover is the fail-over benchmark (make bench-takeover): two
// ddbsync nodes share one pipeline of N tables (one open shard each)
// through a DynamoDB state table. Node a starts alone and takes every
// shard; node b joins; both are measured in steady state (state table
// calls per second by operation, GetRecords/s, CPU and RSS per shard);
// then a is ended — SIGKILL (a crash: its leases must expire) or SIGTERM
// (a rolling deploy: it releases them) — and the program prints how long
// b took to read every shard a held. Rounds interleave the sizes and
// alternate which ending comes first.
//
// With -baseline BIN a second build runs every case interleaved with the
// first and rows compare the two (the state table call counts need a
// build that exports ddbsync_state_requests_total).
//
//	bash test/bench/run.sh takeover [-shards 100,300] [-rounds 2] [-lease-timeout 10s] [-measure 10s] [-poll-interval 5s] [-baseline BIN]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/test/bench/internal/kit"
)

func main() {
	sizes := flag.String("shards", "100", "open shard counts (one table each; comma-separated)")
	rounds := flag.Int("rounds", 2, "interleaved rounds (each ends node a once by SIGKILL and once by SIGTERM)")
	lease := flag.Duration("lease-timeout", 10*time.Second, "source_coordination.lease_timeout")
	measure := flag.Duration("measure", 10*time.Second, "steady-state window with both nodes up")
	poll := flag.String("poll-interval", "", "tables[].stream.poll_interval (\"\" = ddbsync's default): DynamoDB Local serves every stream and the state table from one process, so many shards polled at the default starve the state table there")
	bin := flag.String("bin", "bin/ddbsync", "ddbsync binary")
	baseline := flag.String("baseline", "", "a second ddbsync binary (e.g. an earlier build) run interleaved with -bin on every case, compared row by row")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ns, err := kit.Counts(*sizes, 1)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-takeover: -shards %v\n", err)
		os.Exit(2)
	}
	b := &bench{lease: *lease, measure: *measure, poll: *poll}
	if err := b.run(ctx, ns, *rounds, *bin, *baseline); err != nil {
		fmt.Fprintln(os.Stderr, "bench-takeover:", err)
		os.Exit(1)
	}
}

type bench struct {
	st             *kit.Stack
	bins           []binary // ddbsync, then the baseline if any
	dir            string
	prefix         string
	tables         []string
	lease, measure time.Duration
	poll           string // poll_interval, "" = default
}

// binary is a ddbsync build under test.
type binary struct{ label, path string }

// ending is how node a goes away.
type ending string

const (
	kill ending = "SIGKILL"
	term ending = "SIGTERM"
)

// result is one case: the steady state of both nodes, then the take-over.
type result struct {
	held       int           // shards a held when it was ended
	first, all time.Duration // from the signal to b reading the first / every one of them
	cold       time.Duration // a alone: start to every shard read
	balance    time.Duration // b's start to a steady split of every shard
	a, b       steady
}

// steady is one node's rates in the window with both nodes up.
type steady struct {
	open, getRecords, gets, updates, queries, cores, rssMiB float64
}

func (b *bench) run(ctx context.Context, ns []int, rounds int, binPath, baseline string) (err error) {
	st, err := kit.OpenStack(ctx)
	if err != nil {
		return err
	}
	b.st = st
	for _, bin := range []binary{{"ddbsync", binPath}, {"baseline", baseline}} {
		if bin.path == "" {
			continue
		}
		if bin.path, err = filepath.Abs(bin.path); err != nil {
			return err
		}
		b.bins = append(b.bins, bin)
	}
	if b.dir, err = os.MkdirTemp("", "ddbsync-bench-takeover-"); err != nil {
		return err
	}
	defer func() {
		if err == nil {
			os.RemoveAll(b.dir)
		} else {
			fmt.Fprintf(os.Stderr, "bench-takeover: the nodes' logs are kept in %s\n", b.dir)
		}
	}()
	maxN := 0
	for _, n := range ns {
		maxN = max(maxN, n)
	}
	b.prefix = fmt.Sprintf("bench-takeover-%d-", time.Now().UnixNano()%1e9)
	start := time.Now()
	for i := range maxN {
		t := fmt.Sprintf("%s%04d", b.prefix, i)
		if _, err := st.CreateStreamTable(ctx, t); err != nil {
			return err
		}
		b.tables = append(b.tables, t)
	}
	defer func() {
		for _, t := range b.tables {
			st.DeleteTable(ctx, t)
		}
	}()
	fmt.Printf("bench-takeover: %d tables created in %s; shards %v, %d rounds, lease_timeout %s, window %s\n",
		maxN, time.Since(start).Round(time.Millisecond), ns, rounds, b.lease, b.measure)
	got := map[int]map[string]map[ending][]result{}
	load := kit.StartLoad()
	for r := range rounds {
		order := []ending{kill, term}
		bins := b.bins
		if r%2 == 1 {
			order = []ending{term, kill}
			bins = append([]binary{}, b.bins...)
			slices.Reverse(bins)
		}
		for _, n := range ns {
			if got[n] == nil {
				got[n] = map[string]map[ending][]result{}
			}
			for _, e := range order {
				for _, bin := range bins {
					if got[n][bin.label] == nil {
						got[n][bin.label] = map[ending][]result{}
					}
					res, err := b.one(ctx, bin.path, fmt.Sprintf("r%d-n%d-%s-%s", r, n, strings.ToLower(string(e)), bin.label), n, e)
					if err != nil {
						return fmt.Errorf("%s, %d shards, %s: %w", bin.label, n, e, err)
					}
					fmt.Printf("  round %d, %-8s %4d shards, %s: a alone read all in %5.1f s; steady split after %5.1f s; a held %d, b read the first after %5.2f s, all after %5.2f s; GetItem/s a %.1f, b %.1f; a %.1f MiB RSS\n",
						r+1, bin.label, n, e, res.cold.Seconds(), res.balance.Seconds(), res.held, res.first.Seconds(), res.all.Seconds(),
						res.a.gets, res.b.gets, res.a.rssMiB)
					got[n][bin.label][e] = append(got[n][bin.label][e], res)
				}
			}
		}
	}
	rep := load.Stop()
	for _, n := range ns {
		for _, bin := range b.bins {
			b.emit(n, bin.label, got[n][bin.label], rep)
		}
		if len(b.bins) == 2 {
			b.compare(n, got[n]["ddbsync"], got[n]["baseline"], rep)
		}
	}
	return nil
}

// compare prints ddbsync against the baseline, case by case.
func (b *bench) compare(n int, a, base map[ending][]result, rep kit.LoadReport) {
	c := fmt.Sprintf("%d shards, 2 nodes, lease_timeout %s", n, b.lease)
	row := func(metric string, e ending, f func(result) float64, verb string) {
		var x, y []float64
		for i := range min(len(a[e]), len(base[e])) {
			x, y = append(x, f(a[e][i])), append(y, f(base[e][i]))
		}
		kit.Emit(kit.Row{Bench: "take-over vs baseline", Case: c, Metric: metric,
			A: "ddbsync: " + kit.SpreadOf(x).Format(verb), B: "baseline: " + kit.SpreadOf(y).Format(verb),
			Ratio: kit.SpreadOf(kit.Ratios(x, y)).Format("%.2f"), Load: rep.String()})
	}
	row("s until b reads every shard after SIGKILL", kill, func(r result) float64 { return r.all.Seconds() }, "%.2f")
	row("s until b reads every shard after SIGTERM", term, func(r result) float64 { return r.all.Seconds() }, "%.2f")
	row("GetItem/s of node b, waiting", kill, func(r result) float64 { return r.b.gets }, "%.1f")
	row("GetItem/s of node a, holding", kill, func(r result) float64 { return r.a.gets }, "%.1f")
	row("CPU % of a core, node b, waiting", kill, func(r result) float64 { return r.b.cores * 100 }, "%.2f")
}

// emit prints the rows of one size.
func (b *bench) emit(n int, label string, got map[ending][]result, rep kit.LoadReport) {
	secs := func(rs []result, f func(result) time.Duration) []float64 {
		var out []float64
		for _, r := range rs {
			out = append(out, f(r).Seconds())
		}
		return out
	}
	of := func(rs []result, f func(result) float64) kit.Spread {
		var out []float64
		for _, r := range rs {
			out = append(out, f(r))
		}
		return kit.SpreadOf(out)
	}
	all := func(r result) time.Duration { return r.all }
	killAll, termAll := secs(got[kill], all), secs(got[term], all)
	var perLease []float64
	for _, s := range killAll {
		perLease = append(perLease, s/b.lease.Seconds())
	}
	c := fmt.Sprintf("%s, %d shards, 2 nodes, lease_timeout %s%s", label, n, b.lease, b.pollNote())
	both := append(append([]result{}, got[kill]...), got[term]...)
	held := "shards taken over " + of(both, func(r result) float64 { return float64(r.held) }).Format("%.0f")
	kit.Emit(kit.Row{Bench: "take-over", Case: c, Metric: "s until b reads every shard of a",
		A: "SIGKILL: " + kit.SpreadOf(killAll).Format("%.2f"), B: "SIGTERM: " + kit.SpreadOf(termAll).Format("%.2f"),
		Ratio: "SIGKILL / lease_timeout " + kit.SpreadOf(perLease).Format("%.2f"), Rate: held, Load: rep.String()})
	kit.Emit(kit.Row{Bench: "take-over", Case: c, Metric: "s from b's start to a steady split",
		A: "split: " + of(both, func(r result) float64 { return r.balance.Seconds() }).Format("%.1f"),
		B: "a kept " + of(both, func(r result) float64 { return float64(r.held) }).Format("%.0f") + " shards", Load: rep.String()})
	kit.Emit(kit.Row{Bench: "take-over", Case: c, Metric: "s until b reads the first shard of a",
		A: "SIGKILL: " + kit.SpreadOf(secs(got[kill], func(r result) time.Duration { return r.first })).Format("%.2f"),
		B: "SIGTERM: " + kit.SpreadOf(secs(got[term], func(r result) time.Duration { return r.first })).Format("%.2f"), Load: rep.String()})
	kit.Emit(kit.Row{Bench: "take-over", Case: c, Metric: "state table calls/s (GetItem, UpdateItem, Query)",
		A: "a, holding: " + of(both, func(r result) float64 { return r.a.gets }).Format("%.1f") + ", " +
			of(both, func(r result) float64 { return r.a.updates }).Format("%.1f") + ", " + of(both, func(r result) float64 { return r.a.queries }).Format("%.1f"),
		B: "b, waiting: " + of(both, func(r result) float64 { return r.b.gets }).Format("%.1f") + ", " +
			of(both, func(r result) float64 { return r.b.updates }).Format("%.1f") + ", " + of(both, func(r result) float64 { return r.b.queries }).Format("%.1f"),
		Rate: "renewals due " + fmt.Sprintf("%.1f", float64(n)*3/b.lease.Seconds()) + "/s", Load: rep.String()})
	kit.Emit(kit.Row{Bench: "take-over", Case: c, Metric: "node a ÷ shards held: RSS KiB, CPU % of a core",
		A: "RSS: " + of(both, func(r result) float64 { return r.a.rssMiB * 1024 / max(r.a.open, 1) }).Format("%.0f"),
		B: "CPU: " + of(both, func(r result) float64 { return r.a.cores * 100 / max(r.a.open, 1) }).Format("%.3f"),
		Rate: "GetRecords/s per shard " + of(both, func(r result) float64 { return r.a.getRecords / max(r.a.open, 1) }).Format("%.2f") +
			"; a alone read all in s " + of(both, func(r result) float64 { return r.cold.Seconds() }).Format("%.1f"), Load: rep.String()})
}

// one runs a case on the first n tables with a state table of its own.
func (b *bench) one(ctx context.Context, bin, name string, n int, e ending) (result, error) {
	state := b.prefix + "state-" + name
	defer b.st.DeleteTable(ctx, state)
	var res result
	t0 := time.Now()
	a, err := kit.Start(bin, b.dir, name+"-a", b.pipeline(n, state, "a", name))
	if err != nil {
		return res, err
	}
	defer a.Stop()
	if err := a.WaitMetric(ctx, "ddbsync_stream_open_shards", float64(n), 3*time.Minute+time.Duration(n)*100*time.Millisecond); err != nil {
		return res, fmt.Errorf("node a: %w", err)
	}
	res.cold = time.Since(t0)
	bn, err := kit.Start(bin, b.dir, name+"-b", b.pipeline(n, state, "b", name))
	if err != nil {
		return res, err
	}
	defer bn.Stop()
	if err := bn.WaitUp(ctx, time.Minute); err != nil {
		return res, fmt.Errorf("node b: %w", err)
	}
	// Let b start every table and the nodes balance: every shard read by
	// one of them, the split unchanged for a heartbeat's period.
	if res.balance, err = awaitSteady(ctx, a, bn, n, b.lease/3+time.Second, 3*time.Minute+time.Duration(n)*200*time.Millisecond); err != nil {
		return res, err
	}
	if res.a, res.b, err = b.window(ctx, a, bn); err != nil {
		return res, err
	}
	openA, err := a.Metric(ctx, "ddbsync_stream_open_shards")
	if err != nil {
		return res, err
	}
	openB, err := bn.Metric(ctx, "ddbsync_stream_open_shards")
	if err != nil {
		return res, err
	}
	if int(openA+openB) != n {
		return res, fmt.Errorf("before the %s: a reads %v and b %v shards, want %d in all", e, openA, openB, n)
	}
	res.held = int(openA)
	start := time.Now()
	if e == kill {
		a.Kill()
	} else {
		a.Terminate()
	}
	deadline := start.Add(3*b.lease + time.Minute)
	for {
		got, err := bn.Metric(ctx, "ddbsync_stream_open_shards")
		if err == nil && got > openB && res.first == 0 {
			res.first = time.Since(start)
		}
		if err == nil && int(got) == n {
			res.all = time.Since(start)
			return res, nil
		}
		if bn.Exited() {
			return res, fmt.Errorf("node b exited (log %s)", filepath.Join(bn.Dir, "ddbsync.log"))
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("b reads %v of %d shards %s after the %s (log %s)", got, n, time.Since(start).Round(time.Second), e, filepath.Join(bn.Dir, "ddbsync.log"))
		}
		if err := retry.Sleep(ctx, 20*time.Millisecond); err != nil {
			return res, err
		}
	}
}

// awaitSteady waits until a and b read n shards in all with the split
// unchanged for hold, and returns how long that took.
func awaitSteady(ctx context.Context, a, b *kit.Proc, n int, hold, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var last [2]float64
	var since time.Time
	for {
		oa, erra := a.Metric(ctx, "ddbsync_stream_open_shards")
		ob, errb := b.Metric(ctx, "ddbsync_stream_open_shards")
		now := time.Now()
		switch {
		case erra != nil || errb != nil || int(oa+ob) != n || [2]float64{oa, ob} != last:
			since = time.Time{}
		case since.IsZero():
			since = now
		case now.Sub(since) >= hold:
			return since.Sub(start), nil
		}
		last = [2]float64{oa, ob}
		if now.Sub(start) > timeout {
			return 0, fmt.Errorf("a and b read %v and %v of %d shards %s after b started, not steady", oa, ob, n, timeout)
		}
		if err := retry.Sleep(ctx, 200*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// window measures both nodes over the steady-state window.
func (b *bench) window(ctx context.Context, a, bn *kit.Proc) (steady, steady, error) {
	type snap struct {
		getRecords, gets, updates, queries float64
		cpu                                time.Duration
	}
	read := func(p *kit.Proc) (snap, error) {
		var s snap
		var err error
		for _, m := range []struct {
			v           *float64
			name, label string
		}{
			{&s.getRecords, "ddbsync_stream_get_records_calls_total", ""},
			{&s.gets, "ddbsync_state_requests_total", `op="GetItem"`},
			{&s.updates, "ddbsync_state_requests_total", `op="UpdateItem"`},
			{&s.queries, "ddbsync_state_requests_total", `op="Query"`},
		} {
			if *m.v, err = p.MetricWith(ctx, m.name, m.label); err != nil {
				return s, err
			}
		}
		s.cpu = p.CPU()
		return s, nil
	}
	a0, err := read(a)
	if err != nil {
		return steady{}, steady{}, err
	}
	b0, err := read(bn)
	if err != nil {
		return steady{}, steady{}, err
	}
	t0 := time.Now()
	var rssA, rssB float64
	for time.Since(t0) < b.measure {
		if err := retry.Sleep(ctx, time.Second); err != nil {
			return steady{}, steady{}, err
		}
		rssA, rssB = max(rssA, float64(a.RSS())/1024), max(rssB, float64(bn.RSS())/1024)
	}
	el := time.Since(t0).Seconds()
	a1, err := read(a)
	if err != nil {
		return steady{}, steady{}, err
	}
	b1, err := read(bn)
	if err != nil {
		return steady{}, steady{}, err
	}
	rate := func(p *kit.Proc, s0, s1 snap, rss float64) steady {
		open, _ := p.Metric(ctx, "ddbsync_stream_open_shards")
		return steady{open: open, getRecords: (s1.getRecords - s0.getRecords) / el,
			gets: (s1.gets - s0.gets) / el, updates: (s1.updates - s0.updates) / el, queries: (s1.queries - s0.queries) / el,
			cores: (s1.cpu - s0.cpu).Seconds() / el, rssMiB: rss}
	}
	return rate(a, a0, a1, rssA), rate(bn, b0, b1, rssB), nil
}

// pipeline is the shared pipeline as node reads it (only node_id differs).
func (b *bench) pipeline(n int, state, node, index string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "bench:\n  source_coordination:\n    store: dynamodb\n    table_name: %q\n    lease_timeout: %s\n    node_id: %s\n", state, b.lease, node)
	s.WriteString("  source:\n    dynamodb:\n      tables:\n")
	for _, t := range b.tables[:n] {
		poll := ""
		if b.poll != "" {
			poll = ", poll_interval: " + b.poll
		}
		fmt.Fprintf(&s, "        - table_arn: %q\n          stream: {start_position: LATEST%s}\n", kit.TableARN(t), poll)
	}
	fmt.Fprintf(&s, "  sink:\n    - opensearch:\n        hosts: [%q]\n        index: %q\n", b.st.OpenSearch, b.prefix+index)
	return s.String()
}

// pollNote names a poll_interval other than the default in a case.
func (b *bench) pollNote() string {
	if b.poll == "" {
		return ""
	}
	return ", poll_interval " + b.poll
}
