//go:build integration

package integration

// The caught-up signal (GET /caughtup, `ddbsync wait`, `run
// --until-caught-up`), the start-up that waits for OpenSearch, /healthz and
// /readyz, DynamoDB Local's own table ARNs and validate agreeing with run,
// against the real stack. Every check of "caught up" is followed at once (no
// polling) by the every-item / every-document comparison: a signal that
// comes too early fails it.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// cuStart runs the binary like e.start, with extra arguments to run.
func cuStart(e *e2e, extra ...string) {
	e.t.Helper()
	e.h.ExtraArgs = extra
	defer func() { e.h.ExtraArgs = nil }()
	e.start()
}

// cuGet calls a metrics endpoint of the running ddbsync and decodes its JSON.
func cuGet(t *testing.T, e *e2e, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + e.metricsAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

// cuWaitUp polls until the metrics server answers.
func cuWaitUp(t *testing.T, e *e2e) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + e.metricsAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics server never answered: %v\n%s", err, e.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cuMustCompare compares every item with every document now, once: the
// caller was just told the index is caught up.
func cuMustCompare(t *testing.T, e *e2e, when string) {
	t.Helper()
	if d := e.compare(); !d.ok() {
		t.Fatalf("%s: caught up was reported, but the index differs from the table: %s", when, d)
	}
}

// cuSearchCount counts the documents visible to search, without refreshing.
func cuSearchCount(t *testing.T, e *e2e) int {
	t.Helper()
	st, b := e.osDo("GET", "/"+e.index+"/_count", nil)
	if st != 200 {
		t.Fatalf("_count: %d %s", st, b)
	}
	var c struct{ Count int }
	_ = json.Unmarshal(b, &c)
	return c.Count
}

// cuWait runs `ddbsync wait` and returns its exit code and output.
func cuWait(t *testing.T, e *e2e, args ...string) (int, string) {
	t.Helper()
	all := append([]string{"wait", "-f", e.pipeline, "--state-dir", filepath.Join(e.dir, "state")}, args...)
	return badExec(t, 2*time.Minute, []string{"AWS_ACCESS_KEY_ID=" + e.accessKey, "AWS_SECRET_ACCESS_KEY=" + e.secret, "DDBSYNC_METRICS_ADDR=127.0.0.1:1"}, all...)
}

// TestCaughtUpSignal: writes made just before the call are applied and
// searchable when /caughtup says so (the index refreshes only on demand),
// also across a ROLLOVER that moves the writes to a child shard.
func TestCaughtUpSignal(t *testing.T) {
	e := newE2E(t, "caughtup", "", "")
	e.metricsAddr = freeAddr(t)
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	// An index that is never refreshed by itself: only ddbsync's refresh on
	// caught up makes the writes searchable.
	if st, b := e.osDo("PUT", "/"+e.index, []byte(`{"settings":{"index":{"refresh_interval":"-1","number_of_replicas":0}}}`)); st != 200 {
		t.Fatalf("create index: %d %s", st, b)
	}
	e.writePipeline("", "")
	e.start()
	cuWaitUp(t, e)

	round := func(name string, from, count int) {
		t.Helper()
		for i := from; i < from+count; i++ {
			e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i%37)), "v": n(fmt.Sprint(i))})
			if i%5 == 0 {
				e.del(key1(fmt.Sprintf("k%d", (i+11)%37)))
			}
		}
		start := time.Now()
		code, body := cuGet(t, e, "/caughtup?timeout=60s")
		if code != 200 || body["caught_up"] != true {
			t.Fatalf("%s: /caughtup = %d %v\n%s", name, code, body, e.log())
		}
		t.Logf("%s: caught up %s after the last write", name, time.Since(start).Round(time.Millisecond))
		if got, want := cuSearchCount(t, e), len(e.tableDocs()); got != want {
			t.Fatalf("%s: %d documents searchable right after caught up, table has %d items (not refreshed?)", name, got, want)
		}
		cuMustCompare(t, e, name)
	}
	round("first writes", 0, 120)
	round("second writes", 120, 80)

	// Writes before and after a rollover: the parent closes, a child takes
	// the later writes; caught up needs both.
	for i := 0; i < 30; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("r%d", i)), "v": n(fmt.Sprint(i))})
	}
	e.testControl(map[string]types.AttributeValue{"ACTION": s("ROLLOVER")})
	round("across a rollover", 200, 60)
	if !strings.Contains(e.log(), "shard drained") {
		t.Fatalf("the rollover closed no shard:\n%s", e.log())
	}

	// A moment in the future is not caught up until a read passes it.
	at := time.Now().Add(3 * time.Second).UnixMilli()
	code, body := cuGet(t, e, fmt.Sprintf("/caughtup?at=%d", at))
	if code != 503 || body["caught_up"] != false || body["behind"] == nil {
		t.Fatalf("a future moment: /caughtup = %d %v, want 503 with what is behind", code, body)
	}
	if code, body := cuGet(t, e, "/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("/readyz while streaming and idle = %d %v", code, body)
	}
	if code, body := cuGet(t, e, "/healthz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, body)
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestCaughtUpDuringBackfill: a backfill in progress is never caught up:
// /caughtup and `ddbsync wait` say so (exit 1 on timeout), /readyz is not
// ready, /healthz is live; after the backfill, `wait` exits 0 and every
// item is a document.
func TestCaughtUpDuringBackfill(t *testing.T) {
	e := newE2E(t, "cubackfill", "", "")
	e.metricsAddr = freeAddr(t)
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	e.load(600)
	// 600 items at 60 items/s: about 10 s of backfill.
	e.writePipeline("scan:\n  segments: 1\n  page_size: 20\n  rate_limit: 60\nstream:\n  start_position: LATEST", "")
	e.start()
	cuWaitUp(t, e)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(e.log(), "scan") {
		if time.Now().After(deadline) {
			t.Fatalf("no scan started:\n%s", e.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.put(map[string]types.AttributeValue{"pk": s("during"), "v": n("1")})

	code, body := cuGet(t, e, "/caughtup")
	if code != 503 || body["caught_up"] != false || !strings.Contains(fmt.Sprint(body["behind"]), "backfill in progress") {
		t.Fatalf("during the backfill: /caughtup = %d %v, want not caught up: backfill in progress", code, body)
	}
	if code, body := cuGet(t, e, "/readyz"); code != 503 || !strings.Contains(fmt.Sprint(body["why"]), "backfill") {
		t.Fatalf("during the backfill: /readyz = %d %v, want not ready: backfill", code, body)
	}
	if code, body := cuGet(t, e, "/healthz"); code != 200 {
		t.Fatalf("during the backfill: /healthz = %d %v, want live", code, body)
	}
	wcode, out := cuWait(t, e, "--timeout", "1s")
	if wcode != 1 || !strings.Contains(out, "backfill in progress") {
		t.Fatalf("wait --timeout 1s during the backfill: exit %d, want 1 naming the backfill:\n%s", wcode, out)
	}
	if e.proc == nil || e.proc.ProcessState != nil {
		t.Fatal("ddbsync exited")
	}
	e.put(map[string]types.AttributeValue{"pk": s("late"), "v": n("2")})
	wcode, out = cuWait(t, e, "--timeout", "90s")
	if wcode != 0 {
		t.Fatalf("wait after the backfill: exit %d:\n%s\n%s", wcode, out, e.log())
	}
	t.Logf("wait said: %s", out)
	if !strings.Contains(e.log(), "scan backfill complete") {
		t.Fatalf("wait exited 0 before the scan completed:\n%s", e.log())
	}
	cuMustCompare(t, e, "after the backfill")
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// No run: wait gives up with exit 1 and says so.
	wcode, out = cuWait(t, e, "--timeout", "1s")
	if wcode != 1 || !strings.Contains(out, "no ddbsync run answered") {
		t.Fatalf("wait without a run: exit %d:\n%s", wcode, out)
	}
}

// TestRunUntilCaughtUp: backfill, stream to the start moment, exit 0 with
// every item a document; a second run continues from the checkpoints.
func TestRunUntilCaughtUp(t *testing.T) {
	e := newE2E(t, "until", "", "")
	e.metricsAddr = ""
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	e.load(500)
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST", "")
	for i := 0; i < 20; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("i%d", i)), "v": n("1")})
	}
	cuStart(e, "--until-caught-up")
	if code := e.wait(2 * time.Minute); code != 0 {
		t.Fatalf("run --until-caught-up: exit %d\n%s", code, e.log())
	}
	if !strings.Contains(e.log(), "caught up") {
		t.Fatalf("no caught-up line:\n%s", e.log())
	}
	cuMustCompare(t, e, "first run")

	// Changes while nothing runs: the next run streams them from the
	// checkpoints, without a second backfill.
	for i := 0; i < 40; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("i%d", i*7)), "v": n("2")})
		if i%4 == 0 {
			e.del(key1(fmt.Sprintf("i%d", i*3+100)))
		}
	}
	cuStart(e, "--until-caught-up")
	if code := e.wait(2 * time.Minute); code != 0 {
		t.Fatalf("second run --until-caught-up: exit %d\n%s", code, e.log())
	}
	if strings.Contains(e.log(), "scan backfill complete") || !strings.Contains(e.log(), "first_start=false") {
		t.Fatalf("the second run did not continue from the checkpoints:\n%s", e.log())
	}
	cuMustCompare(t, e, "second run")
}

