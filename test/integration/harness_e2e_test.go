//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// e2e is one end-to-end scenario: a table, an index, a state dir and the
// real ddbsync binary.
type e2e struct {
	t        *testing.T
	ctx      context.Context
	ddb      *dynamodb.Client
	os       string // OpenSearch base URL
	table    string
	index    string
	key      ddbjson.Key
	dir      string
	pipeline string
	proc     *exec.Cmd
	procDone chan error
	logPath  string
	runs     int
	// accessKey is this scenario's DynamoDB Local namespace.
	accessKey, secret string
	region            string // the table's region (part of the DynamoDB Local namespace)
	// metricsAddr is passed to --metrics-addr ("" disables the server).
	metricsAddr string
}

// newE2E creates a fresh table (pk S [+ sk]) with a NEW_AND_OLD_IMAGES stream.
func newE2E(t *testing.T, name string, sortKey types.ScalarAttributeType, pkType types.ScalarAttributeType) *e2e {
	t.Helper()
	// DynamoDB Local namespaces tables, and its ROLLOVER / DILATE_TIME test
	// controls, per access key: one key per scenario keeps them apart.
	return newE2EWithKey(t, name, sortKey, pkType, fmt.Sprintf("e2e%d", time.Now().UnixNano()%1e9), "e2esecret", "us-east-1")
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
	ctx := context.Background()
	stackEnv(t, "AWS_ENDPOINT_URL_DYNAMODB")
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region), awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, ctx: ctx, ddb: dynamodb.NewFromConfig(cfg), os: stackEnv(t, "OPENSEARCH_URL"), dir: t.TempDir(), accessKey: accessKey, secret: secret, region: region}
	e.table = "e2e-" + name + "-" + suffix
	e.index = strings.ToLower(e.table)
	if pkType == "" {
		pkType = types.ScalarAttributeTypeS
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(e.table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: pkType}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
	e.key = ddbjson.Key{Partition: "pk"}
	if sortKey != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: sortKey})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
		e.key.Sort = "sk"
	}
	if _, err := e.ddb.CreateTable(ctx, in); err != nil {
		t.Fatalf("create table %s: %v", e.table, err)
	}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			e.dumpLog()
		}
		// DynamoDB Local keeps every table of a namespace (access key +
		// region) in one database, and slows down as it fills: drop ours.
		_, _ = e.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(e.table)})
	})
	return e
}

// writePipeline writes the pipeline file; extraTable and extraSink are
// YAML lines appended (indented) to the table entry and the opensearch sink.
func (e *e2e) writePipeline(tableBlock, sinkExtra string) {
	e.t.Helper()
	if tableBlock == "" {
		tableBlock = "stream:\n  start_position: TRIM_HORIZON"
	}
	y := fmt.Sprintf(`version: "2"
e2e:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:%s:000000000000:table/%s"
%s
      aws:
        region: %s
  sink:
    - opensearch:
        hosts: ["%s"]
        index: "%s"
        document_id: "${getMetadata(\"primary_key\")}"
        action: "${getMetadata(\"opensearch_action\")}"
        document_version: "${getMetadata(\"document_version\")}"
        document_version_type: external
        flush_timeout: 1s
%s
`, e.region, e.table, indent(tableBlock, 10), e.region, e.os, e.index, indent(sinkExtra, 8))
	e.pipeline = filepath.Join(e.dir, "pipeline.yaml")
	if err := os.WriteFile(e.pipeline, []byte(y), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func indent(s string, n int) string {
	if s == "" {
		return ""
	}
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// start runs the ddbsync binary in the background.
func (e *e2e) start() {
	e.t.Helper()
	bin := os.Getenv("DDBSYNC_BIN")
	if bin == "" {
		bin = "../../bin/ddbsync"
	}
	e.runs++
	e.logPath = filepath.Join(e.dir, fmt.Sprintf("ddbsync-%d.log", e.runs))
	logf, err := os.Create(e.logPath)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-f", e.pipeline, "--state-dir", filepath.Join(e.dir, "state"), "--metrics-addr", e.metricsAddr, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.accessKey, "AWS_SECRET_ACCESS_KEY="+e.secret)
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.proc = cmd
	e.procDone = make(chan error, 1)
	go func() { e.procDone <- cmd.Wait(); logf.Close() }()
}

// kill sends SIGKILL (a crash) and waits.
func (e *e2e) kill() {
	if e.proc == nil {
		return
	}
	_ = e.proc.Process.Signal(syscall.SIGKILL)
	<-e.procDone
	e.proc = nil
}

// stop sends SIGTERM and returns the exit code.
func (e *e2e) stop() int {
	if e.proc == nil {
		return -1
	}
	_ = e.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.procDone:
	case <-time.After(40 * time.Second):
		_ = e.proc.Process.Kill()
		<-e.procDone
	}
	code := e.proc.ProcessState.ExitCode()
	e.proc = nil
	return code
}

// wait waits for the process to exit by itself and returns its exit code.
func (e *e2e) wait(timeout time.Duration) int {
	e.t.Helper()
	select {
	case <-e.procDone:
	case <-time.After(timeout):
		e.t.Fatalf("ddbsync did not exit within %s", timeout)
	}
	code := e.proc.ProcessState.ExitCode()
	e.proc = nil
	return code
}

func (e *e2e) log() string {
	b, _ := os.ReadFile(e.logPath)
	return string(b)
}

func (e *e2e) dumpLog() {
	l := e.log()
	if len(l) > 8000 {
		l = "...\n" + l[len(l)-8000:]
	}
	e.t.Logf("ddbsync log (%s):\n%s", e.logPath, l)
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
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("[TEST_CONTROL]"), Item: item}); err != nil {
		e.t.Fatalf("test control %v: %v", item, err)
	}
}

// tableDocs scans the whole table and converts every item with the product's converter.
func (e *e2e) tableDocs() map[string]string {
	e.t.Helper()
	docs, err := shared.TableDocs(e.ctx, e.ddb, e.table, e.key)
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

// diff compares every item with every document: missing, extra, stale.
type diff struct {
	items, docs           int
	missing, extra, stale []string
}

func (d diff) ok() bool { return len(d.missing)+len(d.extra)+len(d.stale) == 0 }

func (d diff) String() string {
	first := func(s []string) []string {
		sort.Strings(s)
		if len(s) > 5 {
			return s[:5]
		}
		return s
	}
	return fmt.Sprintf("items=%d docs=%d missing=%d %q extra=%d %q stale=%d %q", d.items, d.docs,
		len(d.missing), first(d.missing), len(d.extra), first(d.extra), len(d.stale), first(d.stale))
}

func (e *e2e) compare() diff {
	items, docs := e.tableDocs(), e.indexDocs()
	d := diff{items: len(items), docs: len(docs)}
	for id, want := range items {
		got, ok := docs[id]
		switch {
		case !ok:
			d.missing = append(d.missing, id)
		case got != want:
			d.stale = append(d.stale, id+" got "+got+" want "+want)
		}
	}
	for id := range docs {
		if _, ok := items[id]; !ok {
			d.extra = append(d.extra, id)
		}
	}
	return d
}

// converge waits until the index equals the table, failing with the diff.
func (e *e2e) converge(timeout time.Duration) diff {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := e.compare()
		if d.ok() {
			e.t.Logf("converged: %d items = %d documents", d.items, d.docs)
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("index %s did not converge to table %s in %s: %s", e.index, e.table, timeout, d)
		}
		time.Sleep(300 * time.Millisecond)
	}
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
