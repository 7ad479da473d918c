//go:build integration

package faults

// The scenarios, in the order they run (go test runs a file's tests in declaration order).
// The one that kills the stack's OpenSearch runs only without -short; the re-backfill one runs
// last.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/test/e2e"
)

// pick returns short in -short mode, else full.
func pick[T any](short, full T) T {
	if testing.Short() {
		return short
	}
	return full
}

// phase names where the current run was when it was killed, from its log.
func (s *scenario) phase() string {
	l := s.log()
	switch {
	case strings.Contains(l, "stream starting"):
		return "streaming"
	case strings.Contains(l, "export backfill complete"), strings.Contains(l, "scan backfill complete"):
		return "backfill→stream hand-off"
	case strings.Contains(l, "loading export"):
		return "export loading"
	case strings.Contains(l, "started export"), strings.Contains(l, "reusing export"):
		return "export start/wait"
	case strings.Contains(l, "scan backfill"):
		return "scan backfill"
	}
	return "start-up"
}

// killLoop starts ddbsync n times and SIGKILLs it a random time in [lo, hi) after it logged
// one of markers; it returns where each kill landed.
func (s *scenario) killLoop(n int, lo, hi time.Duration, markers ...string) []string {
	s.t.Helper()
	var phases []string
	for i := 0; i < n; i++ {
		s.start()
		marker := s.mustLog(3*time.Minute, markers...)
		d := s.randDuration(lo, hi)
		s.sleep(d)
		s.requireRunning("the kill loop")
		ph := s.phase()
		s.kill()
		phases = append(phases, ph)
		s.t.Logf("%s: SIGKILL of run %d, %s after %q: %s", s.name, s.Runs(), d.Round(time.Millisecond), marker, ph)
	}
	return phases
}

func countPhases(phases []string) string {
	n := map[string]int{}
	var order []string
	for _, p := range phases {
		if n[p] == 0 {
			order = append(order, p)
		}
		n[p]++
	}
	var parts []string
	for _, p := range order {
		parts = append(parts, fmt.Sprintf("%d %s", n[p], p))
	}
	return strings.Join(parts, ", ")
}

// finishRunning stops the workload (w may be nil), converges and checks that ddbsync is still
// running and that a graceful stop exits 0.
func (s *scenario) finishRunning(w *writer, note string) {
	s.t.Helper()
	s.requireRunning("the scenario")
	if w != nil {
		w.stopWrites()
	}
	s.converge(3*time.Minute, note)
	s.requireRunning("convergence")
	if !s.Ready(30 * time.Second) {
		s.t.Fatalf("converged, but /readyz does not answer 200 within 30 s:\n%s", tail(s.log(), 3000))
	}
	if code := s.stop(); code != 0 {
		s.t.Fatalf("graceful stop exited %d:\n%s", code, tail(s.log(), 3000))
	}
}

// 1a. SIGKILL during a PITR export backfill and then during streaming, restarting each time,
// while the workload writes. Exports go to S3, which knows only the stack's access key.
func TestSIGKILLExportAndStream(t *testing.T) {
	// ~2.4 MB of items, loaded one file at a time in 50 KiB bulks through a proxy that adds
	// 40 ms to each (a busier cluster than the local one): a few seconds of loading to aim
	// kills at.
	items := 1200
	backfillKills, streamKills := pick(1, 5), pick(1, 5)
	s := newScenario(t, "sigkill-export", true)
	s.pad = 1000
	s.load(items)
	s.enablePITR()
	slow := newRejectingProxy(t, s.os, s.seedN, 0, 0)
	slow.delay = 40 * time.Millisecond
	s.writePipeline(fmt.Sprintf("export:\n  s3_bucket: %s\n  s3_region: us-east-1\n  s3_prefix: faults/%s\n  parallelism: 1\nstream:\n  start_position: LATEST",
		env(t, "DDBSYNC_EXPORT_BUCKET"), s.table), "bulk_size: 0.05", slow.srv.URL)
	w := s.startWrites(items, 15*time.Millisecond)
	// The first kill lands while the export is started or awaited, the next ones while its
	// files load (each restart resumes them), then during streaming.
	var phases []string
	if backfillKills > 1 {
		phases = s.killLoop(1, 0, 2500*time.Millisecond, "started export", "backfill already complete")
		backfillKills--
	}
	phases = append(phases, s.killLoop(backfillKills, 0, 1200*time.Millisecond, "loading export", "backfill already complete")...)
	phases = append(phases, s.killLoop(streamKills, 300*time.Millisecond, 3*time.Second, "stream starting")...)
	s.start()
	s.mustLog(3*time.Minute, "stream starting")
	s.sleep(2 * time.Second) // the live stream carries on after the last restart
	s.finishRunning(w, fmt.Sprintf("%d SIGKILLs: %s", len(phases), countPhases(phases)))
}

