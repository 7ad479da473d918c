//go:build integration

package integration

// The integration suite's view of the one end-to-end harness (test/e2e):
// thin wrappers that keep this suite's helper names, over test/e2e's
// table, pipeline, process, readiness and comparison code and its hostile
// workload (test/e2e/workload).

import (
	"context"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// e2e is one end-to-end scenario: a table, an index, a state dir and the
// real ddbsync binary (all kept by h; the fields mirror it for the tests).
type e2e struct {
	h        *shared.Harness
	t        *testing.T
	ctx      context.Context
	ddb      *dynamodb.Client // through the export emulator (PITR and export calls work)
	os       string           // OpenSearch base URL
	table    string
	index    string
	key      ddbjson.Key
	dir      string
	pipeline string
	// proc and procDone are the current run (nil when none); procDone is
	// closed when it exits.
	proc     *exec.Cmd
	procDone chan error
	logPath  string
	runs     int
	// accessKey is this scenario's DynamoDB Local namespace.
	accessKey, secret string
	region            string // the table's region (part of the DynamoDB Local namespace)
	// metricsAddr is passed to --metrics-addr ("" disables the server).
	metricsAddr string
	// loaded counts the items load wrote.
	loaded int
}

// newE2E creates a fresh table (pk of type pkType, default S [+ sk of type
// sortKey]) with a NEW_AND_OLD_IMAGES stream, in a namespace of its own.
func newE2E(t *testing.T, name string, sortKey types.ScalarAttributeType, pkType types.ScalarAttributeType) *e2e {
	t.Helper()
	// DynamoDB Local namespaces tables, and its ROLLOVER / DILATE_TIME test
	// controls, per access key: one key per scenario keeps them apart.
	return newE2EWithKey(t, name, sortKey, pkType, "e2e"+shared.RandomHex(t, 12), "e2esecret", "us-east-1")
}

// stackKeyRegions give each stack-key scenario its own DynamoDB Local
// namespace (access key + region): Local re-reads a namespace's whole
// stream table on every write, so one big scenario would slow the rest.
var stackKeyRegions = []string{"us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
	"ap-southeast-2", "ca-central-1", "sa-east-1"}

var stackKeyUses atomic.Int64

// newE2EStackKey is newE2E with the stack's own credentials, which the S3
// server knows: for scenarios that export to S3.
func newE2EStackKey(t *testing.T, name string) *e2e {
	t.Helper()
	region := stackKeyRegions[int(stackKeyUses.Add(1)-1)%len(stackKeyRegions)]
	return newE2EWithKey(t, name, "", "", stackEnv(t, "AWS_ACCESS_KEY_ID"), stackEnv(t, "AWS_SECRET_ACCESS_KEY"), region)
}

func newE2EWithKey(t *testing.T, name string, sortKey, pkType types.ScalarAttributeType, accessKey, secret, region string) *e2e {
	t.Helper()
	schema := workload.KeySchema{Partition: "pk", PartitionType: pkType}
	if sortKey != "" {
		schema.Sort, schema.SortType = "sk", sortKey
	}
	h := shared.New(t, shared.Options{Prefix: "e2e", Name: name, Schema: schema,
		NS: shared.Namespace{AccessKey: accessKey, Secret: secret, Region: region}}, 0)
	return &e2e{h: h, t: t, ctx: h.Ctx, ddb: h.Emu, os: h.OpenSearch, table: h.Table, index: h.Index, key: h.Key,
		dir: h.Dir, accessKey: accessKey, secret: secret, region: region}
}

// dataPrepperSink is the sink metadata Data Prepper's blueprint sets.
const dataPrepperSink = `document_id: "${getMetadata(\"primary_key\")}"
action: "${getMetadata(\"opensearch_action\")}"
document_version: "${getMetadata(\"document_version\")}"
document_version_type: external`

// writePipeline writes the pipeline file for e.table and e.index (a test
// may point them elsewhere first: a missing table, a date pattern);
// tableBlock and sinkExtra are YAML lines added (indented) to the table
// entry and the opensearch sink.
func (e *e2e) writePipeline(tableBlock, sinkExtra string) {
	e.t.Helper()
	extra := dataPrepperSink
	if sinkExtra != "" {
		extra += "\n" + sinkExtra
	}
	e.pipeline = e.h.WritePipeline(shared.Pipeline{Name: "e2e", Table: e.table, TableBlock: tableBlock, Index: e.index, SinkExtra: extra})
}

// start runs the ddbsync binary in the background.
func (e *e2e) start() {
	e.t.Helper()
	e.h.PipelinePath, e.h.MetricsAddr = e.pipeline, e.metricsAddr
	// A scenario may give the process other credentials than the harness's
	// own clients use (a wrong secret for S3, a secret to look for in logs).
	e.h.NS.AccessKey, e.h.NS.Secret = e.accessKey, e.secret
	p := e.h.Start()
	e.proc, e.procDone, e.logPath = p.Cmd, p.Done, p.LogPath
	e.runs = e.h.Runs()
}

// kill sends SIGKILL (a crash) and waits.
func (e *e2e) kill() {
	if e.proc == nil {
		return
	}
	e.h.Kill()
	e.proc = nil
}

// stop sends SIGTERM and returns the exit code.
func (e *e2e) stop() int {
	if e.proc == nil {
		return -1
	}
	code := e.h.Stop()
	e.proc = nil
	return code
}

// wait waits for the process to exit by itself and returns its exit code.
func (e *e2e) wait(timeout time.Duration) int {
	e.t.Helper()
	code, ok := e.h.WaitExit(timeout)
	if !ok {
		e.t.Fatalf("ddbsync did not exit within %s", timeout)
	}
	e.proc = nil
	return code
}

func (e *e2e) log() string { return e.h.Log() }

func (e *e2e) dumpLog() {
	e.t.Logf("ddbsync log (%s):\n%s", e.logPath, shared.Tail(e.log(), 8000))
}

func (e *e2e) put(item map[string]types.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item}); err != nil {
		e.t.Fatalf("put: %v", err)
	}
}

