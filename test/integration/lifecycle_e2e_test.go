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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// The table's lifecycle under a running pipeline (issue 13): a stream
// disabled and enabled again (a new ARN), a stream disabled for a while, a
// table deleted and created again, a table deleted for good, and a new
// stream with a view ddbsync cannot use. Writes happen before, during and
// after each change; every item is compared with every document after the
// recovery.

// lifecycleScan is a scan backfill that re-backfills on a gap.
const lifecycleScan = "scan:\n  segments: 2\nstream:\n  start_position: TRIM_HORIZON\n  on_gap: rebackfill"

// streamARN is the table's latest stream ARN.
func (e *e2e) streamARN() string {
	e.t.Helper()
	d, err := e.ddb.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(d.Table.LatestStreamArn)
}

// setStream disables the table's stream (view "") or enables one.
func (e *e2e) setStream(view types.StreamViewType) {
	e.t.Helper()
	spec := &types.StreamSpecification{StreamEnabled: aws.Bool(view != "")}
	if view != "" {
		spec.StreamViewType = view
	}
	if _, err := e.ddb.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String(e.table), StreamSpecification: spec}); err != nil {
		e.t.Fatalf("update stream of %s to %q: %v", e.table, view, err)
	}
}

// awaitLog waits for a log line containing every part and returns it.
func (e *e2e) awaitLog(what string, timeout time.Duration, parts ...string) string {
	e.t.Helper()
	var line string
	poll(e.t, what, timeout, 200*time.Millisecond, func(context.Context) (bool, error) {
		line = logLine(e.log(), parts...)
		return line != "", nil
	})
	return line
}

// logLine returns the first log line containing every part ("" if none).
func logLine(log string, parts ...string) string {
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return l
		}
	}
	return ""
}

// recordedStream is the stream the state directory keeps checkpoints for,
// and how many shard records it holds.
func (e *e2e) recordedStream() (arn string, shards []string) {
	e.t.Helper()
	st, err := checkpoint.ReadFileState(e.h.StateDir())
	if err != nil {
		e.t.Fatal(err)
	}
	prefix := "stream/" + e.table + "/shard/"
	for k := range st {
		if strings.HasPrefix(k, prefix) {
			shards = append(shards, strings.TrimPrefix(k, prefix))
		}
	}
	return st["stream/"+e.table+"/meta"].Meta["stream_arn"], shards
}

// awaitReady waits until /readyz answers want (200 or 503) with every part
// in its reasons, and returns the reasons.
func (e *e2e) awaitReady(want int, timeout time.Duration, parts ...string) string {
	e.t.Helper()
	var why string
	poll(e.t, fmt.Sprintf("/readyz %d %v", want, parts), timeout, 200*time.Millisecond, func(context.Context) (bool, error) {
		code, body := cuGet(e.t, e, "/readyz")
		why = fmt.Sprint(body["why"])
		if code != want {
			return false, nil
		}
		for _, p := range parts {
			if !strings.Contains(why, p) {
				return false, nil
			}
		}
		return true, nil
	})
	return why
}