// 1b. SIGKILL during a parallel Scan backfill and then during streaming.
func TestSIGKILLScanAndStream(t *testing.T) {
	items := pick(1500, 3000)
	backfillKills, streamKills := pick(2, 5), pick(1, 5)
	s := newScenario(t, "sigkill-scan", false)
	s.load(items)
	// rate_limit stretches the scan over a few seconds, so kills land inside it.
	s.writePipeline("scan:\n  segments: 4\n  page_size: 100\n  rate_limit: 400\nstream:\n  start_position: LATEST", "", "")
	w := s.startWrites(items, 15*time.Millisecond)
	phases := s.killLoop(backfillKills, 0, 1500*time.Millisecond, "starting scan backfill", "resuming scan backfill", "backfill already complete")
	phases = append(phases, s.killLoop(streamKills, 300*time.Millisecond, 3*time.Second, "stream starting")...)
	s.start()
	s.mustLog(3*time.Minute, "stream starting")
	s.sleep(2 * time.Second)
	s.finishRunning(w, fmt.Sprintf("%d SIGKILLs: %s", len(phases), countPhases(phases)))
}

// 3. OpenSearch answering 429: whole _bulk requests (with and without Retry-After) and single
// items (es_rejected_execution_exception), during a scan backfill and streaming.
func TestOpenSearch429(t *testing.T) {
	items := pick(1000, 2000)
	s := newScenario(t, "opensearch-429", false)
	s.load(items)
	p := newRejectingProxy(t, s.os, s.seedN, 0.3, 0.15)
	s.writePipeline("scan:\n  segments: 2\n  page_size: 250\nstream:\n  start_position: LATEST", "", p.srv.URL)
	w := s.startWrites(items, 15*time.Millisecond)
	s.start()
	s.mustLog(2*time.Minute, "stream starting")
	s.sleep(pick(8*time.Second, 20*time.Second))
	s.requireRunning("429 answers")
	note := fmt.Sprintf("429 to %d of %d bulks (%d with Retry-After), %d of %d items", p.rejected.Load(), p.bulks.Load(),
		p.withRetryAfter.Load(), p.itemsRejected.Load(), p.items.Load())
	if p.rejected.Load() == 0 || p.itemsRejected.Load() == 0 {
		t.Fatalf("the proxy injected too little: %s", note)
	}
	s.finishRunning(w, note)
}

