package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
)

// TestChangeGate: a follower of a table-level record on a shared store
// reads it again as soon as another node announced a change, not before
// (TableRecheck) unless it asks for soon; on a store that announces
// nothing it reads every `every`.
func TestChangeGate(t *testing.T) {
	const every = 20 * time.Millisecond
	waitReturns := func(g *ChangeGate, soon bool, within time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		return g.Wait(ctx, soon)
	}
	db := checkpointtest.NewFakeDynamo()
	a := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "a"})
	b := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "b", EventPoll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = b.Run(ctx) }()
	g := NewChangeGate(b, every)
	if waitReturns(g, false, 10*every) {
		t.Fatal("the gate opened without an announced change")
	}
	if !waitReturns(g, true, 10*every) {
		t.Fatal("the gate asked for soon stayed shut")
	}
	a.AnnounceTableChange(ctx)
	if !waitReturns(g, false, 2*time.Second) {
		t.Fatal("the gate stayed shut after another node announced a change")
	}
	if waitReturns(g, false, 10*every) {
		t.Fatal("one announcement opened the gate twice")
	}

	local, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if !waitReturns(NewChangeGate(local, every), false, 10*every) {
		t.Fatal("the gate on a store without announcements did not open every `every`")
	}
}
