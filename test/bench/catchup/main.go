// Command catchup is the stream throughput benchmark (part of make bench):
// N changes are written while ddbsync is stopped, then ddbsync starts from
// TRIM_HORIZON and its apply rate (records/s, from its first GetRecords call
// to the last record acknowledged, read from /metrics) is compared, in the
// same run and interleaved round by round, with the two halves of its
// work done plainly: a bare GetRecords loop reading the same records, and
// a bare _bulk loader writing the same documents (encoded by ddbsync's own
// encoder, 1000 per request like one GetRecords page, one request in
// flight like one shard).
//
//	bash test/bench/run.sh catchup [-n 20000] [-rounds 3]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
	"github.com/ddbsync/ddbsync/test/bench/internal/kit"
)

func main() {
	n := flag.Int("n", 20000, "changes written before ddbsync starts")
	rounds := flag.Int("rounds", 3, "interleaved rounds (ddbsync, GetRecords loop, _bulk loader)")
	bin := flag.String("bin", "bin/ddbsync", "ddbsync binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *rounds, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-catchup:", err)
		os.Exit(1)
	}
}

const pageItems = 1000 // GetRecords' Limit, hence one ddbsync bulk per page

func run(ctx context.Context, n, rounds int, binPath string) error {
	st, err := kit.OpenStack(ctx)
	if err != nil {
		return err
	}
	osURL, cfg, db := st.OpenSearch, st.AWS, st.DB
	streams := dynamodbstreams.NewFromConfig(cfg)
	bin, err := filepath.Abs(binPath)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ddbsync-bench-catchup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	table := "bench-catchup-" + time.Now().Format("20060102-150405")
	streamARN, err := st.CreateStreamTable(ctx, table)
	if err != nil {
		return err
	}
	defer st.DeleteTable(ctx, table)

	start := time.Now()
	items, err := load(ctx, db, table, n)
	if err != nil {
		return err
	}
	fmt.Printf("bench-catchup: %d changes written to %s in %s (ddbsync not running), %d rounds\n", n, table, time.Since(start).Round(time.Millisecond), rounds)
	bodies, err := buildBodies(table, items)
	if err != nil {
		return err
	}

	var ddb, read, write, cpuPerRec, rss []float64
	one := func(round int, measured bool) error {
		idx := fmt.Sprintf("%s-ddbsync-%d", table, round)
		r, cpu, kib, err := timeDDBSync(ctx, bin, dir, table, osURL, idx, n, round)
		deleteIndex(osURL, idx)
		if err != nil {
			return err
		}
		rr, err := timeRead(ctx, streams, streamARN, n)
		if err != nil {
			return err
		}
		cidx := fmt.Sprintf("%s-bulk-%d", table, round)
		wr, err := timeBulk(osURL, cidx, bodies, n)
		deleteIndex(osURL, cidx)
		if err != nil {
			return err
		}
		tag := "warm-up"
		if measured {
			tag = "round " + strconv.Itoa(round)
			ddb, read, write = append(ddb, r), append(read, rr), append(write, wr)
			cpuPerRec, rss = append(cpuPerRec, cpu), append(rss, kib/1024)
		}
		fmt.Printf("  %-8s ddbsync %6.0f records/s (CPU %.0f µs/record, RSS %.0f MiB)   GetRecords loop %6.0f records/s   _bulk loader %6.0f docs/s\n", tag, r, cpu, kib/1024, rr, wr)
		return nil
	}
	load := kit.StartLoad()
	if err := one(0, false); err != nil {
		return err
	}
	for round := 1; round <= rounds; round++ {
		if err := one(round, true); err != nil {
			return err
		}
	}
	lr := load.Stop()
	serial := make([]float64, len(read))
	for i := range read {
		serial[i] = 1 / (1/read[i] + 1/write[i])
	}
	fmt.Printf("  %s\n", lr)
	rate := fmt.Sprintf("%d changes, 1 shard", n)
	emit := func(metric, b string, bv []float64) {
		kit.Emit(kit.Row{Bench: "stream catch-up", Case: fmt.Sprintf("%d changes", n), Metric: metric,
			A: "ddbsync: " + kit.SpreadOf(ddb).Format("%.0f"), B: b + ": " + kit.SpreadOf(bv).Format("%.0f"),
			Ratio: "A/B " + kit.SpreadOf(kit.Ratios(ddb, bv)).Format("%.2f"), Rate: rate, Load: lr.String()})
	}
	emit("records/s", "GetRecords loop", read)
	emit("records/s", "_bulk loader", write)
	emit("records/s", "read then write, serially", serial)
	kit.Emit(kit.Row{Bench: "stream catch-up", Case: fmt.Sprintf("%d changes", n), Metric: "ddbsync CPU µs/record, RSS MiB",
		A: "CPU " + kit.SpreadOf(cpuPerRec).Format("%.0f"), B: "RSS " + kit.SpreadOf(rss).Format("%.0f"), Rate: rate, Load: lr.String()})
	return nil
}