// 4. Network faults with Toxiproxy between ddbsync and OpenSearch and between ddbsync and
// DynamoDB Streams: latency, a slow link, connection resets, connections that go silent and
// close, and a stall, applied and removed while the workload writes.
func TestNetworkFaultsToxiproxy(t *testing.T) {
	s := newScenario(t, "toxiproxy", false)
	tp := e2e.StartToxiproxy(t)
	osURL, err := url.Parse(s.os)
	if err != nil {
		t.Fatal(err)
	}
	osProxy := tp.Proxy("opensearch", osURL.Host)
	ddbProxy := tp.Proxy("streams", "127.0.0.1:"+env(t, "DDB_PORT"))
	s.ExtraEnv = []string{"AWS_ENDPOINT_URL_DYNAMODB_STREAMS=http://" + ddbProxy}
	s.writePipeline("stream:\n  start_position: TRIM_HORIZON", "connect_timeout: 2s\nsocket_timeout: 5s", "http://"+osProxy)
	type toxic struct {
		proxy, typ, stream string
		attrs              map[string]any
		hold               time.Duration
	}
	latency := map[string]any{"latency": 500, "jitter": 250}
	toxics := []toxic{
		{"opensearch", "latency", "downstream", latency, 6 * time.Second},
		{"streams", "latency", "downstream", latency, 6 * time.Second},
	}
	if !testing.Short() {
		toxics = append(toxics,
			toxic{"opensearch", "bandwidth", "upstream", map[string]any{"rate": 32}, 8 * time.Second}, // KB/s
			toxic{"streams", "bandwidth", "downstream", map[string]any{"rate": 16}, 8 * time.Second},
			toxic{"opensearch", "reset_peer", "upstream", map[string]any{"timeout": 0}, 6 * time.Second},
			toxic{"streams", "reset_peer", "upstream", map[string]any{"timeout": 200}, 6 * time.Second},
			// timeout > 0: nothing gets through and the connection closes after that many ms.
			toxic{"opensearch", "timeout", "upstream", map[string]any{"timeout": 3000}, 8 * time.Second},
			toxic{"streams", "timeout", "upstream", map[string]any{"timeout": 2000}, 6 * time.Second},
			// timeout 0: a stall; data is held until the toxic goes.
			toxic{"streams", "timeout", "upstream", map[string]any{"timeout": 0}, 8 * time.Second},
			toxic{"opensearch", "latency", "upstream", map[string]any{"latency": 2000, "jitter": 1000}, 8 * time.Second},
		)
	}
	w := s.startWrites(1000, 15*time.Millisecond)
	s.start()
	s.mustLog(time.Minute, "stream starting")
	var applied []string
	for i, x := range toxics {
		name := fmt.Sprintf("t%d", i)
		tp.AddToxic(x.proxy, name, x.typ, x.stream, x.attrs)
		s.sleep(x.hold)
		tp.RemoveToxic(x.proxy, name)
		s.requireRunning(x.typ + " on " + x.proxy)
		applied = append(applied, x.proxy+":"+x.typ)
		s.sleep(time.Second)
	}
	s.sleep(2 * time.Second)
	s.finishRunning(w, "toxics "+strings.Join(applied, ", "))
}

// 5. Repeated forced shard ROLLOVERs while the workload writes: every open shard closes and a
// child takes new writes; same-second updates straddle the rollovers.
func TestRepeatedRollovers(t *testing.T) {
	rollovers := pick(3, 10)
	s := newScenario(t, "rollovers", false)
	s.writePipeline("stream:\n  start_position: TRIM_HORIZON", "", "")
	w := s.startWrites(800, 10*time.Millisecond)
	s.start()
	s.mustLog(time.Minute, "stream starting")
	for i := 0; i < rollovers; i++ {
		s.sleep(s.randDuration(1500*time.Millisecond, 3500*time.Millisecond))
		s.testControl("ACTION", "ROLLOVER")
	}
	s.sleep(2 * time.Second)
	s.finishRunning(w, fmt.Sprintf("%d ROLLOVERs", rollovers))
	if n := strings.Count(s.allLogs(), "shard drained"); n < rollovers {
		t.Fatalf("%d ROLLOVERs but only %d shards drained", rollovers, n)
	}
}

