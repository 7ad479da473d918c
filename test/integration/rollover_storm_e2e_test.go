//go:build integration

package integration

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// stormTable is one table of a storm and how its pipeline reads it.
type stormTable struct {
	*e2e
	block   string // the table's YAML block (backfill, stream)
	preload int    // items written before ddbsync starts
	quiet   bool   // written about once a second (its new shards are often empty when first read)
}

// newStorm creates one table per block, all in one DynamoDB Local database
// (one access key and region): ROLLOVER closes the shards of every table,
// and the tables share Local's sequence numbers, which is what makes Local
// answer TrimmedDataAccessException for shards read while empty.
func newStorm(t *testing.T, blocks map[string]string, preload map[string]int, quiet ...string) []*stormTable {
	t.Helper()
	key := fmt.Sprintf("storm%d", time.Now().UnixNano()%1e9)
	var out []*stormTable
	for _, name := range slices.Sorted(maps.Keys(blocks)) {
		e := newE2EWithKey(t, name, "", "", key, "stormsecret", "us-east-1")
		st := &stormTable{e2e: e, block: blocks[name], preload: preload[name]}
		for _, q := range quiet {
			st.quiet = st.quiet || q == name
		}
		out = append(out, st)
	}
	return out
}

// writeStormPipeline writes one pipeline per table into one file, run by
// the first table's process.
func writeStormPipeline(tables []*stormTable) *e2e {
	run := tables[0].e2e
	entries := make([]string, len(tables))
	for i, st := range tables {
		entries[i] = st.h.PipelineEntry(shared.Pipeline{Name: fmt.Sprintf("storm%d", i), TableBlock: st.block, SinkExtra: dataPrepperSink})
	}
	run.pipeline = run.h.WritePipelineFile(entries...)
	return run
}

// stormWrites runs writers on every table (puts, updates, deletes and
// re-inserts of a few hot keys, and new keys) and a ROLLOVER every second,
// until stop is closed.
func stormWrites(t *testing.T, tables []*stormTable, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for ti, st := range tables {
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(e *e2e, seed uint64, quiet bool) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 7))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := fmt.Sprintf("h%d", r.IntN(30))
					var err error
					switch r.IntN(5) {
					case 0, 1:
						_, err = e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
							"pk": s(k), "v": n(fmt.Sprint(i)), "f": n(fmt.Sprintf("%d.5", i)), "w": s(fmt.Sprint(seed))}})
					case 2:
						_, err = e.ddb.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.table), Key: key1(k),
							UpdateExpression:          aws.String("SET u = if_not_exists(u, :z) + :one, w = :w"),
							ExpressionAttributeValues: map[string]types.AttributeValue{":z": n("0"), ":one": n("1"), ":w": s(fmt.Sprint(seed))}})
					case 3:
						_, err = e.ddb.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: key1(k)})
					case 4:
						_, err = e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
							"pk": s(fmt.Sprintf("n%d-%d", seed, i)), "v": n("1")}})
					}
					if err != nil {
						t.Errorf("storm write on %s: %v", e.table, err)
						return
					}
					pause := time.Duration(5+r.IntN(20)) * time.Millisecond
					if quiet {
						pause = time.Duration(500+r.IntN(1500)) * time.Millisecond
					}
					select {
					case <-stop:
						return
					case <-time.After(pause):
					}
				}
			}(st.e2e, uint64(ti*10+w+1), st.quiet)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		ctl := tables[0].e2e
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := ctl.ddb.PutItem(ctl.ctx, &dynamodb.PutItemInput{TableName: aws.String("[TEST_CONTROL]"),
				Item: map[string]types.AttributeValue{"ACTION": s("ROLLOVER")}}); err != nil {
				t.Errorf("ROLLOVER: %v", err)
				return
			}
		}
	}()
	return &wg
}

