//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/status"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestStatus: `ddbsync status` beside a running run shows the live phase,
// lag, the shard being read with its checkpoint, the dead letters and the
// last problem; after the run stops it shows the checkpoints from the state
// directory alone.
func TestStatus(t *testing.T) {
	e := newE2E(t, "status", "", "")
	e.metricsAddr = freeAddr(t)
	e.loadHostile(300)
	// A string where the mapping holds an object is refused for good: a
	// dead letter in the default dead-letter file.
	e.put(map[string]types.AttributeValue{"pk": s("obj"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1")}}})
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST", "")
	e.start()
	e.waitLog("scan backfill complete", 2*time.Minute)
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": s("not an object")})
	e.hostileFor(workload.Config{Keys: 50}, 2*time.Second)

	statusJSON := func() status.Report {
		t.Helper()
		code, out, errOut := e.h.Command("status", "-f", e.pipeline, "--state-dir", e.h.StateDir(), "--json")
		if code != 0 {
			t.Fatalf("status: exit %d: %s", code, errOut)
		}
		var r status.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("status --json is not JSON: %v\n%s", err, out)
		}
		return r
	}
	var r status.Report
	poll(t, "status shows the dead letter and a read shard", 60*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		r = statusJSON()
		if len(r.Tables) != 1 {
			return false, nil
		}
		tr := r.Tables[0]
		return tr.DeadLetters == 1 && len(tr.Shards) > 0 && tr.Shards[0].Sequence != "", nil
	})
	tr := r.Tables[0]
	if !r.Live || tr.Table != e.table || tr.Phase != "stream" || tr.LagSec == nil || tr.Backfill == nil || tr.Backfill.Kind != "scan" || !tr.Backfill.Done {
		t.Fatalf("live status: %+v", r)
	}
	if !tr.Shards[0].Reading || tr.Shards[0].LagSec == nil {
		t.Errorf("the open shard is not shown as read with a lag: %+v", tr.Shards[0])
	}
	if tr.LastProblem == nil || !strings.Contains(tr.LastProblem.Msg+tr.LastProblem.Err, "dead") {
		t.Errorf("last problem does not name the dead letter: %+v", tr.LastProblem)
	}
	code, human, _ := e.h.Command("status", "-f", e.pipeline, "--state-dir", e.h.StateDir())
	for _, want := range []string{"run: pid", "table " + e.table + ": stream", "backfill: scan, done", "dead letters: 1", "reading", "SHARD"} {
		if code != 0 || !strings.Contains(human, want) {
			t.Errorf("status output lacks %q (exit %d):\n%s", want, code, human)
		}
	}
	// A valid change of the refused item converges; stopped, status shows
	// the checkpoints alone.
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("2")}}})
	e.converge(60 * time.Second)
	if code := e.stop(); code != 0 {
		t.Fatalf("run exit %d", code)
	}
	r = statusJSON()
	tr = r.Tables[0]
	if r.Live || r.LiveErr == "" || tr.Phase != "stream" || len(tr.Shards) == 0 || tr.Shards[0].Sequence == "" || tr.Shards[0].Reading {
		t.Fatalf("status after the run stopped: %+v", r)
	}
}