// startLifecycle runs a scan-backfilled table with on_gap: rebackfill and
// the metrics server, writes for d and waits until the index equals it.
func startLifecycle(t *testing.T, name string, d time.Duration) (*e2e, *workload.Workload) {
	t.Helper()
	e := newE2E(t, name, "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline(lifecycleScan, "")
	e.start()
	w := e.hostile(workload.Config{Keys: 60})
	if err := w.RunFor(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	e.converge(90 * time.Second)
	return e, w
}

// TestStreamDisabledThenEnabled: the stream is disabled while ddbsync runs.
// ddbsync applies everything the old stream held, then waits — running, not
// ready, saying why — while writes go unstreamed. The stream is enabled
// again (a new ARN): that is a replaced stream, so with on_gap: rebackfill
// the table is backfilled again, exactly once, and the new stream followed;
// the old stream's checkpoints are gone from the state.
func TestStreamDisabledThenEnabled(t *testing.T) {
	e, w := startLifecycle(t, "reenable", 4*time.Second)
	oldARN := e.streamARN()
	_, oldShards := e.recordedStream()

	// The stream is turned off right after a burst of writes, before
	// ddbsync could read them all: they are in the old stream only.
	if err := w.RunFor(e.ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	e.setStream("")
	why := e.awaitReady(503, 60*time.Second, "stream is disabled", e.table)
	t.Logf("/readyz while the stream is disabled: %s", why)
	// Drained: everything written up to the disable is applied (nothing was
	// written after it yet).
	if d := e.compare(); !d.ok() {
		t.Fatalf("the old stream was not drained before waiting: %s", d)
	}
	// Written while there is no stream: never streamed.
	if err := w.RunFor(e.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // more than one table re-check
	if !e.h.Running() {
		t.Fatalf("ddbsync exited while the stream was disabled:\n%s", e.log())
	}
	e.awaitReady(503, 5*time.Second, "stream is disabled")
	if code, body := cuGet(t, e, "/caughtup?timeout=1s"); code != 503 || !strings.Contains(fmt.Sprint(body), "stream is disabled") {
		t.Errorf("/caughtup while writes go unstreamed = %d %v, want 503 saying the stream is disabled", code, body)
	}
	if n := strings.Count(e.log(), "waiting for a stream to be enabled"); n != 1 {
		t.Errorf("the wait was logged %d times, want once (no spinning)", n)
	}

	// The stream comes back, under a new ARN, with writes during the re-backfill.
	e.setStream(types.StreamViewTypeNewAndOldImages)
	newARN := e.streamARN()
	if newARN == oldARN {
		t.Fatalf("re-enabling kept the stream ARN %s", oldARN)
	}
	if err := w.RunFor(e.ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	line := e.awaitLog("the replaced stream is reported", 60*time.Second, "stream replaced", oldARN, newARN)
	t.Logf("log: %s", line)
	e.converge(120 * time.Second)
	e.awaitReady(200, 30*time.Second)
	if n := strings.Count(e.log(), "re-backfilling the table"); n != 1 {
		t.Errorf("%d re-backfills, want exactly 1", n)
	}
	// Live streaming on the new stream after the re-backfill.
	if err := w.RunFor(e.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	e.converge(60 * time.Second)
	arn, shards := e.recordedStream()
	if arn != newARN {
		t.Errorf("the state records stream %s, want the new %s", arn, newARN)
	}
	for _, old := range oldShards {
		for _, sh := range shards {
			if sh == old {
				t.Errorf("the old stream's shard %s is still in the state", old)
			}
		}
	}
	if metric := e.metric(`ddbsync_stream_gaps_total{reason="stream_replaced"`); metric == "" {
		t.Errorf("no stream_replaced gap in /metrics")
	}
}

// metric returns the /metrics line starting with prefix ("" if none).
func (e *e2e) metric(prefix string) string {
	e.t.Helper()
	a := httpGet(e.t, e.metricsAddr, "/metrics")
	for _, l := range strings.Split(a.body, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestStreamReplacedStops: with on_gap: stop (the default) a stream
// disabled and enabled again stops ddbsync with exit 3, after everything
// the old stream held is applied; the message names the replaced stream
// and both ARNs. A restart stops again the same way: the old stream's
// state is never applied to the new stream.
func TestStreamReplacedStops(t *testing.T) {
	e := newE2E(t, "replaced", "", "")
	e.writePipeline("", "")
	e.start()
	w := e.hostile(workload.Config{Keys: 60})
	if err := w.RunFor(e.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	oldARN := e.streamARN()
	e.setStream("")
	// Written between the two streams, and on the new one.
	var lost []string
	for i := range 5 {
		k := fmt.Sprintf("during-%d", i)
		e.put(map[string]types.AttributeValue{"pk": s(k), "v": n("1")})
		lost = append(lost, k)
	}
	e.setStream(types.StreamViewTypeNewAndOldImages)
	newARN := e.streamARN()
	for i := range 5 {
		k := fmt.Sprintf("after-%d", i)
		e.put(map[string]types.AttributeValue{"pk": s(k), "v": n("1")})
		lost = append(lost, k)
	}
	if code := e.wait(90 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3 (stream gap)", code)
	}
	line := logLine(e.log(), "stream replaced", oldARN, newARN)
	if line == "" {
		t.Fatalf("no log line says the stream was replaced, with both ARNs %s and %s", oldARN, newARN)
	}
	t.Logf("log: %s", line)
	// Everything up to the disable is applied; exactly what no stream
	// delivered to ddbsync is missing.
	d := e.compare()
	if len(d.extra)+len(d.stale) > 0 || strings.Join(sorted(d.missing), ",") != strings.Join(sorted(lost), ",") {
		t.Fatalf("after exit 3 the index should hold everything but %v: %s", lost, d)
	}
	e.start()
	if code := e.wait(60 * time.Second); code != 3 {
		t.Fatalf("restart: exit %d, want 3 again", code)
	}
	if n := strings.Count(e.log(), "stream replaced"); n == 0 {
		t.Fatalf("the restart did not say why it stopped")
	}
	if d := e.compare(); strings.Join(sorted(d.missing), ",") != strings.Join(sorted(lost), ",") {
		t.Fatalf("the restart applied the new stream after all: %s", d)
	}
}

// sorted returns a sorted copy of xs.
func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// TestTableDeletedAndCreatedAgain: the table is deleted and created again
// under the same name while ddbsync runs, with writes before and after.
// The new table's stream is a replaced stream: on_gap: rebackfill
// re-backfills the new table, the orphan sweep deletes the documents of
// items that went with the old table, and the new stream is followed.
func TestTableDeletedAndCreatedAgain(t *testing.T) {
	e, w := startLifecycle(t, "recreate", 3*time.Second)
	oldARN := e.streamARN()
	if err := w.RunFor(e.ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ddb.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(e.table)}); err != nil {
		t.Fatal(err)
	}
	e.awaitReady(503, 60*time.Second, "table was deleted", "table_deleted_wait")
	e.h.CreateTable("")
	newARN := e.streamARN()
	// The new table gets other items (fewer keys: most old documents are orphans).
	w2 := e.hostile(workload.Config{Keys: 20})
	if err := w2.RunFor(e.ctx, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	e.awaitLog("the replaced stream is reported", 60*time.Second, "stream replaced", oldARN, newARN)
	e.converge(120 * time.Second)
	e.awaitLog("the orphan sweep ran", 30*time.Second, "orphan documents deleted after re-backfill")
	if err := w2.RunFor(e.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	e.converge(60 * time.Second)
	e.awaitReady(200, 30*time.Second)
	if arn, _ := e.recordedStream(); arn != newARN {
		t.Errorf("the state records stream %s, want the new table's %s", arn, newARN)
	}
}

// TestTableDeletedForGood: of two pipelines, one's table is deleted and not
// created again. After stream.table_deleted_wait that table stops with a
// clear error, /readyz says so, and the other pipeline goes on replicating
// its table; the process ends with exit 1 when stopped.
func TestTableDeletedForGood(t *testing.T) {
	gone := newE2E(t, "gone", "", "")
	kept := newE2E(t, "kept", "", "")
	// One process for both: the second harness's namespace must be the
	// first's, so both tables live under one access key.
	kept.h.NS = gone.h.NS
	kept.h.DDB, kept.h.Emu, kept.ddb = gone.h.DDB, gone.h.Emu, gone.ddb
	kept.h.CreateTable("")
	gone.metricsAddr = freeAddr(t)
	gone.pipeline = gone.h.WritePipelineFile(
		gone.h.PipelineEntry(shared.Pipeline{Name: "gone", SinkExtra: dataPrepperSink, TableBlock: "stream:\n  start_position: TRIM_HORIZON\n  table_deleted_wait: 3s"}),
		kept.h.PipelineEntry(shared.Pipeline{Name: "kept", SinkExtra: dataPrepperSink}))
	gone.start()
	wg, wk := gone.hostile(workload.Config{Keys: 30}), kept.hostile(workload.Config{Keys: 30})
	if err := wg.RunFor(gone.ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := wk.RunFor(kept.ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	kept.converge(90 * time.Second)
	if _, err := gone.ddb.DeleteTable(gone.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(gone.table)}); err != nil {
		t.Fatal(err)
	}
	line := gone.awaitLog("the deleted table stops", 60*time.Second, "TABLE STOPPED", gone.table)
	for _, want := range []string{"was not created again", "table_deleted_wait", "3s"} {
		if !strings.Contains(line, want) {
			t.Errorf("the stop message lacks %q: %s", want, line)
		}
	}
	gone.awaitReady(503, 10*time.Second, gone.table, "stopped")
	// The other pipeline goes on.
	if err := wk.RunFor(kept.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	kept.converge(60 * time.Second)
	if !gone.h.Running() {
		t.Fatal("ddbsync exited although a pipeline is still running")
	}
	if code := gone.stop(); code != 1 {
		t.Errorf("exit %d after SIGTERM, want 1 (a table stopped)", code)
	}
}

// TestNewStreamKeysOnlyStopsTable: the stream is enabled again with
// KEYS_ONLY, which carries no item images: the table stops (it is not
// re-backfilled onto a stream it cannot use) with a message saying which
// view to enable, and ddbsync exits 1 (its only table stopped).
func TestNewStreamKeysOnlyStopsTable(t *testing.T) {
	e := newE2E(t, "keysonly", "", "")
	e.writePipeline(lifecycleScan, "")
	e.start()
	w := e.hostile(workload.Config{Keys: 30})
	if err := w.RunFor(e.ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	e.setStream("")
	e.setStream(types.StreamViewTypeKeysOnly)
	newARN := e.streamARN()
	if code := e.wait(60 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	line := logLine(e.log(), "TABLE STOPPED", newARN)
	for _, want := range []string{"KEYS_ONLY", "NEW_AND_OLD_IMAGES", "disable the stream and enable it again"} {
		if !strings.Contains(line, want) {
			t.Errorf("the stop message lacks %q: %s", want, line)
		}
	}
	if strings.Contains(e.log(), "re-backfilling the table") {
		t.Error("re-backfilled onto a stream it cannot use")
	}
	// Everything the old stream held is applied.
	if d := e.compare(); !d.ok() {
		t.Fatalf("the old stream was not drained before stopping: %s", d)
	}
}

// TestStreamReplacedAcrossNodes: three nodes share the table through a
// DynamoDB state table. The stream is disabled and enabled again under a
// write load: every node drains its shards of the old stream and sees the
// replacement, the version generation moves exactly once, one re-backfill
// runs (its scan segments split among the nodes), and all nodes follow the
// new stream; every item equals every document.
func TestStreamReplacedAcrossNodes(t *testing.T) {
	l := newLeaseE2E(t, "replacednodes", "scan:\n  segments: 4\nstream:\n  start_position: TRIM_HORIZON\n  on_gap: rebackfill")
	for _, n := range []string{"n1", "n2", "n3"} {
		l.h.StartNode(n, "")
	}
	w := l.hostile(workload.Config{Writers: 3, Keys: 120})
	if err := w.RunFor(l.ctx, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	// The nodes are running the pipeline (a first start on a table without
	// a stream is refused at once: that is another scenario).
	for _, p := range l.h.Nodes() {
		if !p.Ready(l.ctx, 120*time.Second) {
			t.Fatalf("node %s not ready:\n%s", p.Node, shared.Tail(p.Log(), 3000))
		}
	}
	oldARN := l.streamARN()
	l.setStream("")
	if err := w.RunFor(l.ctx, 2*time.Second); err != nil { // never streamed
		t.Fatal(err)
	}
	l.setStream(types.StreamViewTypeNewAndOldImages)
	newARN := l.streamARN()
	if err := w.RunFor(l.ctx, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	d := l.converge(180 * time.Second)
	t.Logf("converged: %d items = %d documents", d.items, d.docs)
	moved, replaced := 0, 0
	for _, p := range l.h.Nodes() {
		log := p.Log()
		if logLine(log, "stream replaced", oldARN, newARN) != "" {
			replaced++
		}
		moved += strings.Count(log, "re-backfilling the table") - strings.Count(log, "another node already moved")
		if p.Exited() {
			t.Errorf("node %s exited:\n%s", p.Node, shared.Tail(log, 3000))
		}
	}
	if replaced == 0 {
		t.Errorf("no node reported the replaced stream %s → %s", oldARN, newARN)
	}
	if moved != 1 {
		t.Errorf("the generation was moved %d times, want exactly once", moved)
	}
	gen, err := checkpoint.Generation(l.ctx, l.store(), l.table)
	if err != nil || gen != 1 {
		t.Errorf("generation %d (%v), want 1", gen, err)
	}
	// Live on the new stream, on every node's shards.
	if err := w.RunFor(l.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	l.converge(60 * time.Second)
	// verify --repair through a node writes in the nodes' generation (read
	// from the state table): an out-of-band change is repaired.
	var id string
	for k := range l.indexDocs() {
		if strings.HasPrefix(k, "k0") && (id == "" || k < id) {
			id = k
		}
	}
	l.osWrite("POST", "/_update/"+id+"?refresh=true", `{"doc":{"s":"changed by _update"}}`)
	l.metricsAddr = nodeByName(l.h.Nodes(), "n1").MetricsAddr
	l.h.ExtraEnv = append(l.h.ExtraEnv, "DDBSYNC_NODE=verify") // the pipeline's node_id (verify takes no lease)
	code, r, _ := l.verifyRepair(true)
	if tr := r.Tables; code != 0 || len(tr) != 1 || !r.Equal || tr[0].Repair == nil || tr[0].Repair.Indexed != 1 {
		t.Fatalf("verify --repair of %s in generation 1: exit %d, report %+v", id, code, r)
	}
	l.converge(30 * time.Second)
}

// store reads the scenario's state table (a reader only: it holds no lease
// and sends no heartbeat).
func (l *leaseE2E) store() checkpoint.Store {
	return checkpoint.NewDynamoStore(l.h.DDB, checkpoint.DynamoOptions{Table: l.state, Pipeline: "e2e", Node: "test-reader"})
}
