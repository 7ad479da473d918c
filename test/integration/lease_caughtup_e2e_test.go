//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestLeaseWaitAcrossNodes: three nodes share one stream; `ddbsync wait`
// asked of ONE node that reads no open shard returns 0 only when every
// write before it is applied and searchable: right after it returns (writes
// paused) the documents are visible without a refresh of the test's own,
// and every item equals every document. The index never refreshes by
// itself, so only the asked node's refresh can make the other nodes'
// writes searchable. A shard whose reader was killed is not caught up until
// another node took it over and read it. Then `run --until-caught-up` on
// three nodes at once: each exits 0 and the index equals the table.
func TestLeaseWaitAcrossNodes(t *testing.T) {
	l := newLeaseE2E(t, "leasewait", "stream:\n  start_position: TRIM_HORIZON")
	for _, n := range []string{"w1", "w2", "w3"} {
		l.h.StartNode(n, "")
	}
	l.awaitIndexWithoutRefresh(60 * time.Second)
	l.h.ExtraEnv = append(l.h.ExtraEnv, "DDBSYNC_NODE=wait") // the pipeline's node_id, for the commands
	wait := func(p *shared.Process, timeout string) (int, string) {
		t.Helper()
		code, out, errOut := l.h.Command("wait", "-f", l.pipeline, "--state-dir", p.StateDir, "--timeout", timeout)
		return code, out + errOut
	}
	caughtUp := func(what string, p *shared.Process) {
		t.Helper()
		start := time.Now()
		code, out := wait(p, "90s")
		if code != 0 {
			t.Fatalf("%s: wait against node %s: exit %d:\n%s", what, p.Node, code, out)
		}
		took := time.Since(start)
		if got, want := cuSearchCount(t, l.e2e), len(l.tableDocs()); got != want {
			t.Fatalf("%s: %d documents searchable right after wait, the table has %d items", what, got, want)
		}
		cuMustCompare(t, l.e2e, what)
		t.Logf("%s: wait against node %s returned 0 in %s (open shards now held by %v): %s", what, p.Node, took.Round(time.Millisecond), l.openOwners(), strings.TrimSpace(out))
	}

	l.awaitReading(60 * time.Second)
	for round := 0; round < 3; round++ {
		w := l.h.StartWorkload(l.hostile(workload.Config{Writers: 3, Keys: 300, Pace: 15 * time.Millisecond}))
		time.Sleep(2 * time.Second)
		if round == 1 {
			rolloverShards(t, l.h.DDB) // the writes go on in a child shard
			time.Sleep(2 * time.Second)
		}
		if err := w.Stop(); err != nil {
			t.Fatalf("workload: %v", err)
		}
		caughtUp(fmt.Sprintf("round %d", round+1), l.idleNode())
	}

	// status reads the shared table: each shard's node, lease expiry and
	// how far it is applied.
	owner := l.openOwners()
	code, out, errOut := l.h.Command("status", "-f", l.pipeline, "--state-dir", t.TempDir(), "--metrics-addr", "")
	if code != 0 || len(owner) == 0 || !strings.Contains(out, "APPLIED UP TO") || !strings.Contains(out, "node "+owner[0]+" until ") {
		t.Errorf("status (exit %d) does not show the open shard's node %v, lease and applied moment:\n%s%s", code, owner, out, errOut)
	}

	// The open shard's reader dies: until its lease expires and another
	// node reads the shard, writes made after the kill are not caught up.
	owners := l.openOwners()
	if len(owners) == 0 {
		t.Fatalf("no node holds an open shard: %v", l.shards())
	}
	nodeByName(l.h.Nodes(), owners[0]).Kill()
	for i := 0; i < 20; i++ {
		l.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("after-kill-%d", i)), "v": n("1")})
	}
	asked := l.idleNode()
	if code, out := wait(asked, "2s"); code != 1 || !strings.Contains(out, owners[0]) {
		t.Fatalf("wait against node %s right after the kill of %s: exit %d, want 1 naming the dead node's shard:\n%s", asked.Node, owners[0], code, out)
	} else {
		t.Logf("right after the kill, wait against node %s said:\n%s", asked.Node, out)
	}
	caughtUp("after the take-over", asked)

	// --until-caught-up on every node: stop them, write while nothing runs,
	// start three at once; each exits 0 once the whole table is caught up
	// as of its start (the first to finish hands its shards over).
	for _, p := range l.h.Nodes() {
		if !p.Exited() {
			if code := p.Stop(); code != 0 {
				t.Fatalf("node %s exited %d after SIGTERM", p.Node, code)
			}
		}
	}
	l.hostileFor(workload.Config{Writers: 3, Keys: 300, Pace: 15 * time.Millisecond}, 3*time.Second)
	l.h.ExtraArgs = []string{"--until-caught-up"}
	var until []*shared.Process
	for _, n := range []string{"u1", "u2", "u3"} {
		until = append(until, l.h.StartNode(n, ""))
	}
	l.h.ExtraArgs = nil
	for _, p := range until {
		select {
		case <-p.Done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("node %s (--until-caught-up) did not exit within 2 minutes:\n%s", p.Node, shared.Tail(p.Log(), 3000))
		}
		if code := p.Cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.Log(), "caught up: every change written before the start") {
			t.Fatalf("node %s (--until-caught-up): exit %d:\n%s", p.Node, code, shared.Tail(p.Log(), 3000))
		}
	}
	cuMustCompare(t, l.e2e, "after run --until-caught-up on three nodes")
}

// awaitIndexWithoutRefresh waits until a node created the index and turns
// its periodic refresh off: from then on only an explicit refresh makes
// writes searchable.
func (l *leaseE2E) awaitIndexWithoutRefresh(timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if st, _ := l.osDo("GET", "/"+l.index, nil); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no node created index %s within %s", l.index, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, b := l.osDo("PUT", "/"+l.index+"/_settings", []byte(`{"index":{"refresh_interval":"-1"}}`)); st != 200 {
		l.t.Fatalf("turn off the refresh of %s: %d %s", l.index, st, b)
	}
}

// openOwners lists the nodes holding an open shard.
func (l *leaseE2E) openOwners() []string {
	var out []string
	for _, r := range l.shards() {
		if !r.Done && r.Owner != "" {
			out = append(out, r.Owner)
		}
	}
	return out
}

// idleNode returns a running node that holds no open shard.
func (l *leaseE2E) idleNode() *shared.Process {
	l.t.Helper()
	busy := map[string]bool{}
	for _, o := range l.openOwners() {
		busy[o] = true
	}
	for _, p := range l.h.Nodes() {
		if !p.Exited() && !busy[p.Node] {
			return p
		}
	}
	l.t.Fatalf("every running node holds an open shard: %v", l.shards())
	return nil
}
