package verify

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/expr"
)

var now = time.Unix(1_700_000_000, 0)

func item(pk, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberN{Value: v}}
}

func docOf(t *testing.T, it map[string]types.AttributeValue) string {
	t.Helper()
	b, err := ddbjson.Item(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func target() Target {
	return Target{Pipeline: "p", Table: "t", Sink: &config.OpenSearch{Hosts: []string{"http://x"}, Index: expr.MustParse("t"), DocumentVersionType: "external"}}
}

func opts(repair bool) Options {
	return Options{Repair: repair, Now: func() time.Time { return now }, MaxRechecks: 3}
}

// repairOpts are opts(true) writing through idx.
func repairOpts(idx *fakeIndex) Options {
	o := opts(true)
	o.Writer = idx
	return o
}

// corrupted is a table of four items whose index lacks "b", has "c" with
// an old body and the stray document "z".
func corrupted(t *testing.T) (*fakeTable, *fakeIndex) {
	tab := newFakeTable(item("a", "1"), item("b", "2"), item("c", "3"), item("d", "4"))
	idx := &fakeIndex{}
	old := now.Add(-time.Hour).Unix() * 1_000_000
	idx.set("t", "a", docOf(t, item("a", "1")), old)
	idx.set("t", "c", docOf(t, item("c", "2")), old)
	idx.set("t", "d", docOf(t, item("d", "4")), old)
	idx.set("t", "z", `{"pk":"z"}`, old)
	return tab, idx
}

func TestCheckReportsEachKind(t *testing.T) {
	tab, idx := corrupted(t)
	rep, err := Check(context.Background(), tab, idx, target(), opts(false))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 4 || rep.Docs != 4 || rep.Missing != 1 || rep.Extra != 1 || rep.Stale != 1 || rep.Remaining != 3 || rep.InFlight != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Examples.Missing[0].ID != "b" || rep.Examples.Extra[0].ID != "z" || rep.Examples.Stale[0].ID != "c" {
		t.Fatalf("examples %+v", rep.Examples)
	}
	if d, _ := idx.doc("t", "z"); d.src == "" {
		t.Fatal("verify without repair changed the index")
	}
}

func TestCheckRepairs(t *testing.T) {
	tab, idx := corrupted(t)
	rep, err := Check(context.Background(), tab, idx, target(), repairOpts(idx))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repair == nil || rep.Repair.Indexed != 2 || rep.Repair.Deleted != 1 || rep.Repair.Skipped != 0 || rep.Remaining != 0 {
		t.Fatalf("report %+v repair %+v", rep, rep.Repair)
	}
	for _, pk := range []string{"b", "c"} {
		d, ok := idx.doc("t", pk)
		want := docOf(t, tab.items[pk])
		if !ok || d.src != want || d.version != RepairVersion(now) {
			t.Fatalf("doc %s = %+v, want %s at version %d", pk, d, want, RepairVersion(now))
		}
	}
	if _, ok := idx.doc("t", "z"); ok {
		t.Fatal("extra document not deleted")
	}
	again, err := Check(context.Background(), tab, idx, target(), opts(false))
	if err != nil || again.Remaining != 0 {
		t.Fatalf("after repair: %+v %v", again, err)
	}
}

func TestRepairSkipsNewerDocument(t *testing.T) {
	tab, idx := corrupted(t)
	// "c" was written by a stream change less than a minute before the read.
	idx.set("t", "c", `{"pk":"c","wrong":true}`, now.Unix()*1_000_000)
	rep, err := Check(context.Background(), tab, idx, target(), repairOpts(idx))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repair.Skipped != 1 || rep.Remaining != 1 || rep.Repair.Indexed != 1 || rep.Repair.Deleted != 1 {
		t.Fatalf("report %+v repair %+v", rep, rep.Repair)
	}
	if d, _ := idx.doc("t", "c"); !strings.Contains(d.src, "wrong") {
		t.Fatalf("a newer document was overwritten: %+v", d)
	}
	if !strings.Contains(rep.Repair.Examples[0].Reason, "newer than the repair") {
		t.Fatalf("examples %+v", rep.Repair.Examples)
	}
}

func TestRecheckToleratesChangesInFlight(t *testing.T) {
	tab, idx := corrupted(t)
	// The replicator catches up before the re-check: every difference is
	// gone by the time it is re-read.
	var once atomic.Bool
	tab.onGet = func(string) {
		if once.CompareAndSwap(false, true) {
			v := now.Unix() * 1_000_000
			idx.set("t", "b", docOf(t, item("b", "2")), v)
			idx.set("t", "c", docOf(t, item("c", "3")), v)
			idx.mu.Lock()
			delete(idx.docs, DocKey{"t", "z"})
			idx.mu.Unlock()
		}
	}
	rep, err := Check(context.Background(), tab, idx, target(), opts(false))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Remaining != 0 || rep.InFlight != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestRecheckKeepsAKeyThatNeverSettles(t *testing.T) {
	tab, idx := corrupted(t)
	n := 10
	tab.onGet = func(pk string) { // "c" changes before every read; its document lags
		if pk == "c" {
			n++
			tab.put(item("c", strconv.Itoa(100+n)))
		}
	}
	rep, err := Check(context.Background(), tab, idx, target(), opts(false))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stale != 1 || !strings.Contains(rep.Examples.Stale[0].Reason, "still changing") {
		t.Fatalf("report %+v", rep)
	}
}

// TestRecheckHotKeyWhoseDocumentFollows: "c" changes before every read and
// its document follows one change behind (a hot key under a live
// replicator): it never agrees at a re-read, but the document moves, so it
// is in flight, not a difference.
func TestRecheckHotKeyWhoseDocumentFollows(t *testing.T) {
	tab, idx := corrupted(t)
	n := 10
	tab.onGet = func(pk string) {
		if pk == "c" {
			idx.set("t", "c", docOf(t, item("c", strconv.Itoa(100+n))), now.Unix()*1_000_000+int64(n))
			n++
			tab.put(item("c", strconv.Itoa(100+n)))
		}
	}
	rep, err := Check(context.Background(), tab, idx, target(), opts(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Examples.Stale {
		if s.ID == "c" {
			t.Fatalf("the hot key whose document follows is reported stale: %+v", rep)
		}
	}
	if rep.Stale != 0 || rep.InFlight != 1 || rep.Remaining != 2 { // b missing and z extra stay
		t.Fatalf("report %+v, want c in flight and the real differences b and z kept", rep)
	}
}

func TestKeepExtrasIsNotDeleted(t *testing.T) {
	tab, idx := corrupted(t)
	tg := target()
	tg.KeepExtras = true
	rep, err := Check(context.Background(), tab, idx, tg, repairOpts(idx))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repair.NotAttempted != 1 || rep.Remaining != 1 || len(rep.Notes) == 0 {
		t.Fatalf("report %+v repair %+v", rep, rep.Repair)
	}
	if _, ok := idx.doc("t", "z"); !ok {
		t.Fatal("a kept TTL document was deleted")
	}
}

func TestSweepDeletesOnlyOrphans(t *testing.T) {
	tab, idx := corrupted(t)
	n, err := Sweep(context.Background(), tab, "t", "", target().Sink, nil, SweepOptions{Index: idx, Writer: idx, Now: func() time.Time { return now }})
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 deleted", n, err)
	}
	if _, ok := idx.doc("t", "z"); ok {
		t.Fatal("orphan not deleted")
	}
	if _, ok := idx.doc("t", "b"); ok {
		t.Fatal("sweep indexed a missing document")
	}
	if d, _ := idx.doc("t", "c"); d.src != docOf(t, item("c", "2")) {
		t.Fatal("sweep rewrote a stale document")
	}
}

func TestCanRepair(t *testing.T) {
	tests := []struct {
		name    string
		sink    config.OpenSearch
		wantErr bool
	}{
		{name: "defaults", sink: config.OpenSearch{}},
		{name: "external_gte", sink: config.OpenSearch{DocumentVersionType: "external_gte"}},
		{name: "internal", sink: config.OpenSearch{DocumentVersionType: "internal"}, wantErr: true},
		{name: "custom version", sink: config.OpenSearch{DocumentVersion: expr.MustParse("${/updated}")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CanRepair(&tt.sink); (err != nil) != tt.wantErr {
				t.Fatalf("CanRepair = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDateNamedIndexMatchesByID(t *testing.T) {
	tab := newFakeTable(item("a", "1"), item("b", "2"), item("c", "3"))
	idx := &fakeIndex{}
	idx.set("t-2020", "a", docOf(t, item("a", "0")), 1) // an older copy
	idx.set("t-2022", "a", docOf(t, item("a", "1")), 5) // the current one
	idx.set("t-2021", "b", docOf(t, item("b", "2")), 3) // written in an earlier year
	tg := target()
	tg.Sink.Index = expr.MustParse("t-%{yyyy}")
	rep, err := Check(context.Background(), tab, idx, tg, repairOpts(idx))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != 1 || rep.Extra != 0 || rep.Stale != 0 || rep.Remaining != 0 || len(rep.Notes) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if d, ok := idx.doc("t-2023", "c"); !ok || d.version != RepairVersion(now) {
		t.Fatalf("missing c not written to the current index: %+v", idx.docs)
	}
	if len(rep.Read) != 1 || rep.Read[0] != "t-*" {
		t.Fatalf("indices read %v", rep.Read)
	}
}
