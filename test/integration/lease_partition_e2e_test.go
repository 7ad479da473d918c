//go:build integration

package integration

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestLeasePartitionToxiproxy: three nodes on one stream under a hostile
// write load with ROLLOVERs, each talking to DynamoDB (state table, table
// calls and DynamoDB Streams) through Toxiproxy proxies of its own. The
// node reading the open shard is cut off (a black hole: nothing gets
// through, what it sends is held) for longer than the lease timeout, so
// the others take its shards over and drain them; then it is reconnected,
// and the checkpoint write it sent during the cut arrives late. From the
// take-over to the end, the state table must never show a checkpoint the
// cut node moved under a lease it lost (shared.FencingWatch); the cut node
// drops its leases itself before they expire, has its late write refused,
// keeps running and stops cleanly; the index converges with nothing
// missing, extra or stale.
func TestLeasePartitionToxiproxy(t *testing.T) {
	l := newLeaseE2E(t, "leasecut", "stream:\n  start_position: TRIM_HORIZON")
	tp := shared.StartToxiproxy(t)
	ddb, err := url.Parse(stackEnv(t, "AWS_ENDPOINT_URL_DYNAMODB"))
	if err != nil {
		t.Fatal(err)
	}
	streams, err := url.Parse(stackEnv(t, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"))
	if err != nil {
		t.Fatal(err)
	}
	// Every node gets two proxies of its own: DynamoDB (the state table
	// and the table calls, through the stack's export emulator) and
	// DynamoDB Streams.
	for _, n := range []string{"c1", "c2", "c3"} {
		l.h.StartNodeEnv(n, "", "AWS_ENDPOINT_URL_DYNAMODB=http://"+tp.Proxy(n+"-dynamodb", ddb.Host),
			"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://"+tp.Proxy(n+"-streams", streams.Host))
	}
	w := l.h.StartWorkload(l.hostile(workload.Config{Writers: 3, Keys: 300, Pace: 15 * time.Millisecond}))
	l.awaitReading(60 * time.Second)
	time.Sleep(3 * time.Second)
	rolloverShards(t, l.h.DDB) // the lineage moves on before the cut
	time.Sleep(3 * time.Second)

	// The state table goes first, DynamoDB Streams a second later: in that
	// second the node reads on and its next checkpoint write is caught in
	// the black hole, to arrive after the take-over.
	victim, held := l.openHolder()
	cutAt := time.Now()
	tp.Cut(victim + "-dynamodb")
	time.Sleep(time.Second)
	tp.Cut(victim + "-streams")
	took := l.awaitHandOver(victim, held, cutAt, leaseTimeout+15*time.Second)
	t.Logf("TAKE-OVER after cutting %s off DynamoDB: shards %v taken over in %s (lease timeout %s)", victim, held, took.Round(time.Millisecond), leaseTimeout)
	if took > leaseTimeout+5*time.Second {
		t.Errorf("take-over took %s, want within the lease timeout %s plus a few seconds", took, leaseTimeout)
	}
	watch := l.watchFencing(victim)

	// While the node is still cut off, the new owners drain the shards it
	// held and go on with their children; then it comes back, and what it
	// sent during the cut arrives.
	time.Sleep(2 * time.Second)
	rolloverShards(t, l.h.DDB)
	time.Sleep(3 * time.Second)
	reconnectAt := time.Now()
	tp.Reconnect(victim+"-dynamodb", victim+"-streams")
	t.Logf("reconnected %s after %s cut off", victim, reconnectAt.Sub(cutAt).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	rolloverShards(t, l.h.DDB) // the reconnected node may take shards again, legitimately
	time.Sleep(3 * time.Second)
	if err := w.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	d := l.converge(90 * time.Second)
	changes, violations := watch()
	t.Logf("converged: %d items = %d documents; %d state records appeared or moved after the take-over", d.items, d.docs, changes)
	for _, v := range violations {
		t.Errorf("fencing: %s", v)
	}
	if changes == 0 {
		t.Errorf("the state table did not change after the take-over: the watch proved nothing")
	}

	// The cut node gave its leases up by itself, before they expired (it
	// could not renew them), and it rode the partition out.
	cut := nodeByName(l.h.Nodes(), victim)
	if cut == nil {
		t.Fatalf("the cut node %s exited", victim)
	}
	log := cut.Log()
	for _, id := range held {
		at, ok := logTime(log, "lease lost; stopping the partition", "/shard/"+id+" ")
		switch {
		case !ok:
			t.Errorf("the cut node %s never logged that it lost its lease on shard %s:\n%s", victim, id, grepLines(log, "lease"))
		case at.After(reconnectAt):
			t.Errorf("the cut node %s dropped its lease on shard %s only after it was reconnected (%s after the cut)", victim, id, at.Sub(cutAt).Round(time.Millisecond))
		default:
			t.Logf("the cut node %s dropped its lease on shard %s itself, %s after the cut", victim, id, at.Sub(cutAt).Round(time.Millisecond))
		}
	}
	t.Logf("%s:\n%s", victim, grepLines(log, "lease lost")+"\n"+grepLines(log, "checkpoint write refused"))
	// The checkpoint write caught in the black hole arrived and was refused
	// (without it the watch would have had no late write to judge).
	if refused, ok := logTime(log, "checkpoint write refused"); ok && refused.After(reconnectAt) {
		t.Logf("a checkpoint write %s sent while cut off arrived %s after the reconnect and was refused", victim, refused.Sub(reconnectAt).Round(time.Millisecond))
	} else {
		t.Errorf("no checkpoint write of %s was refused after the reconnect: none was caught in the partition", victim)
	}
	for _, p := range l.h.Nodes() {
		if p.Exited() {
			t.Errorf("node %s exited %d: %s", p.Node, p.Cmd.ProcessState.ExitCode(), shared.ErrorLine(p.Log()))
			continue
		}
		if !p.Ready(l.ctx, 30*time.Second) {
			t.Errorf("node %s: /readyz does not answer 200", p.Node)
		}
	}
	for _, p := range l.h.Nodes() { // while the proxies still run
		if code := p.Stop(); code != 0 {
			t.Errorf("node %s exited %d after SIGTERM: %s", p.Node, code, shared.ErrorLine(p.Log()))
		}
	}
}

// logTime is the time of the first log line holding every one of substrs.
func logTime(log string, substrs ...string) (time.Time, bool) {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, s := range substrs {
			all = all && strings.Contains(line, s)
		}
		if !all {
			continue
		}
		v, ok := strings.CutPrefix(line, "time=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, " ")
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

// openHolder waits until a node holds an open shard and returns it with
// the open shards it holds.
func (l *leaseE2E) openHolder() (string, []string) {
	l.t.Helper()
	node := l.awaitReading(30 * time.Second)
	return node, l.openOwnedBy(node)
}

// watchFencing snapshots the shard records now (right after node's shards
// were taken over) and polls them in the background, checking every
// change with a shared.FencingWatch, until the returned stop is called:
// it reports how many records moved and what broke fencing.
func (l *leaseE2E) watchFencing(node string) (stop func() (changes int, violations []string)) {
	l.t.Helper()
	fw := shared.NewFencingWatch(node, l.shards())
	done := make(chan struct{})
	var wg sync.WaitGroup
	var readErrs []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			rows, err := l.readRecords("stream", "shard")
			if err != nil {
				readErrs = append(readErrs, err.Error())
			} else {
				fw.Observe(rows)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int, []string) {
		close(done)
		wg.Wait()
		if len(readErrs) > 0 {
			l.t.Errorf("the fencing watch could not read the state table %d times, first: %s", len(readErrs), readErrs[0])
		}
		return fw.Changes(), fw.Violations()
	}
}
