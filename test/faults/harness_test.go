//go:build integration

// Package faults is the fault-injection suite (issue 5, item 2): every scenario runs the real
// ddbsync binary against the real local stack (test/stack), injects one kind of fault while a
// generated workload writes, and ends with the every-item / every-document comparison, which
// must show zero missing, extra and stale documents. The suite prints one table row per
// scenario. `go test -short` runs a subset within a few minutes; see README.md in this folder.
package faults

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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
)

// suiteSeed seeds every scenario's RNG (workload and fault timing); printed at start so a run
// can be repeated with FAULTS_SEED.
var suiteSeed uint64

// results collects one row per scenario for the table printed at the end.
var results resultTable

func TestMain(m *testing.M) {
	suiteSeed = uint64(time.Now().UnixNano())
	if v := os.Getenv("FAULTS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAULTS_SEED=%q is not a number\n", v)
			os.Exit(2)
		}
		suiteSeed = n
	}
	fmt.Printf("faults: seed %d (repeat with FAULTS_SEED=%d)\n", suiteSeed, suiteSeed)
	code := m.Run()
	fmt.Print(results.String())
	os.Exit(code)
}

// stackHint says how to get the environment the suite needs.
const stackHint = "run `bash test/stack/stack-up.sh` and `. test/stack/env.sh` (or `make test-faults`)"

func env(t *testing.T, k string) string {
	t.Helper()
	v := os.Getenv(k)
	if v == "" {
		t.Fatalf("%s is not set: %s", k, stackHint)
	}
	return v
}

// scenario is one table, one index, one state directory and the ddbsync process replicating
// them. Each has its own DynamoDB Local access key (a namespace of its own, so ROLLOVER and
// DILATE_TIME touch only its tables) unless it needs S3, which knows only the stack's key.
type scenario struct {
	t     *testing.T
	name  string // the row label
	ctx   context.Context
	rng   *rand.Rand       // fault timing; the workload has its own
	seedN uint64           // per-scenario seed (suite seed mixed with the name)
	ddb   *dynamodb.Client // straight to DynamoDB Local: the checker and the workload bypass the export emulator
	emu   *dynamodb.Client // through the export emulator (AWS_ENDPOINT_URL_DYNAMODB): PITR calls
	os    string           // OpenSearch base URL (direct, for checks)
	table string
	index string
	key   ddbjson.Key
	dir   string // pipeline, state and logs; kept when the scenario fails
	pad   int    // items carry a pad..3×pad-byte filler attribute

	accessKey, secret string
	region            string // of the table (DynamoDB Local namespaces by access key and region)
	pipeline          string
	extraEnv          []string // added to ddbsync's environment

	mu       sync.Mutex
	proc     *exec.Cmd
	procDone chan struct{}
	logPath  string
	runs     int

	written  atomic.Int64 // changes written to the table
	recorded bool         // a row was added to results
	failNote string       // the row's note when the scenario fails before its comparison
}

// stackKeyRegion is the region of a table under the stack's access key (which the export
// scenario needs: the S3 server knows no other key; its bucket stays in us-east-1 through
// export.s3_region). DynamoDB Local keeps a database per access key and region, and a database
// slows down as tables with streams come and go in it: 200 writes took 50 ms in a fresh one,
// 8 s in one that had held ~15 scenario tables, 17 s in the stack key's us-east-1 one that
// every integration test and benchmark shares. A region of its own per run keeps the export
// scenario's writes fast.
func stackKeyRegion() string { return fmt.Sprintf("faults-%08x", rand.Uint32()) }

