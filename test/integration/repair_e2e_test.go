//go:build integration

package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// verifyRepair runs `ddbsync verify --json` (with --repair when repair)
// against the run's metrics address and state directory.
func (e *e2e) verifyRepair(repair bool) (int, verifyReport, string) {
	e.t.Helper()
	args := []string{"--recheck-after", "1s", "--metrics-addr", e.metricsAddr, "--state-dir", filepath.Join(e.dir, "state")}
	if repair {
		args = append(args, "--repair")
	}
	return e.runVerify(args...)
}

// osWrite sends an out-of-band OpenSearch call and fails on an error status.
func (e *e2e) osWrite(method, path, body string) {
	e.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	status, resp := e.osDo(method, "/"+e.index+path, b)
	if status < 200 || status > 299 {
		e.t.Fatalf("%s %s: %d %s", method, path, status, resp)
	}
}

// waitDoc polls until the document's existence is as wanted.
func (e *e2e) waitDoc(id string, exists bool) {
	e.t.Helper()
	poll(e.t, fmt.Sprintf("document %s: exists should be %v", id, exists), 30*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		return (e.docVersion(id) != 0) == exists, nil
	})
}

// TestRepairOutOfBandChanges: with run alive, documents changed out of band
// through ordinary OpenSearch calls (_update, DELETE and index without a
// version, _update_by_query: each bumps the version past the stream's) are
// all fixed by verify --repair, which raises the table's clock floor
// through run; the stream changes made right after the repair (same second
// as the corrupted versions: DynamoDB Local stamps whole minutes) are
// applied, not lost. Then with no run alive the floor goes to the state
// store, and the restarted run starts above it.
func TestRepairOutOfBandChanges(t *testing.T) {
	e := newE2E(t, "repair-oob", "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline("", "")
	for i := range 10 {
		e.put(item(fmt.Sprintf("k%d", i), i))
	}
	e.start()
	e.converge(60 * time.Second)

	// k6's item is deleted by the stream; then someone indexes it again.
	e.del(key1("k6"))
	e.waitDoc("k6", false)
	e.osWrite("POST", "/_update/k1?refresh=true", `{"doc":{"name":"changed by _update"}}`)
	e.osWrite("DELETE", "/_doc/k2?refresh=true", "")
	e.osWrite("PUT", "/_doc/k3?refresh=true", `{"pk":"k3","name":"indexed by hand"}`)
	e.osWrite("POST", "/_update_by_query?refresh=true&conflicts=proceed",
		`{"query":{"ids":{"values":["k4","k5"]}},"script":{"source":"ctx._source.name = 'by query'","lang":"painless"}}`)
	e.osWrite("PUT", "/_doc/k6?refresh=true", `{"pk":"k6","name":"resurrected by hand"}`)
	if d := e.compare(); len(d.stale) != 4 || len(d.missing) != 1 || len(d.extra) != 1 {
		t.Fatalf("corruption not in place: %s", d)
	}

	code, r, _ := e.verifyRepair(true)
	tr := r.Tables[0]
	if code != 0 || !r.Equal || tr.Repair == nil || tr.Repair.Indexed != 5 || tr.Repair.Deleted != 1 ||
		tr.Repair.Skipped != 0 || tr.Repair.Failed != 0 || tr.Repair.Floor == 0 || tr.Remaining != 0 {
		t.Fatalf("verify --repair with run alive: exit %d, report %+v repair %+v", code, r, tr.Repair)
	}
	// Right after the repair: changes to repaired items and to an
	// untouched one, in the same (minute-rounded) second.
	e.put(map[string]types.AttributeValue{"pk": s("k1"), "v": n("101"), "name": s("after repair")})
	e.put(map[string]types.AttributeValue{"pk": s("k2"), "v": n("102"), "name": s("after repair")})
	e.put(map[string]types.AttributeValue{"pk": s("k8"), "v": n("108"), "name": s("after repair")})
	e.del(key1("k4"))
	e.converge(60 * time.Second)
	if code, r, _ := e.verifyRepair(false); code != 0 || !r.Equal || r.Tables[0].Items != r.Tables[0].Docs {
		t.Fatalf("verify after the repair: exit %d, report %+v", code, r)
	}
	if l := e.log(); !strings.Contains(l, "clock floor raised") || !strings.Contains(l, "version clock raised to the table's floor") {
		t.Fatalf("run did not log the floor")
	}

	// No run alive: the floor is raised in the state store.
	if code := e.stop(); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	e.osWrite("POST", "/_update/k7?refresh=true", `{"doc":{"name":"changed while run is down"}}`)
	code, r, stderr := e.verifyRepair(true)
	if tr := r.Tables[0]; code != 0 || tr.Repair == nil || tr.Repair.Indexed != 1 || tr.Repair.Floor == 0 || tr.Remaining != 0 {
		t.Fatalf("verify --repair with no run: exit %d, report %+v", code, r)
	}
	if !strings.Contains(stderr, "raising the clock floor in the state directory") {
		t.Fatalf("verify did not use the state store:\n%s", stderr)
	}
	e.start()
	e.put(map[string]types.AttributeValue{"pk": s("k7"), "v": n("107"), "name": s("after repair, run restarted")})
	e.converge(60 * time.Second)
	if code, r, _ := e.verifyRepair(false); code != 0 || !r.Equal {
		t.Fatalf("verify at the end: exit %d, report %+v", code, r)
	}
}

// TestRepairUnderLoad: verify --repair while hot keys change several times
// a second through run: the documents changed out of band are fixed, no
// stream change made during or after the repair is lost (the index
// converges to the table), and nothing is forced or failed.
func TestRepairUnderLoad(t *testing.T) {
	e := newE2E(t, "repair-load", "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline("", "")
	for i := range 10 {
		e.put(item(fmt.Sprintf("k%d", i), i))
		e.put(item(fmt.Sprintf("hot%d", i), i))
	}
	e.start()
	e.converge(60 * time.Second)
	for i := 1; i <= 5; i++ {
		e.osWrite("POST", fmt.Sprintf("/_update/k%d?refresh=true", i), `{"doc":{"name":"changed by _update"}}`)
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	var writes atomic.Int64
	go func() { // hot keys: updates and delete/re-insert, ~25 writes a second
		defer close(done)
		for i := 0; ; i++ {
			writes.Store(int64(i))
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			k := fmt.Sprintf("hot%d", i%10)
			if i%7 == 0 {
				e.del(key1(k))
				continue
			}
			e.put(item(k, 1000+i))
		}
	}()
	code, r, _ := e.verifyRepair(true)
	for after := writes.Load() + 50; writes.Load() < after; { // more changes right after the repair
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-done
	if code != 0 && code != 4 {
		t.Fatalf("verify --repair under load: exit %d", code)
	}
	if tr := r.Tables[0]; tr.Repair == nil || tr.Repair.Failed != 0 || tr.Repair.Floor == 0 || tr.Repair.Indexed < 5 {
		t.Fatalf("verify --repair under load: report %+v", r)
	}
	e.converge(60 * time.Second)
	if code, r, _ := e.verifyRepair(false); code != 0 || !r.Equal {
		t.Fatalf("verify at the end: exit %d, report %+v", code, r)
	}
}
