// Command shards is the shards-per-node benchmark (make bench-shards): one
// ddbsync process reads the streams of N tables (one open shard each) and
// the program prints, for each N, the open shards ddbsync reports, its
// GetRecords rate (total and per shard), CPU (cores) and RSS, and the RSS
// and CPU each shard adds over a one-table run measured in the same round
// (rounds interleave the sizes: 1, N1, N2, …, 1, N1, …).
//
//	bash test/bench/run.sh shards [-tables 50,200] [-rounds 2] [-measure 15s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/test/bench/internal/kit"
)

func main() {
	sizes := flag.String("tables", "50,200", "table counts to compare with one table (comma-separated)")
	rounds := flag.Int("rounds", 2, "interleaved rounds")
	measure := flag.Duration("measure", 15*time.Second, "steady-state window per run")
	bin := flag.String("bin", "bin/ddbsync", "ddbsync binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ns, err := kit.Counts(*sizes, 2)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-shards: -tables %v\n", err)
		os.Exit(2)
	}
	if err := run(ctx, ns, *rounds, *measure, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-shards:", err)
		os.Exit(1)
	}
}

// sample is one run's steady state.
type sample struct {
	open, callsPerS, cores, rssMiB float64
}

func run(ctx context.Context, ns []int, rounds int, measure time.Duration, binPath string) error {
	st, err := kit.OpenStack(ctx)
	if err != nil {
		return err
	}
	osURL := st.OpenSearch
	bin, err := filepath.Abs(binPath)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ddbsync-bench-shards-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	maxN := ns[len(ns)-1]
	for _, n := range ns {
		maxN = max(maxN, n)
	}
	prefix := fmt.Sprintf("bench-shards-%d-", time.Now().UnixNano()%1e9)
	tables := make([]string, maxN)
	start := time.Now()
	for i := range tables {
		tables[i] = fmt.Sprintf("%s%04d", prefix, i)
		if _, err := st.CreateStreamTable(ctx, tables[i]); err != nil {
			return err
		}
	}
	defer func() {
		for _, t := range tables {
			st.DeleteTable(ctx, t)
		}
	}()
	fmt.Printf("bench-shards: %d tables created in %s; sizes 1 and %v, %d rounds of %s\n", maxN, time.Since(start).Round(time.Millisecond), ns, rounds, measure)

	sizes := append([]int{1}, ns...)
	got := map[int][]sample{}
	load := kit.StartLoad()
	for r := 0; r < rounds; r++ {
		for _, n := range sizes {
			s, err := measureOne(ctx, bin, dir, fmt.Sprintf("r%d-n%d", r, n), tables[:n], osURL, prefix, measure)
			if err != nil {
				return fmt.Errorf("%d tables: %w", n, err)
			}
			fmt.Printf("  round %d, %4d tables: %4.0f open shards, %7.1f GetRecords/s, %.3f cores, %6.1f MiB RSS\n", r+1, n, s.open, s.callsPerS, s.cores, s.rssMiB)
			got[n] = append(got[n], s)
		}
	}
	rep := load.Stop()
	base := got[1]
	for _, n := range ns {
		var perShardRSS, perShardCPU, callsPerShard, rss, open []float64
		for r, s := range got[n] {
			perShardRSS = append(perShardRSS, (s.rssMiB-base[r].rssMiB)*1024/float64(n-1))
			perShardCPU = append(perShardCPU, (s.cores-base[r].cores)*100/float64(n-1))
			callsPerShard = append(callsPerShard, s.callsPerS/max(s.open, 1))
			rss = append(rss, s.rssMiB)
			open = append(open, s.open)
		}
		c := fmt.Sprintf("%d tables, idle", n)
		kit.Emit(kit.Row{Bench: "shards per node", Case: c, Metric: "RSS per added shard KiB",
			A: "ddbsync: " + kit.SpreadOf(perShardRSS).Format("%.0f"), B: "total RSS MiB " + kit.SpreadOf(rss).Format("%.1f"),
			Rate: "open shards " + kit.SpreadOf(open).Format("%.0f"), Load: rep.String()})
		kit.Emit(kit.Row{Bench: "shards per node", Case: c, Metric: "CPU per added shard (% of a core)",
			A: "ddbsync: " + kit.SpreadOf(perShardCPU).Format("%.3f"), B: "GetRecords/s per shard " + kit.SpreadOf(callsPerShard).Format("%.2f"), Load: rep.String()})
	}
	return nil
}

// measureOne runs ddbsync on tables until every shard is read, then
// measures the window.
func measureOne(ctx context.Context, bin, dir, name string, tables []string, osURL, index string, window time.Duration) (sample, error) {
	var b strings.Builder
	b.WriteString("bench:\n  source:\n    dynamodb:\n      tables:\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "        - table_arn: %q\n          stream: {start_position: LATEST}\n", kit.TableARN(t))
	}
	fmt.Fprintf(&b, "  sink:\n    - opensearch:\n        hosts: [%q]\n        index: %q\n", osURL, index+name)
	p, err := kit.Start(bin, dir, name, b.String())
	if err != nil {
		return sample{}, err
	}
	defer p.Stop()
	if err := p.WaitMetric(ctx, "ddbsync_stream_open_shards", float64(len(tables)), 3*time.Minute); err != nil {
		return sample{}, err
	}
	// Let the readers settle into their idle schedule.
	if err := retry.Sleep(ctx, 3*time.Second); err != nil {
		return sample{}, err
	}
	calls0, err := p.Metric(ctx, "ddbsync_stream_get_records_calls_total")
	if err != nil {
		return sample{}, err
	}
	cpu0, t0 := p.CPU(), time.Now()
	var rss []float64
	for time.Since(t0) < window {
		if err := retry.Sleep(ctx, time.Second); err != nil {
			return sample{}, err
		}
		rss = append(rss, float64(p.RSS())/1024)
	}
	el := time.Since(t0).Seconds()
	calls1, err := p.Metric(ctx, "ddbsync_stream_get_records_calls_total")
	if err != nil {
		return sample{}, err
	}
	open, _ := p.Metric(ctx, "ddbsync_stream_open_shards")
	sort.Float64s(rss)
	return sample{open: open, callsPerS: (calls1 - calls0) / el, cores: (p.CPU() - cpu0).Seconds() / el, rssMiB: rss[len(rss)-1]}, nil
}