// newScenario creates a fresh table (pk S) with a NEW_AND_OLD_IMAGES stream. stackKey selects
// the stack's credentials (for S3), with the table in a region of its own (stackKeyRegion).
func newScenario(t *testing.T, name string, stackKey bool) *scenario {
	t.Helper()
	env(t, "AWS_ENDPOINT_URL_DYNAMODB")
	h := fnv.New64a()
	h.Write([]byte(name))
	s := &scenario{t: t, name: name, ctx: context.Background(), os: env(t, "OPENSEARCH_URL"), seedN: suiteSeed ^ h.Sum64()}
	s.rng = rand.New(rand.NewPCG(s.seedN, 1))
	s.region = "us-east-1"
	if stackKey {
		s.accessKey, s.secret = env(t, "AWS_ACCESS_KEY_ID"), env(t, "AWS_SECRET_ACCESS_KEY")
		s.region = stackKeyRegion()
	} else {
		// Letters and digits only: DynamoDB Local's rule for access keys.
		s.accessKey, s.secret = fmt.Sprintf("faults%x", rand.Uint64()), "faultssecret"
	}
	cfg, err := awsconfig.LoadDefaultConfig(s.ctx, awsconfig.WithRegion(s.region), awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.accessKey, s.secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	s.emu = dynamodb.NewFromConfig(cfg)
	direct := "http://127.0.0.1:" + env(t, "DDB_PORT")
	s.ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(direct) })
	dir, err := os.MkdirTemp("", "ddbsync-faults-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	s.table = fmt.Sprintf("faults-%s-%08x", name, rand.Uint32())
	s.index = strings.ToLower(s.table)
	s.key = ddbjson.Key{Partition: "pk"}
	s.pad = 50
	_, err = s.ddb.CreateTable(s.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(s.table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", s.table, err)
	}
	t.Logf("scenario %s: table %s, access key %s, region %s, dir %s, seed %d", name, s.table, s.accessKey, s.region, s.dir, s.seedN)
	t.Cleanup(s.cleanup)
	return s
}

func (s *scenario) cleanup() {
	s.stop()
	if !s.recorded {
		note := "FAILED before the comparison"
		if s.failNote != "" {
			note = "FAILED: " + s.failNote
		}
		results.add(row{scenario: s.name, written: s.written.Load(), note: note})
	}
	if s.t.Failed() || os.Getenv("FAULTS_KEEP") != "" {
		if s.t.Failed() {
			s.dumpLog()
		}
		s.t.Logf("scenario %s: pipeline, state and logs kept in %s", s.name, s.dir)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _ = s.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(s.table)})
	_, _ = osDo(ctx, s.os, "DELETE", "/"+s.index, nil)
	_ = os.RemoveAll(s.dir)
}

// writePipeline writes the pipeline file. tableBlock is YAML for the table entry (stream,
// export, scan...), sinkExtra YAML added to the opensearch sink, host its URL ("" = OpenSearch).
func (s *scenario) writePipeline(tableBlock, sinkExtra, host string) {
	s.t.Helper()
	if host == "" {
		host = s.os
	}
	y := fmt.Sprintf(`version: "2"
faults:
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
        flush_timeout: 1s
%s
`, s.region, s.table, indent(tableBlock, 10), s.region, host, s.index, indent(sinkExtra, 8))
	s.pipeline = filepath.Join(s.dir, "pipeline.yaml")
	if err := os.WriteFile(s.pipeline, []byte(y), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func indent(text string, n int) string {
	if text == "" {
		return ""
	}
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// binary is the ddbsync under test: $DDBSYNC_BIN, else bin/ddbsync of this checkout.
func binary(t *testing.T) string {
	bin := os.Getenv("DDBSYNC_BIN")
	if bin == "" {
		bin = "../../bin/ddbsync"
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("ddbsync binary %s: %v (run `make build` or set DDBSYNC_BIN)", abs, err)
	}
	return abs
}

// start runs ddbsync in the background; each run logs to its own file.
func (s *scenario) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.t.Fatal("start: ddbsync is already running")
	}
	s.runs++
	s.logPath = filepath.Join(s.dir, fmt.Sprintf("ddbsync-%02d.log", s.runs))
	logf, err := os.Create(s.logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(binary(s.t), "run", "-f", s.pipeline, "--state-dir", filepath.Join(s.dir, "state"), "--metrics-addr", "", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s.accessKey, "AWS_SECRET_ACCESS_KEY="+s.secret)
	cmd.Env = append(cmd.Env, s.extraEnv...)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	s.proc, s.procDone = cmd, done
}

// running reports whether the current ddbsync process is still alive.
func (s *scenario) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return false
	}
	select {
	case <-s.procDone:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL (a crash) and waits for the process to go.
func (s *scenario) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Process.Signal(syscall.SIGKILL)
	<-s.procDone
	s.proc = nil
}

// stop sends SIGTERM and returns the exit code (-1 when nothing ran).
func (s *scenario) stop() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return -1
	}
	_ = s.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.procDone:
	case <-time.After(60 * time.Second):
		_ = s.proc.Process.Kill()
		<-s.procDone
	}
	code := s.proc.ProcessState.ExitCode()
	s.proc = nil
	return code
}

