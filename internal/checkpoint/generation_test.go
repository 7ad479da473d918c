package checkpoint

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMoveGenerationOnceAcrossNodes: nodes that all saw a gap in
// generation 3 race to move it; exactly one forgets the table's state and
// moves it to 4, the others learn it was moved. A late node still in
// generation 3 moves nothing either.
func TestMoveGenerationOnceAcrossNodes(t *testing.T) {
	_, _, nodes := newNodes(t, "a", "b", "c", "d", "e")
	ctx := context.Background()
	if err := SetGeneration(ctx, nodes[0], "t", 3); err != nil {
		t.Fatal(err)
	}
	var forgets, moves atomic.Int32
	var wg sync.WaitGroup
	for _, n := range nodes[:4] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			moved, err := MoveGeneration(ctx, n, "t", 3, func(context.Context) error { forgets.Add(1); return nil })
			if err != nil {
				t.Errorf("%s: %v", n.Node(), err)
			}
			if moved {
				moves.Add(1)
			}
		}()
	}
	wg.Wait()
	if forgets.Load() != 1 || moves.Load() != 1 {
		t.Fatalf("forgot %d times and moved %d times, want exactly once each", forgets.Load(), moves.Load())
	}
	for _, n := range nodes {
		if g, err := Generation(ctx, n, "t"); err != nil || g != 4 {
			t.Fatalf("%s reads generation %d (%v), want 4", n.Node(), g, err)
		}
	}
	moved, err := MoveGeneration(ctx, nodes[4], "t", 3, func(context.Context) error { t.Error("a late node forgot the state"); return nil })
	if err != nil || moved {
		t.Fatalf("late node: moved=%v err=%v, want nothing moved", moved, err)
	}
}
