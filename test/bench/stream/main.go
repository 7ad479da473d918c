// Command stream is the stream latency benchmark (make bench-stream, part
// of make bench). For each write rate (1 per 2 s, 1/s, 50/s, and as fast as
// DynamoDB Local takes writes) it measures, for every new item, the time
// from PutItem returning to the document being readable with a realtime
// GET (_mget) and to it being searchable (after the index's refresh), and
// the GetRecords calls per shard per second, read from ddbsync's /metrics.
//
// Two ddbsync processes run side by side on two tables: A with one
// stream.poll_interval (the default), B with another (1s, the old fixed
// idle poll). Segments are interleaved A B A B … after a warm-up, so both
// see the same machine; writes arrive at random (Poisson) times so they do
// not lock in phase with the poll timer.
//
//	bash test/bench/run.sh stream [-rates 0.5,1,50,max] [-rounds 3] [-samples 10] [-b 1s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/bench/internal/kit"
)

type opts struct {
	rates   []string
	rounds  int
	samples int           // writes per segment at low rates
	minSeg  time.Duration // shortest segment
	writers int           // concurrent writers at "max"
	pollA   string        // "" = default
	pollB   string
	bin     string
}

func main() {
	var o opts
	rates := flag.String("rates", "0.5,1,50,max", "write rates per second; max = as fast as -writers concurrent PutItem calls go")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved A B rounds per rate")
	flag.IntVar(&o.samples, "samples", 10, "writes per segment at low rates (a segment lasts at least samples/rate)")
	flag.DurationVar(&o.minSeg, "segment", 4*time.Second, "shortest segment")
	flag.IntVar(&o.writers, "writers", 8, "concurrent writers at rate max")
	flag.StringVar(&o.pollA, "a", "", "side A's stream.poll_interval (empty: the default)")
	flag.StringVar(&o.pollB, "b", "1s", "side B's stream.poll_interval")
	flag.StringVar(&o.bin, "bin", "bin/ddbsync", "ddbsync binary")
	flag.Parse()
	o.rates = strings.Split(*rates, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-stream:", err)
		os.Exit(1)
	}
}

// side is one ddbsync process on its own table and index.
type side struct {
	name, poll   string
	table, index string
	proc         *kit.Proc
	seq          atomic.Int64
}

// segment is what one timed write segment measured.
type segment struct {
	rt, sr      []time.Duration // PutItem return → realtime GET, → searchable
	writes      int
	rate        float64 // achieved writes/s
	callsPerSec float64 // GetRecords per shard per second
}

func run(ctx context.Context, o opts) error {
	st, err := kit.OpenStack(ctx)
	if err != nil {
		return err
	}
	osURL, db := st.OpenSearch, st.DB
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ddbsync-bench-stream-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stamp := time.Now().Format("20060102-150405")
	label := func(p string) string {
		if p == "" {
			return "default"
		}
		return p
	}
	sides := []*side{
		{name: "A poll_interval " + label(o.pollA), poll: o.pollA, table: "bench-stream-" + stamp + "-a"},
		{name: "B poll_interval " + label(o.pollB), poll: o.pollB, table: "bench-stream-" + stamp + "-b"},
	}
	for _, s := range sides {
		s.index = s.table
		if _, err := st.CreateStreamTable(ctx, s.table); err != nil {
			return err
		}
		defer db.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(s.table)})
		defer deleteIndex(osURL, s.index)
		if s.proc, err = kit.Start(bin, dir, s.table, kit.StreamPipeline(s.table, osURL, s.index, s.poll)); err != nil {
			return err
		}
		defer s.proc.Stop()
	}
	// Both sides read their shard before anything is measured.
	for _, s := range sides {
		if err := s.proc.WaitMetric(ctx, "ddbsync_stream_open_shards", 1, time.Minute); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	fmt.Printf("bench-stream: %s vs %s; rates %s; %d interleaved rounds per rate\n", sides[0].name, sides[1].name, strings.Join(o.rates, ", "), o.rounds)

	// Warm-up: a few seconds of writes through each side (JITs, connections,
	// the index's creation), not measured.
	for _, s := range sides {
		if _, err := s.segment(ctx, db, osURL, 20, 3*time.Second, 0); err != nil {
			return fmt.Errorf("warm-up %s: %w", s.name, err)
		}
	}

	for _, r := range o.rates {
		rate, dur := 0.0, o.minSeg
		if r != "max" {
			if rate, err = strconv.ParseFloat(r, 64); err != nil || rate <= 0 {
				return fmt.Errorf("-rates: %q is not a positive number or max", r)
			}
			dur = max(o.minSeg, time.Duration(float64(o.samples)/rate*float64(time.Second)))
		}
		caseName := r + " writes/s"
		if r == "max" {
			caseName = fmt.Sprintf("max (%d writers)", o.writers)
		} else if rate < 1 {
			caseName = fmt.Sprintf("1 write per %gs", 1/rate)
		}
		load := kit.StartLoad()
		segs := make([][]segment, len(sides))
		for round := 0; round < o.rounds; round++ {
			for i, s := range sides {
				sg, err := s.segment(ctx, db, osURL, rate, dur, o.writers)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", caseName, s.name, err)
				}
				segs[i] = append(segs[i], sg)
			}
		}
		report(caseName, sides, segs, load.Stop())
	}
	return nil
}

