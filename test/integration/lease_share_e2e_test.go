//go:build integration

package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// shareE2E is a pipeline of several tables of one open shard each (the
// usual pipeline of many small tables) whose state is in a shared table.
type shareE2E struct {
	tables []*e2e // tables[0]'s harness runs the nodes
	state  string
}

func newShareE2E(t *testing.T, name string, n int) *shareE2E {
	t.Helper()
	key := name + shared.RandomHex(t, 8) // one namespace: one pipeline reads every table
	s := &shareE2E{state: "ddbsync-state-" + shared.RandomHex(t, 6)}
	var more []string
	for i := range n {
		e := newE2EWithKey(t, fmt.Sprintf("%s%d", name, i), "", "", key, "sharesecret", "us-east-1")
		s.tables = append(s.tables, e)
		if i > 0 {
			more = append(more, e.table)
		}
	}
	// An index per table named by the table alone: no template can match
	// such indices, so ddbsync creates each with its number mapping before
	// its first write (the hostile workload's numbers would be refused by
	// the dynamic mapping and dead-lettered otherwise).
	for _, e := range s.tables {
		e.index = strings.ToLower(e.table)
		e.h.Index = e.index // the harness's cleanup drops it
	}
	first := s.tables[0]
	first.pipeline = first.h.WritePipeline(shared.Pipeline{Name: "e2e", MoreTables: more,
		Index: `${getMetadata("table_name")}`, SinkExtra: dataPrepperSink, Coordination: fmt.Sprintf(
			"store: dynamodb\ntable_name: %s\nlease_timeout: %s\nnode_id: ${env:DDBSYNC_NODE}", s.state, leaseTimeout)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = first.h.DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(s.state)})
	})
	return s
}

// openByNode counts, from the state table, the open shards of every table
// that each node holds ("" for the free ones).
func (s *shareE2E) openByNode(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range s.tables {
		rows, err := shared.LeaseRecords(e.ctx, e.h.DDB, s.state, "e2e", "stream", e.table, "shard")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if !r.Done {
				out[r.Owner]++
			}
		}
	}
	return out
}

// awaitSpread waits until the nodes hold want open shards each (and none
// is free), unchanged for steady, and returns how long that took.
func (s *shareE2E) awaitSpread(t *testing.T, want map[string]int, timeout, steady time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var since time.Time
	var got map[string]int
	for {
		got = s.openByNode(t)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= steady {
				return since.Sub(start)
			}
		} else {
			since = time.Time{}
		}
		if time.Since(start) > timeout {
			t.Fatalf("open shards held per node %v, want %v within %s (unchanged for %s)", got, want, timeout, steady)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLeaseShareAcrossTables: one pipeline of four tables with one open
// shard each, under a hostile write load on every table. Node s1 alone
// reads all four; when s2 joins, each ends with its fair share of two
// (counted per table, ceil(1/2) = 1, s1 kept all four and s2 none); then
// s1 is killed (SIGKILL) and s2 reads all four within the lease timeout
// plus a few seconds; every table converges.
func TestLeaseShareAcrossTables(t *testing.T) {
	s := newShareE2E(t, "share", 4)
	h := s.tables[0].h
	var loads []*workload.Running
	for _, e := range s.tables {
		loads = append(loads, e.h.StartWorkload(e.hostile(workload.Config{Writers: 2, Keys: 150, Pace: 25 * time.Millisecond})))
	}
	n1 := h.StartNode("s1", "")
	s.awaitSpread(t, map[string]int{"s1": 4}, 90*time.Second, 0)
	n2 := h.StartNode("s2", "")
	took := s.awaitSpread(t, map[string]int{"s1": 2, "s2": 2}, 60*time.Second, 5*time.Second)
	t.Logf("BALANCE: s2 joined s1 (4 shards): 2 each after %s", took.Round(100*time.Millisecond))
	for _, n := range []*shared.Process{n1, n2} {
		held := metricValue(t, n.MetricsAddr, `ddbsync_leases_held{kind="stream",node="`+n.Node+`"}`)
		var open float64
		for _, e := range s.tables {
			open += metricValue(t, n.MetricsAddr, `ddbsync_stream_open_shards{table="`+e.table+`"}`)
		}
		if held != 2 || open != 2 {
			t.Errorf("node %s: ddbsync_leases_held{kind=stream} %v, ddbsync_stream_open_shards summed over the tables %v; want 2 and 2", n.Node, held, open)
		}
	}
	if !strings.Contains(n1.Log(), "releasing a shard to balance the nodes") {
		t.Errorf("s1 never logged releasing a shard to balance the nodes")
	}

	killedAt := time.Now()
	n1.Kill()
	s.awaitSpread(t, map[string]int{"s2": 4}, leaseTimeout+30*time.Second, 0)
	took = time.Since(killedAt)
	t.Logf("TAKE-OVER after SIGKILL of s1: s2 reads all 4 shards after %s (lease timeout %s)", took.Round(100*time.Millisecond), leaseTimeout)
	if took > leaseTimeout+8*time.Second {
		t.Errorf("take-over of s1's shards took %s, want within the lease timeout %s plus a few seconds", took, leaseTimeout)
	}
	time.Sleep(3 * time.Second)
	for _, w := range loads {
		if err := w.Stop(); err != nil {
			t.Fatalf("workload: %v", err)
		}
	}
	names := make([]string, 0, len(s.tables))
	for _, e := range s.tables {
		d := e.converge(90 * time.Second)
		names = append(names, fmt.Sprintf("%s: %d items = %d documents", e.table, d.items, d.docs))
	}
	sort.Strings(names)
	t.Logf("converged: %v", names)
}