// TestStartupWaitsForOpenSearch: run starts before OpenSearch is reachable
// (a proxy port nothing listens on yet); it reports not ready and why,
// stays live, keeps waiting, and converges once the port opens.
func TestStartupWaitsForOpenSearch(t *testing.T) {
	e := newE2E(t, "osstart", "", "")
	e.metricsAddr = freeAddr(t)
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	proxy := newOutageProxy(t, e.os)
	proxy.down() // the port is known, nothing listens
	e.writePipeline("", "")
	badSinkHost(t, e, proxy.url())
	for i := 0; i < 50; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n(fmt.Sprint(i))})
	}
	e.start()
	cuWaitUp(t, e)
	e.waitLog("waiting for a server to become reachable", 30*time.Second)
	code, body := cuGet(t, e, "/readyz")
	if code != 503 || !strings.Contains(fmt.Sprint(body["why"]), "waiting for opensearch") {
		t.Fatalf("/readyz while OpenSearch is away = %d %v", code, body)
	}
	if code, body := cuGet(t, e, "/healthz"); code != 200 {
		t.Fatalf("/healthz while waiting = %d %v, want live", code, body)
	}
	if code, body := cuGet(t, e, "/caughtup"); code != 503 || !strings.Contains(fmt.Sprint(body["behind"]), "starting") {
		t.Fatalf("/caughtup while waiting = %d %v", code, body)
	}
	time.Sleep(3 * time.Second) // several retries while the port is closed
	if e.proc == nil || e.proc.ProcessState != nil {
		t.Fatalf("ddbsync gave up:\n%s", e.log())
	}
	proxy.up()
	wcode, out := cuWait(t, e, "--timeout", "90s")
	if wcode != 0 {
		t.Fatalf("wait: exit %d\n%s\n%s", wcode, out, e.log())
	}
	cuMustCompare(t, e, "after OpenSearch came up")
	if code, body := cuGet(t, e, "/readyz"); code != 200 {
		t.Fatalf("/readyz after start-up = %d %v", code, body)
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestDynamoDBLocalARN: the ARN DynamoDB Local reports works in table_arn,
// with the region from AWS_REGION; validate says what will be used.
func TestDynamoDBLocalARN(t *testing.T) {
	// A region other than the stack's default: the table lives only in
	// that namespace, so the run must take the region from AWS_REGION.
	e := newE2EWithKey(t, "ddblocal", "", "", fmt.Sprintf("loc%d", time.Now().UnixNano()%1e9), "locsecret", "eu-west-3")
	e.metricsAddr = ""
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	out, err := e.ddb.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Table.TableArn)
	if !strings.Contains(arn, ":ddblocal:") {
		t.Fatalf("DynamoDB Local reported %s; this test needs its own ARN form", arn)
	}
	e.writePipeline("", "")
	b, _ := os.ReadFile(e.pipeline)
	y := strings.Replace(string(b), fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s", e.region, e.table), arn, 1)
	y = strings.Replace(y, "      aws:\n        region: "+e.region+"\n", "", 1)
	if strings.Contains(y, "region:") || !strings.Contains(y, arn) {
		t.Fatalf("pipeline not rewritten:\n%s", y)
	}
	os.WriteFile(e.pipeline, []byte(y), 0o644)
	t.Setenv("AWS_REGION", e.region) // the table's namespace
	code, vout := badExec(t, 30*time.Second, nil, "validate", "-f", e.pipeline)
	if code != 0 || !strings.Contains(vout, "DynamoDB Local ARN") || !strings.Contains(vout, `by name "`+e.table+`" in region `+e.region+" (from AWS_REGION)") {
		t.Fatalf("validate: exit %d:\n%s", code, vout)
	}
	t.Logf("validate said:\n%s", vout)
	for i := 0; i < 30; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n(fmt.Sprint(i))})
	}
	cuStart(e, "--until-caught-up")
	if code := e.wait(2 * time.Minute); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, e.log())
	}
	cuMustCompare(t, e, "ddblocal ARN")
}