// report prints one rate's results and its table rows.
func report(caseName string, sides []*side, segs [][]segment, load kit.LoadReport) {
	type sum struct {
		rtP50, rtP99, srP99, calls, rate []float64
		rt, sr                           []time.Duration
	}
	sums := make([]sum, len(sides))
	for i := range sides {
		for _, sg := range segs[i] {
			s := &sums[i]
			rt, sr := sorted(sg.rt), sorted(sg.sr)
			s.rt, s.sr = append(s.rt, rt...), append(s.sr, sr...)
			s.rtP50 = append(s.rtP50, kit.Ms(kit.Percentile(rt, 0.50)))
			s.rtP99 = append(s.rtP99, kit.Ms(kit.Percentile(rt, 0.99)))
			s.srP99 = append(s.srP99, kit.Ms(kit.Percentile(sr, 0.99)))
			s.calls = append(s.calls, sg.callsPerSec)
			s.rate = append(s.rate, sg.rate)
		}
		sort.Slice(sums[i].rt, func(a, b int) bool { return sums[i].rt[a] < sums[i].rt[b] })
		sort.Slice(sums[i].sr, func(a, b int) bool { return sums[i].sr[a] < sums[i].sr[b] })
	}
	fmt.Printf("\n%s: %s\n", caseName, load)
	for i, s := range sides {
		u := sums[i]
		fmt.Printf("  %-24s %5d writes at %s/s  realtime p50 %4.0f p95 %4.0f p99 %4.0f ms  searchable p50 %4.0f p95 %4.0f p99 %4.0f ms  GetRecords %s /s/shard\n",
			s.name, len(u.rt), kit.SpreadOf(u.rate).Format("%.1f"),
			kit.Ms(kit.Percentile(u.rt, .5)), kit.Ms(kit.Percentile(u.rt, .95)), kit.Ms(kit.Percentile(u.rt, .99)),
			kit.Ms(kit.Percentile(u.sr, .5)), kit.Ms(kit.Percentile(u.sr, .95)), kit.Ms(kit.Percentile(u.sr, .99)),
			kit.SpreadOf(u.calls).Format("%.2f"))
		fmt.Printf("  %-24s per round: realtime p50 %s, p99 %s ms; searchable p99 %s ms\n", "",
			kit.SpreadOf(u.rtP50).Format("%.0f"), kit.SpreadOf(u.rtP99).Format("%.0f"), kit.SpreadOf(u.srP99).Format("%.0f"))
	}
	a, b := sums[0], sums[1]
	// pooled percentile over all rounds, then the per-round min–max.
	cell := func(name string, pooled float64, rounds []float64, verb string) string {
		sp := kit.SpreadOf(rounds)
		return fmt.Sprintf("%s: "+verb+" ("+verb+"–"+verb+")", name, pooled, sp.Min, sp.Max)
	}
	rate := fmt.Sprintf("A %s/s, B %s/s", kit.SpreadOf(a.rate).Format("%.1f"), kit.SpreadOf(b.rate).Format("%.1f"))
	an, bn := strings.Fields(sides[0].name), strings.Fields(sides[1].name)
	na, nb := "A "+an[len(an)-1], "B "+bn[len(bn)-1]
	rows := []struct {
		metric string
		pa, pb float64
		ra, rb []float64
		verb   string
	}{
		{"realtime p50 ms", kit.Ms(kit.Percentile(a.rt, .5)), kit.Ms(kit.Percentile(b.rt, .5)), a.rtP50, b.rtP50, "%.0f"},
		{"realtime p99 ms", kit.Ms(kit.Percentile(a.rt, .99)), kit.Ms(kit.Percentile(b.rt, .99)), a.rtP99, b.rtP99, "%.0f"},
		{"searchable p99 ms", kit.Ms(kit.Percentile(a.sr, .99)), kit.Ms(kit.Percentile(b.sr, .99)), a.srP99, b.srP99, "%.0f"},
		{"GetRecords /s/shard", kit.SpreadOf(a.calls).Med, kit.SpreadOf(b.calls).Med, a.calls, b.calls, "%.2f"},
	}
	for _, r := range rows {
		kit.Emit(kit.Row{Bench: "stream latency", Case: caseName, Metric: r.metric,
			A: cell(na, r.pa, r.ra, r.verb), B: cell(nb, r.pb, r.rb, r.verb),
			Ratio: "A/B " + kit.SpreadOf(kit.Ratios(r.ra, r.rb)).Format("%.2f"), Rate: rate, Load: load.String()})
	}
	fmt.Printf("  (p99 pooled over %d and %d writes; a pooled percentile of few writes is close to their maximum)\n", len(a.rt), len(b.rt))
}

