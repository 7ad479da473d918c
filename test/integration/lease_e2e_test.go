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

// Several `ddbsync run` nodes share one pipeline through a DynamoDB state
// table (in DynamoDB Local, beside the replicated table): fail-over after
// SIGKILL, a container restart with an empty disk, and a rolling SIGTERM
// restart. After each, every item equals every document.

// leaseTimeout is the scenarios' lease timeout (the default).
const leaseTimeout = 10 * time.Second

// leaseE2E is a scenario whose pipeline keeps its state in a shared table.
type leaseE2E struct {
	*e2e
	state string // the state table
}

func newLeaseE2E(t *testing.T, name, tableBlock string) *leaseE2E {
	t.Helper()
	return leaseOn(t, newE2E(t, name, "", ""), tableBlock)
}

// leaseOn makes e's pipeline keep its state in a new shared state table.
func leaseOn(t *testing.T, e *e2e, tableBlock string) *leaseE2E {
	t.Helper()
	l := &leaseE2E{e2e: e, state: "ddbsync-state-" + shared.RandomHex(t, 6)}
	e.pipeline = e.h.WritePipeline(shared.Pipeline{Name: "e2e", TableBlock: tableBlock, SinkExtra: dataPrepperSink, Coordination: fmt.Sprintf(
		"store: dynamodb\ntable_name: %s\nlease_timeout: %s\nnode_id: ${env:DDBSYNC_NODE}", l.state, leaseTimeout)})
	e.h.PipelinePath = e.pipeline
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.h.DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(l.state)})
	})
	return l
}

// leaseRow is one partition's record in the state table.
type leaseRow = shared.LeaseRecord

// shards reads every shard record of the table from the state table.
func (l *leaseE2E) shards() map[string]leaseRow {
	l.t.Helper()
	return l.records("stream", "shard")
}

// records reads the table's records of one kind ("stream" or "backfill")
// and sub-kind ("shard", "export", "scan"), keyed by what follows.
func (l *leaseE2E) records(kind, sub string) map[string]leaseRow {
	l.t.Helper()
	rows, err := l.readRecords(kind, sub)
	if err != nil {
		l.t.Fatal(err)
	}
	return rows
}

// readRecords is records for a goroutine that must not end the test.
func (l *leaseE2E) readRecords(kind, sub string) (map[string]leaseRow, error) {
	return shared.LeaseRecords(l.ctx, l.h.DDB, l.state, "e2e", kind, l.table, sub)
}