// TestValidateAgreesWithRun: a file run refuses makes validate exit 2 with
// the same message.
func TestValidateAgreesWithRun(t *testing.T) {
	dir := t.TempDir()
	file := badWriteFile(t, dir, "pipeline.yaml", `version: "2"
p:
  source:
    dynamodb:
      acknowledgments: false
      tables:
        - table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
          stream: {}
  sink:
    - opensearch:
        hosts: ["http://127.0.0.1:1"]
        index: orders
        template_file: `+filepath.Join(dir, "missing-template.json")+`
`)
	vcode, vout := badExec(t, 30*time.Second, nil, "validate", "-f", file)
	rcode, rout := badExec(t, 30*time.Second, nil, "run", "-f", file, "--state-dir", filepath.Join(dir, "state"), "--metrics-addr", "")
	if vcode != 2 || rcode != 2 {
		t.Fatalf("validate exit %d, run exit %d; want 2 and 2\nvalidate:\n%s\nrun:\n%s", vcode, rcode, vout, rout)
	}
	want := "line 5: p.source.dynamodb.acknowledgments: not supported yet: acknowledgments: false"
	for name, out := range map[string]string{"validate": vout, "run": rout} {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, out)
		}
	}
	// With the unsupported option gone, the missing template file: both
	// refuse it with the same words.
	b, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(b), "      acknowledgments: false\n", "", 1)), 0o644)
	vcode, vout = badExec(t, 30*time.Second, nil, "validate", "-f", file)
	rcode, rout = badExec(t, 30*time.Second, nil, "run", "-f", file, "--state-dir", filepath.Join(dir, "state"), "--metrics-addr", "")
	if vcode != 2 || rcode != 2 || !strings.Contains(vout, "missing-template.json") || !strings.Contains(rout, "missing-template.json") {
		t.Fatalf("missing template: validate exit %d, run exit %d\nvalidate:\n%s\nrun:\n%s", vcode, rcode, vout, rout)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("run created its state dir before refusing the file: %v", err)
	}
}