// stormRun preloads, starts ddbsync, storms for d, then waits until every
// table's index equals the table and checks that no gap was reported and
// the process still runs.
func stormRun(t *testing.T, tables []*stormTable, d time.Duration) {
	for _, st := range tables {
		if st.preload > 0 {
			st.load(st.preload)
		}
	}
	run := writeStormPipeline(tables)
	run.metricsAddr = freeAddr(t)
	run.start()
	// Writes start once the tables without a backfill read their first
	// shard: LATEST means changes from then on. The backfilled tables are
	// still scanning, so their writes overlap the backfill.
	for _, st := range tables {
		if !strings.Contains(st.block, "scan:") {
			stormWaitLog(t, run, 30*time.Second, "reading shard", st.table)
		}
	}
	stop := make(chan struct{})
	wg := stormWrites(t, tables, stop)
	time.Sleep(d)
	close(stop)
	wg.Wait()
	for _, st := range tables {
		st.converge(3 * time.Minute)
	}
	select {
	case err := <-run.procDone:
		t.Fatalf("ddbsync exited during the storm: %v\n%s", err, shared.Tail(run.log(), 4000))
	default:
	}
	log := run.log()
	if strings.Contains(log, "STREAM GAP") || strings.Contains(log, "stream gap") {
		t.Fatalf("a gap was reported during a rollover storm:\n%s", grepLines(log, "gap"))
	}
	if strings.Contains(log, "every record of the shard is trimmed") {
		t.Fatalf("a shard was completed as trimmed during a rollover storm:\n%s", grepLines(log, "trimmed"))
	}
	metrics := httpGet(t, run.metricsAddr, "/metrics")
	if metrics.status != 200 {
		t.Fatalf("/metrics %d", metrics.status)
	}
	for _, line := range strings.Split(metrics.body, "\n") {
		if strings.HasPrefix(line, "ddbsync_stream_gaps_total{") && !strings.HasSuffix(line, " 0") {
			t.Fatalf("gap counted: %s", line)
		}
	}
	if a := httpGet(t, run.metricsAddr, "/readyz"); a.status != 200 {
		t.Fatalf("/readyz %d %s", a.status, a.body)
	}
	// The storm must have produced what it is about: Local's trimmed
	// answers for shards read while empty (otherwise it tested nothing).
	trimmed := strings.Count(log, "answered TrimmedDataAccessException")
	drained := strings.Count(log, "shard drained")
	t.Logf("storm: %d tables, %d shards drained, %d trimmed answers read through", len(tables), drained, trimmed)
	if trimmed == 0 {
		t.Fatal("DynamoDB Local never answered TrimmedDataAccessException during the storm: the scenario did not exercise issue 8 class 1")
	}
}

// stormWaitLog waits for a log line holding every one of words.
func stormWaitLog(t *testing.T, e *e2e, timeout time.Duration, words ...string) {
	t.Helper()
	poll(t, fmt.Sprintf("a log line with %q", words), timeout, 100*time.Millisecond, func(context.Context) (bool, error) {
		for _, l := range strings.Split(e.log(), "\n") {
			all := true
			for _, w := range words {
				all = all && strings.Contains(l, w)
			}
			if all {
				return true, nil
			}
		}
		return false, nil
	})
}

// TestRolloverStorm: a ROLLOVER every second while writers put, update and
// delete on five new tables at once — two with a scan backfill, two with
// no backfill reading from TRIM_HORIZON with no checkpoint, one from
// LATEST; one of each kind written busily, one quietly — converges with
// zero missing, extra or stale documents, no gap and the process still
// running (issue 8 class 1: child shards read while
// empty were skipped as "trimmed", or stopped run with a false gap).
func TestRolloverStorm(t *testing.T) {
	tables := newStorm(t, map[string]string{
		"stormscana": "scan:\n  segments: 2\nstream:\n  start_position: LATEST",
		"stormscanb": "scan:\n  segments: 1\nstream:\n  start_position: LATEST",
		"stormhoriz": "stream:\n  start_position: TRIM_HORIZON",
		"stormhorqu": "stream:\n  start_position: TRIM_HORIZON",
		"stormlatst": "stream:\n  start_position: LATEST",
	}, map[string]int{"stormscana": 1500, "stormscanb": 1500}, "stormscanb", "stormhorqu")
	stormRun(t, tables, 30*time.Second)
}
