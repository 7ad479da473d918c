//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// verifyReport is the part of `ddbsync verify --json` the tests read.
type verifyReport struct {
	Equal  bool `json:"equal"`
	Tables []struct {
		Items     int `json:"items"`
		Docs      int `json:"docs"`
		Missing   int `json:"missing"`
		Extra     int `json:"extra"`
		Stale     int `json:"stale"`
		InFlight  int `json:"in_flight"`
		Remaining int `json:"remaining"`
		Examples  struct {
			Missing, Extra, Stale []struct{ ID, Reason string }
		} `json:"examples"`
		Repair *struct {
			Indexed, Deleted, Skipped, Failed int
			NotAttempted                      int   `json:"not_attempted"`
			Floor                             int64 `json:"floor"`
		} `json:"repair"`
	} `json:"tables"`
}

// verify runs `ddbsync verify --json` with args and returns its exit code
// and parsed report.
func (e *e2e) verify(args ...string) (int, verifyReport) {
	e.t.Helper()
	code, r, _ := e.runVerify(args...)
	return code, r
}

// runVerify runs `ddbsync verify -f <pipeline> --json` with args and
// returns its exit code, its report (parsed when the exit code is 0 or 4:
// one table, or the test fails) and its standard error.
func (e *e2e) runVerify(args ...string) (int, verifyReport, string) {
	e.t.Helper()
	code, stdout, stderr := e.h.Command(append([]string{"verify", "-f", e.pipeline, "--json"}, args...)...)
	var r verifyReport
	if code == 0 || code == 4 {
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Tables) != 1 {
			e.t.Fatalf("verify exit %d: report %v:\n%s\nstderr:\n%s", code, err, stdout, stderr)
		}
	}
	e.t.Logf("verify %v: exit %d\n%s%s", args, code, stdout, stderr)
	return code, r, stderr
}

// putDoc writes a document by hand with an external version.
func (e *e2e) putDoc(id, body string, version int64) {
	e.t.Helper()
	status, resp := e.osDo("PUT", fmt.Sprintf("/%s/_doc/%s?version=%d&version_type=external&refresh=true", e.index, id, version), []byte(body))
	if status != 200 && status != 201 {
		e.t.Fatalf("put doc %s: %d %s", id, status, resp)
	}
}

// docVersion is a document's _version (0 when it does not exist).
func (e *e2e) docVersion(id string) int64 {
	e.t.Helper()
	status, resp := e.osDo("GET", "/"+e.index+"/_doc/"+id, nil)
	if status == 404 {
		return 0
	}
	var r struct {
		Version int64 `json:"_version"`
	}
	if status != 200 || json.Unmarshal(resp, &r) != nil {
		e.t.Fatalf("get doc %s: %d %s", id, status, resp)
	}
	return r.Version
}

func item(pk string, v int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "v": n(fmt.Sprint(v)), "name": s("item " + pk)}
}

// scanBackfilled fills a table with count items k0… and 200 hostile ones
// (e.loaded counts those), and loads them with a scan backfill whose
// overlap is 2 h: every document then has the version (S − 2 h) × 10⁶ − 1,
// old enough for hand-made corruptions "from an hour ago" to be accepted
// by OpenSearch.
func scanBackfilled(t *testing.T, name string, count int) *e2e {
	e := newE2E(t, name, "", "")
	for i := range count {
		e.put(item(fmt.Sprintf("k%d", i), i))
	}
	e.loadHostile(200)
	e.writePipeline("scan:\n  segments: 2\noverlap: 2h", "")
	e.start()
	if code := e.wait(60 * time.Second); code != 0 { // no stream: run ends after the backfill
		t.Fatalf("backfill run exited %d:\n%s", code, e.log())
	}
	e.converge(30 * time.Second)
	return e
}