// TestStartupWaitsForDynamoDB: run starts before DynamoDB (and its
// streams endpoint) is reachable; it waits, reports why, and converges once
// the port opens.
func TestStartupWaitsForDynamoDB(t *testing.T) {
	e := newE2E(t, "ddbstart", "", "")
	e.metricsAddr = freeAddr(t)
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	proxy := newOutageProxy(t, stackEnv(t, "AWS_ENDPOINT_URL_DYNAMODB"))
	proxy.down()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url())
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", proxy.url())
	e.writePipeline("", "")
	for i := 0; i < 40; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n(fmt.Sprint(i))})
	}
	e.start()
	cuWaitUp(t, e)
	e.waitLog("waiting for a server to become reachable", 60*time.Second)
	code, body := cuGet(t, e, "/readyz")
	if code != 503 || !strings.Contains(fmt.Sprint(body["why"]), "waiting for dynamodb (table "+e.table+")") {
		t.Fatalf("/readyz while DynamoDB is away = %d %v", code, body)
	}
	if e.proc == nil || e.proc.ProcessState != nil {
		t.Fatalf("ddbsync gave up:\n%s", e.log())
	}
	proxy.up()
	wcode, out := cuWait(t, e, "--timeout", "120s")
	if wcode != 0 {
		t.Fatalf("wait: exit %d\n%s\n%s", wcode, out, e.log())
	}
	cuMustCompare(t, e, "after DynamoDB came up")
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestCaughtUpEmptyTable: a table nobody wrote to is caught up (DynamoDB
// Local answers TrimmedDataAccessException for an empty shard), and so is
// one whose only new shard after a rollover stays empty.
func TestCaughtUpEmptyTable(t *testing.T) {
	e := newE2E(t, "cuempty", "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline("", "")
	e.start()
	cuWaitUp(t, e)
	code, body := cuGet(t, e, "/caughtup?timeout=30s")
	if code != 200 || body["caught_up"] != true {
		t.Fatalf("empty table: /caughtup = %d %v\n%s", code, body, e.log())
	}
	for i := 0; i < 10; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n(fmt.Sprint(i))})
	}
	e.testControl(map[string]types.AttributeValue{"ACTION": s("ROLLOVER")})
	code, body = cuGet(t, e, "/caughtup?timeout=30s")
	if code != 200 || body["caught_up"] != true {
		t.Fatalf("empty child after a rollover: /caughtup = %d %v\n%s", code, body, e.log())
	}
	cuMustCompare(t, e, "empty child")
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestCIExample runs test/ci-example.sh, the CI job the README shows: the
// stack, ddbsync run, writes, ddbsync wait, assertions on search results.
func TestCIExample(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "test", "ci-example.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ci-example: passed") {
		t.Fatalf("test/ci-example.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestProgressBarOnTerminal: on a terminal (a pseudo-terminal from
// script(1)) a scan backfill draws a live bar with items, rate and ETA
// below the log lines, and a final 100% line. (Every other test reads a
// log that is not a terminal, without a bar.)
func TestProgressBarOnTerminal(t *testing.T) {
	e := newE2E(t, "bar", "", "")
	e.load(3000)
	e.writePipeline("scan:\n  segments: 1\n  page_size: 100\n  rate_limit: 600\nstream:\n  start_position: LATEST", "")
	run := fmt.Sprintf("%s run -f %s --state-dir %s --metrics-addr '' --until-caught-up", shared.Binary(t), e.pipeline, e.h.StateDir())
	cmd := exec.Command("script", "-qefc", run, "/dev/null")
	cmd.Env = e.h.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run on a terminal: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{e.table + " scan [", "/3000 items", "/s  ETA ", "100%  3000/3000 items", "done", "msg=\"scan backfill complete\""} {
		if !strings.Contains(text, want) {
			t.Errorf("terminal output lacks %q:\n%.3000s", want, text)
		}
	}
	if !strings.Contains(text, "\x1b[1A\x1b[2K") {
		t.Error("the bar is never redrawn below a log line")
	}
}