// load writes n new items with BatchWriteItem from 8 goroutines and
// returns them.
func load(ctx context.Context, db *dynamodb.Client, table string, n int) ([]map[string]types.AttributeValue, error) {
	items := make([]map[string]types.AttributeValue, n)
	for i := range items {
		items[i] = map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "c" + strconv.Itoa(i)}, "n": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
			"payload": &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)},
		}
	}
	next := make(chan int)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var reqs []types.WriteRequest
				for _, it := range items[i:min(i+25, n)] {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
				}
				for len(reqs) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						errc <- err
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		}()
	}
	for i := 0; i < n; i += 25 {
		select {
		case next <- i:
		case err := <-errc:
			close(next)
			wg.Wait()
			return nil, err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return items, nil
}

// timeDDBSync runs ddbsync on the table from TRIM_HORIZON into a fresh
// index and returns records/s from its first GetRecords call to the n-th
// record acknowledged, its CPU per record and its RSS then.
func timeDDBSync(ctx context.Context, bin, dir, table, osURL, index string, n, round int) (rate, cpuPerRec, rssKiB float64, err error) {
	p, err := kit.Start(bin, dir, "ddbsync-"+strconv.Itoa(round), kit.StreamPipeline(table, osURL, index, ""))
	if err != nil {
		return 0, 0, 0, err
	}
	defer p.Stop()
	if err := p.WaitMetric(ctx, "ddbsync_stream_get_records_calls_total", 1, 60*time.Second); err != nil {
		return 0, 0, 0, err
	}
	t0, cpu0 := time.Now(), p.CPU()
	if err := p.WaitMetric(ctx, "ddbsync_stream_records_read_total", float64(n), 5*time.Minute); err != nil {
		return 0, 0, 0, err
	}
	d, cpu := time.Since(t0), p.CPU()-cpu0
	return float64(n) / d.Seconds(), float64(cpu.Microseconds()) / float64(n), float64(p.RSS()), nil
}

// timeRead reads the stream's records with a bare GetRecords loop (no
// pause between calls) and returns records/s.
func timeRead(ctx context.Context, api *dynamodbstreams.Client, streamARN string, n int) (float64, error) {
	start := time.Now()
	d, err := api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN)})
	if err != nil {
		return 0, err
	}
	got := 0
	for _, sh := range d.StreamDescription.Shards {
		it, err := api.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return 0, err
		}
		iter := it.ShardIterator
		for iter != nil && got < n {
			out, err := api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(pageItems)})
			if err != nil {
				return 0, err
			}
			got += len(out.Records)
			iter = out.NextShardIterator
		}
	}
	if got < n {
		return 0, fmt.Errorf("GetRecords loop read %d records, want %d", got, n)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// buildBodies encodes the items as ddbsync would (its converter, _id and
// action line, with an external version), pageItems per body.
func buildBodies(table string, items []map[string]types.AttributeValue) ([][]byte, error) {
	bt := backfill.Table{Name: table, Key: ddbjson.Key{Partition: "pk"}, Overlap: config.DefaultOverlap}
	at := time.Now()
	var out [][]byte
	var cur []byte
	for i, it := range items {
		ev, err := bt.Event(it, at)
		if err != nil {
			return nil, err
		}
		bi := bulk.Item{Action: bulk.ActionIndex, Index: "INDEX", ID: ev.ID, Version: ev.Version, VersionType: bulk.VersionExternal, Event: &ev}
		if cur, err = bulk.AppendItem(cur, &bi); err != nil {
			return nil, err
		}
		if (i+1)%pageItems == 0 || i == len(items)-1 {
			out = append(out, cur)
			cur = nil
		}
	}
	return out, nil
}

// timeBulk posts the bodies into a fresh index one at a time and returns
// documents/s.
func timeBulk(base, index string, bodies [][]byte, n int) (float64, error) {
	start := time.Now()
	for _, b := range bodies {
		body := bytes.ReplaceAll(b, []byte(`"_index":"INDEX"`), []byte(`"_index":"`+index+`"`))
		resp, err := http.Post(base+"/_bulk?filter_path=errors,items.*.error", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Errors bool `json:"errors"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(rb, &r) != nil || r.Errors {
			return 0, fmt.Errorf("_bulk: %s %.300s", resp.Status, rb)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func deleteIndex(base, index string) {
	req, _ := http.NewRequest(http.MethodDelete, base+"/"+index, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