// 6a. The stream trimmed past retention while ddbsync is down, with on_gap: stop: run must exit
// 3 with a STREAM GAP error and apply nothing after the gap. Then the documented manual
// recovery (delete the state and the index, re-backfill with a scan) converges.
func TestStreamGapStop(t *testing.T) {
	s := newScenario(t, "gap-stop", false)
	s.writePipeline("stream:\n  start_position: TRIM_HORIZON\n  on_gap: stop", "", "")
	s.start()
	s.mustLog(time.Minute, "stream starting")
	s.writeFor(600, 10*time.Millisecond, 4*time.Second)
	s.awaitEqual(time.Minute)
	if code := s.stop(); code != 0 {
		t.Fatalf("stop exited %d", code)
	}
	s.writeFor(600, 10*time.Millisecond, 3*time.Second) // changes the stream will lose
	s.testControl("ACTION", "DILATE_TIME", "HOURS", "25")
	before, err := e2e.IndexDocs(s.ctx, s.os, s.index)
	if err != nil {
		t.Fatal(err)
	}
	s.start()
	code, exited := s.waitExit(90 * time.Second)
	if !exited {
		t.Fatalf("ddbsync went on after the stream was trimmed (still running after 90 s):\n%s", tail(s.log(), 4000))
	}
	if code != 3 || !strings.Contains(s.log(), "STREAM GAP") {
		t.Fatalf("exit %d, want 3 with a STREAM GAP error:\n%s", code, tail(s.log(), 4000))
	}
	after, err := e2e.IndexDocs(s.ctx, s.os, s.index)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("documents changed after the gap: %d before, %d after", len(before), len(after))
	}
	for id, d := range before {
		if after[id] != d {
			t.Fatalf("document %s changed after the gap", id)
		}
	}
	t.Logf("gap-stop: exit 3 with STREAM GAP, index untouched; recovering by hand")
	// Manual recovery, as the error and README say: a fresh state and index, a scan backfill.
	if st, b := osDo(s.ctx, s.os, "DELETE", "/"+s.index, nil); st != 200 {
		t.Fatalf("delete index: %d %s", st, b)
	}
	if err := os.RemoveAll(filepath.Join(s.dir, "state")); err != nil {
		t.Fatal(err)
	}
	s.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST\n  on_gap: stop", "", "")
	w := s.startWrites(600, 15*time.Millisecond)
	s.start()
	s.mustLog(time.Minute, "stream starting")
	s.sleep(3 * time.Second)
	s.requireRunning("the manual re-backfill (fresh state and index, scan)")
	s.finishRunning(w, "DILATE_TIME 25h while down: exit 3 STREAM GAP; manual re-backfill")
}

// 2. The stack's OpenSearch SIGKILLed and brought back by stack-up.sh while the workload
// writes. It disturbs everyone sharing the stack, so it runs only in the full suite.
func TestOpenSearchKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the shared stack's OpenSearch: full suite only (make test-faults)")
	}
	root, _ := filepath.Abs("../..") // go test runs in the package directory
	s := newScenario(t, "opensearch-killed", false)
	s.load(1000)
	s.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST", "", "")
	w := s.startWrites(1000, 15*time.Millisecond)
	s.start()
	s.mustLog(time.Minute, "stream starting")
	s.sleep(3 * time.Second)

	pidFile := filepath.Join(root, ".stack", "pids", "opensearch.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read %s: %v", pidFile, err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("%s: %v", pidFile, err)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(cmdline), filepath.Join(root, ".stack")+"/") {
		t.Fatalf("pid %d from %s is not this checkout's OpenSearch (%q)", pid, pidFile, cmdline)
	}
	uuid := s.indexUUID()
	t.Logf("SIGKILL OpenSearch (pid %d)", pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, _ := osDo(s.ctx, s.os, "GET", "/", nil); st == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("OpenSearch still answers 30 s after SIGKILL")
		}
		s.sleep(200 * time.Millisecond)
	}
	s.sleep(20 * time.Second) // writes go on while OpenSearch is away
	s.requireRunning("the OpenSearch outage")
	out, err := exec.Command("bash", filepath.Join(root, "test", "stack", "stack-up.sh")).CombinedOutput()
	t.Logf("stack-up.sh:\n%s", out)
	if err != nil {
		t.Fatalf("stack-up.sh: %v", err)
	}
	if !strings.Contains(string(out), "(started: opensearch)") {
		t.Fatalf("stack-up.sh should have restarted OpenSearch only:\n%s", out)
	}
	// A restarted node must still hold the index it had (the bulks in flight at the kill are
	// retried). An index with another UUID was created anew: the restart lost every document.
	deadline = time.Now().Add(30 * time.Second)
	for s.indexUUID() == "" && time.Now().Before(deadline) {
		s.sleep(200 * time.Millisecond)
	}
	if now := s.indexUUID(); now != uuid {
		s.record(diff{}, "FAILED: OpenSearch restarted without its data")
		t.Fatalf("OpenSearch came back without its data: index %s had UUID %s before the kill, %q after "+
			"(stack-up.sh's start_opensearch empties .stack/data/opensearch before starting the node, so "+
			"a restart cannot keep documents; ddbsync cannot converge what it already acknowledged)", s.index, uuid, now)
	}
	s.finishRunning(w, "OpenSearch SIGKILLed for ~20 s, restarted by stack-up.sh")
}

