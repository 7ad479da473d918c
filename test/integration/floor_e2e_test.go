//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// TestFloorAcrossNodes: two nodes share the pipeline through a DynamoDB
// state table; a document is changed out of band (_update, which bumps its
// version past the stream's) and `verify --repair` raises the clock floor
// through the node that reads no shard. The node that reads the table's
// open shards must apply the floor before verify repairs above it: the
// stream changes made right after the repair (in the same minute-rounded
// second, read by the other node) are all applied, and every item equals
// every document.
func TestFloorAcrossNodes(t *testing.T) {
	l := newLeaseE2E(t, "floornodes", "stream:\n  start_position: TRIM_HORIZON")
	for i := range 10 {
		l.put(item(fmt.Sprintf("k%d", i), i))
	}
	nodes := map[string]*shared.Process{"f1": l.h.StartNode("f1", ""), "f2": l.h.StartNode("f2", "")}
	reader := l.awaitReading(60 * time.Second)
	l.converge(60 * time.Second)
	var idle string
	for name := range nodes {
		if name != reader {
			idle = name
		}
	}
	if held := l.openOwnedBy(idle); len(held) > 0 {
		t.Fatalf("node %s holds open shards %v too; the scenario needs one node that reads none", idle, held)
	}
	t.Logf("node %s reads the open shards %v; verify talks to node %s", reader, l.openOwnedBy(reader), idle)

	l.osWrite("POST", "/_update/k1?refresh=true", `{"doc":{"name":"changed by _update"}}`)
	if d := l.compare(); len(d.stale) != 1 {
		t.Fatalf("corruption not in place: %s", d)
	}
	l.metricsAddr = nodes[idle].MetricsAddr
	l.h.ExtraEnv = append(l.h.ExtraEnv, "DDBSYNC_NODE=verify") // the pipeline's node_id (verify takes no lease)
	code, r, _ := l.verifyRepair(true)
	if code != 0 || len(r.Tables) != 1 {
		t.Fatalf("verify --repair through node %s: exit %d", idle, code)
	}
	if tr := r.Tables[0]; !r.Equal || tr.Repair == nil || tr.Repair.Indexed != 1 || tr.Repair.Floor == 0 ||
		tr.Repair.Skipped != 0 || tr.Repair.Failed != 0 || tr.Remaining != 0 {
		t.Fatalf("verify --repair through node %s: exit %d, report %+v", idle, code, r)
	}
	// Right after the repair: changes to the repaired item and to others,
	// all read by the node verify did not talk to.
	l.put(map[string]types.AttributeValue{"pk": s("k1"), "v": n("101"), "name": s("after repair")})
	l.put(map[string]types.AttributeValue{"pk": s("k2"), "v": n("102"), "name": s("after repair")})
	l.put(map[string]types.AttributeValue{"pk": s("k10"), "v": n("110"), "name": s("new after repair")})
	l.del(key1("k4"))
	if got := l.openOwnedBy(idle); len(got) > 0 {
		t.Fatalf("node %s took shards %v meanwhile; the changes must be read by node %s", idle, got, reader)
	}
	d := l.converge(60 * time.Second)
	t.Logf("converged: %d items = %d documents, nothing missing, extra or stale", d.items, d.docs)
	if lg := nodes[idle].Log(); !strings.Contains(lg, "clock floor raised") {
		t.Errorf("node %s did not log the raise", idle)
	}
	if lg := nodes[reader].Log(); !strings.Contains(lg, "version clock raised to the table's floor") {
		t.Errorf("node %s did not raise its reader's clock", reader)
	}
}
