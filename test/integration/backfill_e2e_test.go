//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// load writes plain items pk "i<n>" for n in [0, count) with BatchWriteItem
// (scenarios that need those exact keys; the others use loadHostile).
func (e *e2e) load(count int) {
	e.t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	per := (count + 7) / 8
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i += 25 {
				var reqs []types.WriteRequest
				for j := i; j < min(i+25, hi); j++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"pk": s(fmt.Sprintf("i%d", j)), "n": n(fmt.Sprint(j)), "pad": s(strings.Repeat("p", 100)),
					}}})
				}
				for len(reqs) > 0 {
					out, err := e.ddb.BatchWriteItem(e.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{e.table: reqs}})
					if err != nil {
						errc <- err
						return
					}
					reqs = out.UnprocessedItems[e.table]
				}
			}
		}(w*per, min((w+1)*per, count))
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		e.t.Fatalf("load: %v", err)
	}
}

// churn changes items load wrote until stop is closed: updates, deletes
// and inserts, many of the same keys (churnHostile is the hostile one).
func (e *e2e) churn(count int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprintf("i%d", r.IntN(count))
			var err error
			switch i % 3 {
			case 0:
				_, err = e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{"pk": s(k), "n": n(fmt.Sprint(-i))}})
			case 1:
				_, err = e.ddb.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: key1(k)})
			case 2:
				_, err = e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{"pk": s(fmt.Sprintf("new%d", i)), "n": n("1")}})
			}
			if err != nil {
				e.t.Errorf("churn: %v", err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return &wg
}

// loadHostile writes count hostile items (ordinary keys k00000…, see
// workload.KeySchema.Ordinary) and every special key with BatchWriteItem,
// concurrently; e.loaded counts them. Items carry no filler and shallow
// maps, so a 100k-item table stays small.
func (e *e2e) loadHostile(count int) {
	e.t.Helper()
	w := e.hostile(workload.Config{Keys: count, Pad: -1, Depth: 2, Writers: 8})
	if err := w.Load(e.ctx, count); err != nil {
		e.t.Fatalf("load: %v", err)
	}
	e.loaded = int(w.Written())
}

// churnHostile runs the hostile workload over the keys loadHostile wrote
// until stop is closed: updates, deletes, re-inserts, hot keys, new items.
func (e *e2e) churnHostile(count int, stop <-chan struct{}) *sync.WaitGroup {
	run := e.h.StartWorkload(e.hostile(workload.Config{Keys: count, Pad: -1, Depth: 2, Pace: 20 * time.Millisecond}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-stop
		if err := run.Stop(); err != nil {
			e.t.Errorf("churn: %v", err)
		}
	}()
	return &wg
}

func (e *e2e) enablePITR() {
	e.t.Helper()
	_, err := e.ddb.UpdateContinuousBackups(e.ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(e.table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	if err != nil {
		e.t.Fatalf("enable PITR: %v", err)
	}
}

func (e *e2e) exportBlock(extra string) string {
	return fmt.Sprintf("export:\n  s3_bucket: %s\n  s3_region: us-east-1\n  s3_prefix: %s\n%sstream:\n  start_position: LATEST",
		stackEnv(e.t, "DDBSYNC_EXPORT_BUCKET"), "e2e/"+e.table, extra)
}

// checkpoints reads the state file of the last run.
func (e *e2e) checkpoints() map[string]checkpoint.Progress {
	b, err := os.ReadFile(filepath.Join(e.dir, "state", "checkpoints.json"))
	out := map[string]checkpoint.Progress{}
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

// waitLog waits for a log line containing substr (failing at once when
// ddbsync exits first).
func (e *e2e) waitLog(substr string, timeout time.Duration) {
	e.t.Helper()
	e.h.MustLog(timeout, substr)
}

// TestExportBackfillWithConcurrentWrites: a table of 30k hostile items is
// backfilled from a PITR export while inserts, updates and deletes
// continue. (It passed with 100k hostile items too, in 13 minutes, mostly
// spent loading DynamoDB Local; scale is make bench-backfill's job, with 1M
// items.)
func TestExportBackfillWithConcurrentWrites(t *testing.T) {
	const count = 30_000
	e := newE2EStackKey(t, "export")
	e.loadHostile(count)
	e.enablePITR()
	e.writePipeline(e.exportBlock(""), "")
	stop := make(chan struct{})
	wg := e.churnHostile(count, stop)
	e.start()
	e.waitLog("export backfill complete", 5*time.Minute)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	d := e.converge(90 * time.Second)
	if d.items < count/2 {
		t.Fatalf("only %d items", d.items)
	}
}

// TestExportResumeAfterSIGKILLMidFile: killed while a data file is half
// loaded, ddbsync reuses the export and resumes that file from its line.
func TestExportResumeAfterSIGKILLMidFile(t *testing.T) {
	const count = 20_000
	e := newE2EStackKey(t, "exportkill")
	e.loadHostile(count)
	e.enablePITR()
	e.writePipeline(e.exportBlock(""), "")
	e.start()
	deadline := time.Now().Add(3 * time.Minute)
	for killed := false; !killed; {
		for k, p := range e.checkpoints() {
			if strings.Contains(k, "/export/") && p.Lines > 0 && !p.Done {
				e.kill()
				killed = true
				break
			}
		}
		if !killed && !e.h.Running() {
			t.Fatalf("ddbsync exited before a file checkpoint mid-file: %s", shared.ErrorLine(e.log()))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no file checkpoint mid-file:\n%s", e.log())
		}
		time.Sleep(5 * time.Millisecond)
	}
	deleted := workload.KeySchema{Partition: "pk", PartitionType: types.ScalarAttributeTypeS}.Ordinary(7)
	e.del(deleted.Attrs)
	e.start()
	e.waitLog("export backfill complete", 3*time.Minute)
	for _, want := range []string{"reusing export from checkpoint", "resuming data file mid-file"} {
		if !strings.Contains(e.log(), want) {
			t.Fatalf("restart log lacks %q:\n%s", want, e.log())
		}
	}
	if strings.Contains(e.log(), "started export") {
		t.Fatal("restart started a second export")
	}
	d := e.converge(60 * time.Second)
	if _, ok := e.indexDocs()[deleted.Natural]; ok || d.items != e.loaded-1 {
		t.Fatalf("deleted item came back or items wrong: %s", d)
	}
}

// TestExportCorruptFileFailsNamingTheKey: a data file whose MD5 does not
// match fails the run with a message naming the S3 key; no file checkpoint
// is completed past it.
func TestExportCorruptFileFailsNamingTheKey(t *testing.T) {
	for _, kind := range []string{"md5", "gzip"} {
		t.Run(kind, func(t *testing.T) {
			e := newE2EStackKey(t, "corrupt"+kind)
			e.loadHostile(2000)
			e.enablePITR()
			emuCorrupt(t, map[string]string{"kind": kind, "tableName": e.table})
			e.writePipeline(e.exportBlock("  parallelism: 1\n"), "")
			e.start()
			if code := e.wait(2 * time.Minute); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, e.log())
			}
			log := e.log()
			if !strings.Contains(log, "corrupt export data file s3://"+stackEnv(t, "DDBSYNC_EXPORT_BUCKET")+"/e2e/"+e.table) {
				t.Fatalf("error does not name the S3 key:\n%s", log)
			}
			for k, p := range e.checkpoints() {
				if k == "backfill/"+e.table+"/meta" && p.Done {
					t.Fatal("backfill marked done")
				}
				if strings.Contains(log, strings.TrimPrefix(k, "backfill/"+e.table+"/export/")+": ") && p.Done {
					t.Fatalf("corrupt file %s marked done", k)
				}
			}
		})
	}
}

// TestExportARNLoadsExistingExport: export_arn loads an export made
// earlier without starting one.
func TestExportARNLoadsExistingExport(t *testing.T) {
	e := newE2EStackKey(t, "exportarn")
	e.loadHostile(3000)
	e.enablePITR()
	out, err := e.ddb.ExportTableToPointInTime(e.ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String("arn:aws:dynamodb:" + e.region + ":000000000000:table/" + e.table), S3Bucket: aws.String(stackEnv(t, "DDBSYNC_EXPORT_BUCKET")),
		S3Prefix: aws.String("manual/" + e.table), ExportFormat: types.ExportFormatDynamodbJson,
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExportDescription.ExportArn)
	e.writePipeline(fmt.Sprintf("export:\n  s3_bucket: %s\n  s3_region: us-east-1\n  export_arn: %q\nstream:\n  start_position: LATEST", stackEnv(t, "DDBSYNC_EXPORT_BUCKET"), arn), "")
	e.start()
	e.waitLog("export backfill complete", 2*time.Minute)
	e.put(map[string]types.AttributeValue{"pk": s("after"), "n": n("1")})
	e.hostileFor(workload.Config{Keys: 3000, Pad: -1}, 3*time.Second)
	e.converge(60 * time.Second)
	if strings.Contains(e.log(), "started export") {
		t.Fatal("started an export despite export_arn")
	}
}

// TestScanBackfill: the same hand-off with a parallel Scan, killed once in
// the middle, while writes continue.
func TestScanBackfill(t *testing.T) {
	const count = 30_000
	e := newE2E(t, "scan", "", "")
	e.loadHostile(count)
	e.writePipeline("scan:\n  segments: 4\n  page_size: 500\nstream:\n  start_position: LATEST", "")
	stop := make(chan struct{})
	wg := e.churnHostile(count, stop)
	e.start()
	var segmentsSaved atomic.Bool
	deadline := time.Now().Add(2 * time.Minute)
	for !segmentsSaved.Load() {
		for k, p := range e.checkpoints() {
			if strings.Contains(k, "/scan/") && len(p.LastKey) > 0 && !p.Done {
				segmentsSaved.Store(true)
			}
		}
		if !segmentsSaved.Load() && !e.h.Running() {
			t.Fatalf("ddbsync exited before a scan checkpoint: %s", shared.ErrorLine(e.log()))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scan checkpoint:\n%s", e.log())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.kill()
	e.start()
	e.waitLog("scan backfill complete", 3*time.Minute)
	if !strings.Contains(e.log(), "resuming segment") {
		t.Fatalf("restart did not resume a segment:\n%s", e.log())
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	e.converge(90 * time.Second)
}