func (e *e2e) del(key map[string]types.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: key}); err != nil {
		e.t.Fatalf("delete: %v", err)
	}
}

// testControl sends a DynamoDB Local test-control action (ROLLOVER, DILATE_TIME).
func (e *e2e) testControl(item map[string]types.AttributeValue) {
	e.t.Helper()
	sendTestControl(e.t, e.ddb, item)
}

// tableDocs scans the whole table and converts every item with the product's converter.
func (e *e2e) tableDocs() map[string]string {
	e.t.Helper()
	docs, err := shared.TableDocs(e.ctx, e.h.DDB, e.table, e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return docs
}

// indexDocs reads every document of the index: _id → _source.
func (e *e2e) indexDocs() map[string]string {
	e.t.Helper()
	docs, err := shared.IndexDocs(e.ctx, e.os, e.index)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make(map[string]string, len(docs))
	for id, d := range docs {
		out[id] = d.Source
	}
	return out
}

func (e *e2e) osDo(method, path string, body []byte) (int, []byte) {
	return shared.Do(e.ctx, e.os, method, path, body)
}

// diff compares every item with every document: missing, extra, stale
// (_ids; full is the harness's comparison with keys and details).
type diff struct {
	items, docs           int
	missing, extra, stale []string
	full                  shared.Diff
}

func (d diff) ok() bool { return len(d.missing)+len(d.extra)+len(d.stale) == 0 }

func (d diff) String() string { return d.full.String() }

func (e *e2e) compare() diff {
	e.t.Helper()
	e.h.Index = e.index // the index or pattern the test compares with
	full, err := e.h.Compare()
	if err != nil {
		e.t.Fatal(err)
	}
	return toDiff(full)
}

func toDiff(full shared.Diff) diff {
	d := diff{items: full.Items, docs: full.Docs, full: full}
	for _, p := range full.Missing {
		d.missing = append(d.missing, p.ID)
	}
	for _, p := range full.Extra {
		d.extra = append(d.extra, p.ID)
	}
	for _, p := range full.Stale {
		d.stale = append(d.stale, p.String())
	}
	return d
}

// converge waits until the index equals the table, failing with the diff
// (at once when ddbsync has exited: nothing changes the index then).
func (e *e2e) converge(timeout time.Duration) diff {
	e.t.Helper()
	e.h.Index = e.index // the index or pattern the test compares with
	full, ok, err := e.h.AwaitEqual(timeout)
	if err != nil {
		e.t.Fatalf("compare table %s with index %s: %v", e.table, e.index, err)
	}
	d := toDiff(full)
	if !ok {
		e.t.Fatalf("index %s did not converge to table %s in %s: %s", e.index, e.table, timeout, d)
	}
	return d
}

// hostile returns the hostile workload for this scenario's table.
func (e *e2e) hostile(cfg workload.Config) *workload.Workload { return e.h.Workload(cfg) }

// hostileFor runs the hostile workload for d (concurrent writers) and
// fails the test if a write failed.
func (e *e2e) hostileFor(cfg workload.Config, d time.Duration) *workload.Workload {
	e.t.Helper()
	w := e.hostile(cfg)
	if err := w.RunFor(e.ctx, d); err != nil {
		e.t.Fatalf("workload: %v", err)
	}
	return w
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func b(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }
func key1(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk)}
}

func ttlInput(table string) *dynamodb.UpdateTimeToLiveInput {
	return &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table), TimeToLiveSpecification: &types.TimeToLiveSpecification{
		AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}
}
