//go:build integration

// Package faults is the fault-injection suite (issue 5, item 2): every scenario runs the real
// ddbsync binary against the real local stack (test/stack), injects one kind of fault while the
// hostile workload (test/e2e/workload) writes, and ends with the every-item / every-document
// comparison, which must show zero missing, extra and stale documents. The suite prints one
// table row per scenario. `go test -short` runs a subset within a few minutes; see README.md in
// this folder. Tables, pipelines, processes and comparisons come from the one end-to-end
// harness, test/e2e; this file only adapts it to the suite's row table.
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/test/e2e"
)

// suiteSeed seeds every scenario's RNG (workload and fault timing); printed at start so a run
// can be repeated with FAULTS_SEED.
var suiteSeed uint64

// results collects one row per scenario for the table printed at the end.
var results resultTable

func TestMain(m *testing.M) {
	seed, err := e2e.SeedFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	suiteSeed = seed
	fmt.Printf("faults: seed %d (repeat with FAULTS_SEED=%d)\n", suiteSeed, suiteSeed)
	code := m.Run()
	fmt.Print(results.String())
	os.Exit(code)
}

func env(t *testing.T, k string) string {
	t.Helper()
	return e2e.Env(t, k)
}

// scenario is one harness (table, index, state directory, ddbsync runs) plus the suite's row.
// Each has its own DynamoDB Local access key (a namespace of its own, so ROLLOVER and
// DILATE_TIME touch only its tables) unless it needs S3, which knows only the stack's key.
type scenario struct {
	*e2e.Harness
	t     *testing.T
	name  string // the row label
	ctx   context.Context
	rng   *rand.Rand       // fault timing; the workload has its own
	seedN uint64           // per-scenario seed (suite seed mixed with the name)
	ddb   *dynamodb.Client // straight to DynamoDB Local: the checker and the workload bypass the export emulator
	os    string           // OpenSearch base URL (direct, for checks)
	table string
	index string
	key   ddbjson.Key
	dir   string
	pad   int // items carry a pad..3×pad-byte filler attribute

	written  atomic.Int64 // changes written to the table by finished workloads
	wlRuns   atomic.Int64 // workloads started (each gets its own seed)
	active   []*writer    // workloads started, counted in the row even when the test ends early
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

// newScenario creates a fresh table (pk S) with a NEW_AND_OLD_IMAGES stream and a metrics
// server for readiness. stackKey selects the stack's credentials (for S3), with the table in a
// region of its own (stackKeyRegion).
func newScenario(t *testing.T, name string, stackKey bool) *scenario {
	t.Helper()
	ns := e2e.FreshNamespace(t, "faults")
	if stackKey {
		ns = e2e.StackNamespace(t, stackKeyRegion())
	}
	h := e2e.New(t, e2e.Options{Prefix: "faults", Name: name, NS: ns}, suiteSeed)
	h.EnableMetrics()
	s := &scenario{Harness: h, t: t, name: name, ctx: h.Ctx, seedN: h.Seed, ddb: h.DDB, os: h.OpenSearch,
		table: h.Table, index: h.Index, key: h.Key, dir: h.Dir, pad: 50}
	s.rng = rand.New(rand.NewPCG(s.seedN, 1))
	t.Cleanup(s.cleanup) // runs before the harness's own cleanup (LIFO)
	return s
}

// writtenNow counts finished workloads and the ones still running.
func (s *scenario) writtenNow() int64 {
	n := s.written.Load()
	for _, w := range s.active {
		if w.w != nil {
			n += w.w.Written()
		}
	}
	return n
}

func (s *scenario) cleanup() {
	if !s.recorded {
		note := "FAILED before the comparison"
		if s.failNote != "" {
			note = "FAILED: " + s.failNote
		}
		results.add(row{scenario: s.name, written: s.writtenNow(), note: note})
	}
}

// writePipeline writes the pipeline file. tableBlock is YAML for the table entry (stream,
// export, scan...), sinkExtra YAML added to the opensearch sink, host its URL ("" = OpenSearch).
func (s *scenario) writePipeline(tableBlock, sinkExtra, host string) {
	s.t.Helper()
	s.WritePipeline(e2e.Pipeline{Name: "faults", TableBlock: tableBlock, SinkExtra: sinkExtra, Host: host})
}

func (s *scenario) start() { s.t.Helper(); s.Start() }

// running reports whether the current ddbsync process is still alive.
func (s *scenario) running() bool { return s.Running() }

// kill sends SIGKILL (a crash) and waits for the process to go.
func (s *scenario) kill() { s.Kill() }

// stop sends SIGTERM and returns the exit code (-1 when nothing ran).
func (s *scenario) stop() int { return s.Stop() }

// waitExit waits for ddbsync to exit by itself and returns its exit code; ok is false when it
// still runs after timeout.
func (s *scenario) waitExit(timeout time.Duration) (code int, ok bool) { return s.WaitExit(timeout) }

// requireRunning fails the scenario if ddbsync exited (it must ride out every fault).
func (s *scenario) requireRunning(during string) {
	s.t.Helper()
	if !s.running() {
		code, _ := s.waitExit(time.Second)
		s.failNote = fmt.Sprintf("ddbsync exited %d during %s", code, during)
		if m := errorMsgRE.FindStringSubmatch(s.log()); m != nil {
			s.failNote += ": " + firstLine(m[1], 100)
		}
		if m := errorErrRE.FindStringSubmatch(s.log()); m != nil {
			why := m[1]
			if i := strings.Index(why, "Bad Request "); i >= 0 { // OpenSearch's reason, past the ids
				why = why[i+len("Bad Request "):]
			}
			s.failNote += ": " + firstLine(why, 200)
		}
		s.t.Fatalf("ddbsync exited %d during %s:\n%s", code, during, tail(s.log(), 4000))
	}
}

// errorMsgRE finds the message of the first ERROR log line (text format).
var errorMsgRE = regexp.MustCompile(`level=ERROR msg="([^"]*)"`)

// errorErrRE finds the err attribute of the first ERROR log line.
var errorErrRE = regexp.MustCompile(`level=ERROR msg="[^"]*" err="((?:[^"\\]|\\.)*)"`)

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
func (s *scenario) log() string { return s.Log() }

// allLogs concatenates every run's log.
func (s *scenario) allLogs() string { return s.AllLogs() }

func tail(text string, n int) string { return e2e.Tail(text, n) }

// waitLog waits until the current run's log contains one of substrs and returns it; "" when
// the process exited or timeout passed first.
func (s *scenario) waitLog(timeout time.Duration, substrs ...string) string {
	return s.WaitLog(timeout, substrs...)
}

// mustLog is waitLog that fails the scenario when none of substrs appears.
func (s *scenario) mustLog(timeout time.Duration, substrs ...string) string {
	s.t.Helper()
	return s.MustLog(timeout, substrs...)
}

// randDuration draws uniformly from [lo, hi).
func (s *scenario) randDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

// testControl sends a DynamoDB Local test-control action for this scenario's access key.
func (s *scenario) testControl(kv ...string) { s.t.Helper(); s.TestControl(kv...) }

// enablePITR turns on point-in-time recovery, which an export needs.
func (s *scenario) enablePITR() { s.t.Helper(); s.EnablePITR() }

// sleep waits d (or until the test ends).
func (s *scenario) sleep(d time.Duration) { e2e.Sleep(s.ctx, d) }