// TestVerifyFindsAndRepairsCorruption: a missing, a stale and an extra
// document are reported exactly, --repair fixes them, and later stream
// changes win over the repaired documents.
func TestVerifyFindsAndRepairsCorruption(t *testing.T) {
	e := scanBackfilled(t, "verify", 20)
	if code, r := e.verify("--recheck-after", "0s"); code != 0 || !r.Equal || r.Tables[0].Items != 20+e.loaded || r.Tables[0].Docs != 20+e.loaded {
		t.Fatalf("a converged index: exit %d, report %+v", code, r)
	}
	hourAgo := (time.Now().Unix() - 3600) * 1_000_000
	if status, resp := e.osDo("DELETE", "/"+e.index+"/_doc/k1?refresh=true", nil); status != 200 {
		t.Fatalf("delete k1: %d %s", status, resp)
	}
	e.putDoc("k2", `{"name":"corrupted","pk":"k2","v":2}`, hourAgo)
	e.putDoc("ghost", `{"name":"no such item","pk":"ghost"}`, hourAgo)

	code, r := e.verify("--recheck-after", "1s")
	tr := r.Tables[0]
	if code != 4 || r.Equal || tr.Missing != 1 || tr.Stale != 1 || tr.Extra != 1 || tr.Remaining != 3 {
		t.Fatalf("verify: exit %d, report %+v", code, r)
	}
	if tr.Examples.Missing[0].ID != "k1" || tr.Examples.Stale[0].ID != "k2" || tr.Examples.Extra[0].ID != "ghost" {
		t.Fatalf("examples %+v", tr.Examples)
	}
	if d := e.compare(); d.ok() {
		t.Fatal("verify without --repair changed the index")
	}

	repairedAt := time.Now()
	code, r = e.verify("--repair", "--recheck-after", "0s")
	if tr := r.Tables[0]; code != 0 || !r.Equal || tr.Repair == nil || tr.Repair.Indexed != 2 || tr.Repair.Deleted != 1 || tr.Remaining != 0 {
		t.Fatalf("verify --repair: exit %d, report %+v", code, r)
	}
	if d := e.compare(); !d.ok() {
		t.Fatalf("after the repair: %s", d)
	}
	if v, limit := e.docVersion("k2"), (repairedAt.Unix()-59)*1_000_000; v >= limit || v <= hourAgo {
		t.Fatalf("repaired k2 has version %d, want a repair version below %d", v, limit)
	}

	// A repair loses to any later stream change: update and delete the
	// repaired items, then replicate the stream.
	e.put(item("k1", 100))
	e.del(key1("k2"))
	e.put(item("k3", 300))
	e.put(item("new", 1))
	e.writePipeline("scan:\n  segments: 2\noverlap: 2h\nstream:\n  start_position: LATEST", "")
	e.start()
	d := e.converge(60 * time.Second)
	if d.items != 20+e.loaded {
		t.Fatalf("items %d, want %d", d.items, 20+e.loaded)
	}
	e.stop()
	if code, r := e.verify("--recheck-after", "0s"); code != 0 || !r.Equal {
		t.Fatalf("verify after the stream: exit %d, report %+v", code, r)
	}
}

// TestVerifyRepairSkipsNewerDocument: a wrong document written with a
// version newer than the repair's (read time − 60 s) is never overwritten:
// it is reported as skipped and verify exits 4.
func TestVerifyRepairSkipsNewerDocument(t *testing.T) {
	e := scanBackfilled(t, "verifyskip", 5)
	e.putDoc("k1", `{"name":"newer but wrong","pk":"k1"}`, time.Now().Unix()*1_000_000)
	e.putDoc("k2", `{"name":"old and wrong","pk":"k2"}`, (time.Now().Unix()-3600)*1_000_000)
	code, r := e.verify("--repair", "--recheck-after", "0s")
	tr := r.Tables[0]
	if code != 4 || r.Equal || tr.Stale != 2 || tr.Repair == nil || tr.Repair.Indexed != 1 || tr.Repair.Skipped != 1 || tr.Remaining != 1 {
		t.Fatalf("verify --repair: exit %d, report %+v", code, r)
	}
	docs := e.indexDocs()
	if !strings.Contains(docs["k1"], "newer but wrong") {
		t.Fatalf("the newer document was overwritten: %s", docs["k1"])
	}
	if strings.Contains(docs["k2"], "wrong") {
		t.Fatalf("the old document was not repaired: %s", docs["k2"])
	}
}

// TestVerifyWhileReplicating: verify while ddbsync runs and writes go on
// reports no false difference (each one is re-read until it settles).
func TestVerifyWhileReplicating(t *testing.T) {
	e := newE2E(t, "verifylive", "", "")
	e.writePipeline("", "")
	e.start()
	const count = 200
	for i := range count {
		e.put(item(fmt.Sprintf("k%d", i), i))
	}
	e.converge(60 * time.Second)

	stop := make(chan struct{})
	hostile := e.h.StartWorkload(e.hostile(workload.Config{Keys: 200, Pace: 40 * time.Millisecond}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // ~10 s of updates, inserts and deletes
		defer wg.Done()
		r := rand.New(rand.NewPCG(7, 8))
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprintf("k%d", r.IntN(count))
			switch i % 10 {
			case 0:
				e.del(key1(k))
			case 1:
				e.put(item(fmt.Sprintf("new%d", i), i))
			default:
				e.put(item(k, -i))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	code, r := e.verify() // the default --recheck-after 5s
	close(stop)
	wg.Wait()
	if err := hostile.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	if code != 0 || !r.Equal {
		t.Fatalf("verify during replication: exit %d, report %+v", code, r)
	}
	t.Logf("in flight and settled on re-check: %d", r.Tables[0].InFlight)
	e.converge(60 * time.Second)
}