// openOwnedBy lists the open shards node holds.
func (l *leaseE2E) openOwnedBy(node string) []string {
	var ids []string
	for id, r := range l.shards() {
		if !r.Done && r.Owner == node {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// awaitOwner waits until one of node's open shards is held by a node
// other than node (or done), and returns how long that took from since.
func (l *leaseE2E) awaitHandOver(node string, shards []string, since time.Time, timeout time.Duration) time.Duration {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := true
		rows := l.shards()
		for _, id := range shards {
			r := rows[id]
			if !r.Done && (r.Owner == "" || r.Owner == node) {
				all = false
			}
		}
		if all {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("shards %v of node %s not taken over within %s: %v", shards, node, timeout, rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// awaitReading waits until some node holds an open shard and returns it.
func (l *leaseE2E) awaitReading(timeout time.Duration) string {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, r := range l.shards() {
			if !r.Done && r.Owner != "" {
				return r.Owner
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	l.t.Fatalf("no node took a shard within %s", timeout)
	return ""
}

func nodeByName(nodes []*shared.Process, name string) *shared.Process {
	for i := len(nodes) - 1; i >= 0; i-- {
		if nodes[i].Node == name && !nodes[i].Exited() {
			return nodes[i]
		}
	}
	return nil
}

// TestLeaseFailoverSIGKILL: three nodes on one stream under a hostile
// write load with two ROLLOVERs; the node reading the open shard is killed
// (SIGKILL): another takes its shards within the lease timeout plus a few
// seconds, and the index converges with nothing missing, extra or stale.
func TestLeaseFailoverSIGKILL(t *testing.T) {
	l := newLeaseE2E(t, "leasekill", "stream:\n  start_position: TRIM_HORIZON")
	for _, n := range []string{"n1", "n2", "n3"} {
		l.h.StartNode(n, "")
	}
	w := l.h.StartWorkload(l.hostile(workload.Config{Writers: 3, Keys: 300, Pace: 15 * time.Millisecond}))
	owner := l.awaitReading(60 * time.Second)
	for i := 0; i < 2; i++ {
		time.Sleep(3 * time.Second)
		rolloverShards(t, l.h.DDB)
	}
	time.Sleep(3 * time.Second)
	// Kill the node holding an open shard now (after the rollovers, the child's owner).
	var victim string
	var held []string
	for _, n := range []string{owner, "n1", "n2", "n3"} {
		if held = l.openOwnedBy(n); len(held) > 0 {
			victim = n
			break
		}
	}
	if victim == "" {
		t.Fatalf("no node holds an open shard: %v", l.shards())
	}
	killedAt := time.Now()
	nodeByName(l.h.Nodes(), victim).Kill()
	took := l.awaitHandOver(victim, held, killedAt, leaseTimeout+15*time.Second)
	t.Logf("TAKE-OVER after SIGKILL of %s: shards %v taken over in %s (lease timeout %s)", victim, held, took.Round(time.Millisecond), leaseTimeout)
	if took > leaseTimeout+8*time.Second {
		t.Errorf("take-over took %s, want within the lease timeout %s plus a few seconds", took, leaseTimeout)
	}
	time.Sleep(3 * time.Second)
	rolloverShards(t, l.h.DDB) // the survivors follow the lineage on
	time.Sleep(3 * time.Second)
	if err := w.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	d := l.converge(90 * time.Second)
	t.Logf("converged: %d items = %d documents", d.items, d.docs)
	logs := ""
	for _, p := range l.h.Nodes() {
		logs += p.Log()
	}
	if !strings.Contains(logs, "lease taken over") || !strings.Contains(logs, "from_node="+victim) {
		t.Errorf("no survivor logged the take-over from %s", victim)
	}
	for _, p := range l.h.Nodes() {
		if !p.Exited() {
			if v := metricValue(t, p.MetricsAddr, `ddbsync_leases_taken_over_total{kind="stream",node="`+p.Node+`"}`); v > 0 {
				t.Logf("node %s: ddbsync_leases_taken_over_total{kind=stream} = %v", p.Node, v)
			}
		}
	}
}

// TestLeaseEmptyStateDirRestart: a node with an empty state directory (a
// replaced container) continues from the state table: the scan backfill is
// not repeated, the stream continues, and the index converges.
func TestLeaseEmptyStateDirRestart(t *testing.T) {
	l := newLeaseE2E(t, "leaseempty", "scan:\n  segments: 2\nstream:\n  start_position: LATEST")
	w := l.hostile(workload.Config{Writers: 2, Keys: 200})
	if err := w.Load(l.ctx, 300); err != nil {
		t.Fatal(err)
	}
	first := l.h.StartNode("c1", "")
	l.awaitReading(60 * time.Second)
	run := l.h.StartWorkload(l.hostile(workload.Config{Writers: 2, Keys: 200, Pace: 20 * time.Millisecond}))
	time.Sleep(4 * time.Second)
	first.Kill() // the container is replaced: no clean stop, and its disk is gone
	second := l.h.StartNode("c2", "")
	time.Sleep(4 * time.Second)
	rolloverShards(t, l.h.DDB)
	time.Sleep(3 * time.Second)
	if err := run.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	d := l.converge(90 * time.Second)
	t.Logf("converged after an empty-disk restart: %d items = %d documents", d.items, d.docs)
	log := second.Log()
	if !strings.Contains(log, "backfill already complete") || strings.Contains(log, "starting scan backfill") || strings.Contains(log, "joining scan backfill") {
		t.Fatalf("the restarted node did not continue from the state table (backfill lines:\n%s)", grepLines(log, "backfill"))
	}
	if !strings.Contains(log, "lease taken over") {
		t.Errorf("the restarted node never took over the killed node's shard")
	}
}

// TestLeaseRollingRestart: two nodes under load; each in turn gets SIGTERM
// and comes back with an empty state directory. A stopped node releases
// its leases, so the other takes its shards within seconds, well under the
// lease timeout.
func TestLeaseRollingRestart(t *testing.T) {
	l := newLeaseE2E(t, "leaseroll", "stream:\n  start_position: TRIM_HORIZON")
	for _, n := range []string{"r1", "r2"} {
		l.h.StartNode(n, "")
	}
	run := l.h.StartWorkload(l.hostile(workload.Config{Writers: 3, Keys: 300, Pace: 15 * time.Millisecond}))
	l.awaitReading(60 * time.Second)
	var worst time.Duration
	for round := 0; round < 2; round++ {
		for _, n := range []string{"r1", "r2"} {
			time.Sleep(3 * time.Second)
			held := l.openOwnedBy(n)
			stoppedAt := time.Now()
			if code := nodeByName(l.h.Nodes(), n).Stop(); code != 0 {
				t.Fatalf("node %s exited %d after SIGTERM", n, code)
			}
			if len(held) > 0 {
				took := l.awaitHandOver(n, held, stoppedAt, leaseTimeout)
				t.Logf("HAND-OVER after SIGTERM of %s: shards %v taken in %s (stop included)", n, held, took.Round(time.Millisecond))
				worst = max(worst, took)
			}
			l.h.StartNode(n, "")
		}
		rolloverShards(t, l.h.DDB)
	}
	if worst == 0 {
		t.Fatal("no stopped node held a shard: nothing was handed over")
	}
	if worst >= leaseTimeout {
		t.Errorf("slowest hand-over %s: a released lease should be taken well before the lease timeout %s", worst, leaseTimeout)
	}
	// status reads the shared table: which node holds the open shard.
	l.h.ExtraEnv = append(l.h.ExtraEnv, "DDBSYNC_NODE=status") // the pipeline's node_id; a node's own comes after it
	code, out, errOut := l.h.Command("status", "-f", l.pipeline, "--state-dir", t.TempDir(), "--metrics-addr", "")
	if code != 0 || !strings.Contains(out, "reading (node r") {
		t.Errorf("status (exit %d) does not show the shard's node:\n%s%s", code, out, errOut)
	}
	if err := run.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	d := l.converge(90 * time.Second)
	t.Logf("converged after a rolling restart: %d items = %d documents; slowest hand-over %s", d.items, d.docs, worst.Round(time.Millisecond))
}

// metricValue reads one sample (name with its labels, as /metrics prints
// it) from a node's metrics server; 0 when absent or unreachable.
func metricValue(t *testing.T, addr, sample string) float64 {
	t.Helper()
	code, body := shared.Do(t.Context(), "http://"+addr, "GET", "/metrics", nil)
	if code != 200 {
		return 0
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// TestLeaseExportSIGKILL: two nodes back-fill from one export; the node
// loading a data file is killed: the other takes its files over (from the
// saved line) once the lease expires. One export is started in all, the
// stream holds until the backfill is done, and the index converges.
func TestLeaseExportSIGKILL(t *testing.T) {
	const count = 6000
	e := newE2EStackKey(t, "leaseexport")
	e.loadHostile(count)
	e.enablePITR()
	l := leaseOn(t, e, e.exportBlock("  parallelism: 1\n"))
	l.h.StartNode("x1", "")
	l.h.StartNode("x2", "")
	deadline := time.Now().Add(4 * time.Minute)
	victim := ""
	for victim == "" {
		for _, r := range l.records("backfill", "export") {
			if !r.Done && r.Owner != "" {
				victim = r.Owner
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node loaded a data file: %v", l.records("backfill", "export"))
		}
		time.Sleep(2 * time.Millisecond)
	}
	nodeByName(l.h.Nodes(), victim).Kill()
	killedAt := time.Now()
	var orphans []string
	midFile := false
	for f, r := range l.records("backfill", "export") {
		if !r.Done && r.Owner == victim {
			orphans = append(orphans, f)
			midFile = midFile || strings.Contains(r.Progress, `"lines":`)
		}
	}
	if len(orphans) == 0 {
		t.Fatalf("node %s finished its data file just before the kill: nothing to take over", victim)
	}
	for _, f := range orphans {
		for {
			r := l.records("backfill", "export")[f]
			if r.Done || (r.Owner != "" && r.Owner != victim) {
				break
			}
			if time.Since(killedAt) > leaseTimeout+30*time.Second {
				t.Fatalf("data file %s not taken over: %+v", f, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	took := time.Since(killedAt)
	t.Logf("TAKE-OVER of %d data file(s) after SIGKILL of %s: %s (lease timeout %s; mid-file: %v)", len(orphans), victim, took.Round(time.Millisecond), leaseTimeout, midFile)
	if took > leaseTimeout+8*time.Second {
		t.Errorf("take-over took %s, want within the lease timeout %s plus a few seconds", took, leaseTimeout)
	}
	d := l.converge(3 * time.Minute)
	t.Logf("converged: %d items = %d documents", d.items, d.docs)
	logs := ""
	for _, p := range l.h.Nodes() {
		logs += p.Log()
	}
	if n := strings.Count(logs, "started export"); n != 1 {
		t.Fatalf("%d exports started across the nodes, want 1", n)
	}
	if !strings.Contains(logs, "lease taken over") {
		t.Errorf("the surviving node logged no take-over")
	}
	if midFile && !strings.Contains(logs, "resuming data file mid-file") {
		t.Errorf("the surviving node did not resume the file from its saved line")
	}
}