// indexUUID is the index's UUID ("" when it does not exist or OpenSearch does not answer).
func (s *scenario) indexUUID() string {
	st, b := osDo(s.ctx, s.os, "GET", "/"+s.index+"/_settings/index.uuid", nil)
	if st != 200 {
		return ""
	}
	var r map[string]struct {
		Settings struct {
			Index struct {
				UUID string `json:"uuid"`
			} `json:"index"`
		} `json:"settings"`
	}
	if json.Unmarshal(b, &r) != nil {
		return ""
	}
	return r[s.index].Settings.Index.UUID
}

// 6b. The stream trimmed while ddbsync is down, with on_gap: rebackfill and a scan backfill:
// ddbsync must detect the gap, re-run the scan, sweep the documents of items deleted while it
// was down, and stream again. (Scan, not export: DILATE_TIME acts on every table of an access
// key, and S3 knows only the stack's shared one.)
func TestStreamGapRebackfill(t *testing.T) {
	s := newScenario(t, "gap-rebackfill", false)
	s.load(1000)
	s.writePipeline("scan:\n  segments: 2\n  page_size: 250\nstream:\n  start_position: LATEST\n  on_gap: rebackfill", "", "")
	s.start()
	if s.waitLog(time.Minute, "stream starting") == "" {
		code, _ := s.waitExit(10 * time.Second)
		if code == 2 && strings.Contains(s.log(), "not supported yet") {
			s.recorded = true
			results.add(row{scenario: s.name, written: s.written.Load(), note: "REFUSED: run exits 2, on_gap: rebackfill \"not supported yet\""})
		}
		t.Fatalf("ddbsync exited %d before streaming:\n%s", code, tail(s.log(), 3000))
	}
	s.writeFor(1000, 15*time.Millisecond, 4*time.Second)
	before := s.awaitEqual(time.Minute)
	if code := s.stop(); code != 0 {
		t.Fatalf("stop exited %d", code)
	}
	// While ddbsync is down: the workload, plus deletes of 100 items that have documents (their
	// documents become orphans that only a sweep removes).
	s.writeFor(1000, 15*time.Millisecond, 3*time.Second)
	deleted := s.deleteItems(100)
	s.testControl("ACTION", "DILATE_TIME", "HOURS", "25")
	s.start()
	w := s.startWrites(1000, 15*time.Millisecond)
	s.mustLog(3*time.Minute, "re-backfill complete", "stream starting")
	s.sleep(3 * time.Second) // writes go on while it recovers
	s.requireRunning("the re-backfill")
	w.stopWrites()
	s.awaitEqual(3 * time.Minute)
	// Recovered means streaming again: one more round of writes must arrive by the stream,
	// with no further gap (a fresh stream start that hits the trimmed shard again would
	// re-backfill in a loop, converging only by rescanning).
	gaps := strings.Count(s.log(), "STREAM GAP")
	s.writeFor(1000, 15*time.Millisecond, 4*time.Second)
	last := s.awaitEqual(time.Minute)
	note := fmt.Sprintf("DILATE_TIME 25h while down; %d deletes to sweep (of %d items)", deleted, before.Items)
	if more := strings.Count(s.log(), "STREAM GAP"); gaps == 0 || more != gaps {
		s.record(last, fmt.Sprintf("FAILED: %d STREAM GAPs for one gap, still growing (a re-backfill loop); %s", more, note))
		t.Fatalf("one gap, but the log reports %d STREAM GAPs, %d of them after recovery: the stream never resumes, ddbsync re-backfills in a loop:\n%s",
			more, more-gaps, tail(grepLines(s.log(), "STREAM GAP", "re-backfill", "orphan", "stream starting", "reading shard"), 5000))
	}
	s.finishRunning(nil, note)
}

// grepLines returns the lines of text that contain any of substrs.
func grepLines(text string, substrs ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, sub := range substrs {
			if strings.Contains(l, sub) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestSummary logs the table (it is also printed to stdout when the suite ends).
func TestSummary(t *testing.T) {
	t.Log(results.String())
}