// waitExit waits for ddbsync to exit by itself and returns its exit code; ok is false when it
// still runs after timeout.
func (s *scenario) waitExit(timeout time.Duration) (code int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return -1, true
	}
	select {
	case <-s.procDone:
	case <-time.After(timeout):
		return 0, false
	}
	code = s.proc.ProcessState.ExitCode()
	s.proc = nil
	return code, true
}

// requireRunning fails the scenario if ddbsync exited (it must ride out every fault).
func (s *scenario) requireRunning(during string) {
	s.t.Helper()
	if !s.running() {
		code, _ := s.waitExit(time.Second)
		s.failNote = fmt.Sprintf("ddbsync exited %d during %s", code, during)
		if m := errorMsgRE.FindStringSubmatch(s.log()); m != nil {
			s.failNote += ": " + firstLine(m[1], 100)
		}
		s.t.Fatalf("ddbsync exited %d during %s:\n%s", code, during, tail(s.log(), 4000))
	}
}

// errorMsgRE finds the message of the first ERROR log line (text format).
var errorMsgRE = regexp.MustCompile(`level=ERROR msg="([^"]*)"`)

// firstLine returns the first line of text, cut to n bytes.
func firstLine(text string, n int) string {
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if len(text) > n {
		text = text[:n] + "…"
	}
	return text
}

// log is the current (or last) run's log.
func (s *scenario) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// allLogs concatenates every run's log.
func (s *scenario) allLogs() string {
	var b strings.Builder
	for i := 1; i <= s.runs; i++ {
		x, _ := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("ddbsync-%02d.log", i)))
		b.Write(x)
	}
	return b.String()
}

func (s *scenario) dumpLog() {
	if s.logPath != "" {
		s.t.Logf("last ddbsync log (%s):\n%s", s.logPath, tail(s.log(), 6000))
	}
}

func tail(text string, n int) string {
	if len(text) > n {
		return "...\n" + text[len(text)-n:]
	}
	return text
}

// waitLog waits until the current run's log contains one of substrs and returns it; "" when
// the process exited or timeout passed first.
func (s *scenario) waitLog(timeout time.Duration, substrs ...string) string {
	deadline := time.Now().Add(timeout)
	for {
		l := s.log()
		for _, sub := range substrs {
			if strings.Contains(l, sub) {
				return sub
			}
		}
		if !s.running() || time.Now().After(deadline) {
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustLog is waitLog that fails the scenario when none of substrs appears.
func (s *scenario) mustLog(timeout time.Duration, substrs ...string) string {
	s.t.Helper()
	got := s.waitLog(timeout, substrs...)
	if got == "" {
		s.t.Fatalf("ddbsync never logged any of %q within %s (running: %v):\n%s", substrs, timeout, s.running(), tail(s.log(), 4000))
	}
	return got
}

// randDuration draws uniformly from [lo, hi).
func (s *scenario) randDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

// testControl sends a DynamoDB Local test-control action for this scenario's access key.
func (s *scenario) testControl(kv ...string) {
	s.t.Helper()
	item := map[string]types.AttributeValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		item[kv[i]] = &types.AttributeValueMemberS{Value: kv[i+1]}
	}
	if _, err := s.ddb.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String("[TEST_CONTROL]"), Item: item}); err != nil {
		s.t.Fatalf("test control %v: %v", kv, err)
	}
}

// enablePITR turns on point-in-time recovery, which an export needs.
func (s *scenario) enablePITR() {
	s.t.Helper()
	_, err := s.emu.UpdateContinuousBackups(s.ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(s.table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	if err != nil {
		s.t.Fatalf("enable PITR: %v", err)
	}
}