func sorted(d []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// segment writes new items for dur at rate (Poisson arrivals; rate 0: as
// fast as writers concurrent PutItems go) and waits until every one is
// searchable.
func (s *side) segment(ctx context.Context, db *dynamodb.Client, osURL string, rate float64, dur time.Duration, writers int) (segment, error) {
	var sg segment
	calls0, err := s.proc.Metric(ctx, "ddbsync_stream_get_records_calls_total")
	if err != nil {
		return sg, fmt.Errorf("metrics: %w", err)
	}
	t0 := time.Now()
	c := newChecker(osURL, s.index)
	checkDone := make(chan struct{})
	stopCheck := make(chan struct{})
	go func() { defer close(checkDone); c.loop(stopCheck) }()

	var writes atomic.Int64
	var werr atomic.Value
	var wg sync.WaitGroup
	write := func() {
		id := "w" + strconv.FormatInt(s.seq.Add(1), 10)
		if err := put(ctx, db, s.table, id); err != nil {
			werr.Store(err)
			return
		}
		c.add(id, time.Now())
		writes.Add(1)
	}
	start := time.Now()
	end := start.Add(dur)
	if rate > 0 {
		// A fixed number of writes (dur × rate), so that a segment at a low
		// rate does not end up with two samples by chance.
		n := max(1, int(math.Round(dur.Seconds()*rate)))
		sem := make(chan struct{}, 16) // a slow PutItem does not lower the rate
		next := start
		for i := 0; i < n; i++ {
			next = next.Add(time.Duration(rand.ExpFloat64() / rate * float64(time.Second)))
			end = next
			if err := sleepUntil(ctx, next); err != nil {
				return sg, err
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() { defer func() { <-sem; wg.Done() }(); write() }()
		}
	} else {
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) && ctx.Err() == nil && werr.Load() == nil {
					write()
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := werr.Load(); e != nil {
		close(stopCheck)
		return sg, e.(error)
	}
	if rate > 0 { // the schedule's length: the sum of the random gaps
		elapsed = end.Sub(start)
	}
	sg.writes = int(writes.Load())
	sg.rate = float64(sg.writes) / elapsed.Seconds()
	if err := c.wait(ctx, 60*time.Second); err != nil {
		close(stopCheck)
		return sg, err
	}
	close(stopCheck)
	<-checkDone
	calls1, err := s.proc.Metric(ctx, "ddbsync_stream_get_records_calls_total")
	if err != nil {
		return sg, err
	}
	shards, _ := s.proc.Metric(ctx, "ddbsync_stream_open_shards")
	sg.callsPerSec = (calls1 - calls0) / time.Since(t0).Seconds() / math.Max(shards, 1)
	sg.rt, sg.sr = c.results()
	return sg, nil
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// checker polls OpenSearch for pending ids: a realtime _mget, then a search
// (which sees a document only after a refresh).
type checker struct {
	base, index string
	mu          sync.Mutex
	wrote       map[string]time.Time
	rtPending   map[string]bool
	srPending   map[string]bool
	rt, sr      []time.Duration
}

func newChecker(base, index string) *checker {
	return &checker{base: base, index: index, wrote: map[string]time.Time{}, rtPending: map[string]bool{}, srPending: map[string]bool{}}
}

func (c *checker) add(id string, at time.Time) {
	c.mu.Lock()
	c.wrote[id] = at
	c.rtPending[id] = true
	c.srPending[id] = true
	c.mu.Unlock()
}

func (c *checker) keys(m map[string]bool) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

func (c *checker) loop(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if ids := c.keys(c.rtPending); len(ids) > 0 {
			found := mget(c.base, c.index, ids)
			now := time.Now()
			c.mu.Lock()
			for _, id := range found {
				if c.rtPending[id] {
					delete(c.rtPending, id)
					c.rt = append(c.rt, now.Sub(c.wrote[id]))
				}
			}
			c.mu.Unlock()
		}
		if ids := c.keys(c.srPending); len(ids) > 0 {
			found := search(c.base, c.index, ids)
			now := time.Now()
			c.mu.Lock()
			for _, id := range found {
				if c.srPending[id] {
					delete(c.srPending, id)
					c.sr = append(c.sr, now.Sub(c.wrote[id]))
				}
			}
			c.mu.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *checker) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		n := len(c.rtPending) + len(c.srPending)
		c.mu.Unlock()
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d documents never arrived within %s", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *checker) results() (rt, sr []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.rt...), append([]time.Duration(nil), c.sr...)
}

func put(ctx context.Context, db *dynamodb.Client, table, id string) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: id}, "payload": &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)},
		}})
		if err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond) // DynamoDB Local's lock timeouts under load
	}
	return fmt.Errorf("put %s: %w", id, err)
}

// mget returns the ids a realtime multi-get finds.
func mget(base, index string, ids []string) []string {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	var r struct {
		Docs []struct {
			ID    string `json:"_id"`
			Found bool   `json:"found"`
		} `json:"docs"`
	}
	if !post(base+"/"+index+"/_mget?_source=false", body, &r) {
		return nil
	}
	var out []string
	for _, d := range r.Docs {
		if d.Found {
			out = append(out, d.ID)
		}
	}
	return out
}

// search returns the ids a search finds (refreshed documents only).
func search(base, index string, ids []string) []string {
	body, _ := json.Marshal(map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}, "_source": false, "size": len(ids)})
	var r struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if !post(base+"/"+index+"/_search?filter_path=hits.hits._id", body, &r) {
		return nil
	}
	var out []string
	for _, h := range r.Hits.Hits {
		out = append(out, h.ID)
	}
	return out
}

func post(url string, body []byte, v any) bool {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && json.Unmarshal(b, v) == nil
}

func deleteIndex(base, index string) {
	req, _ := http.NewRequest(http.MethodDelete, base+"/"+index, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
