package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestHealthDeadLettered(t *testing.T) {
	h := NewHealth(time.Minute, time.Now)
	h.Started()
	if ok, why := h.Ready(); !ok {
		t.Fatalf("not ready before any dead letter: %v", why)
	}
	h.DeadLettered("orders", "state/dlq/p.jsonl", 1)
	h.DeadLettered("orders", "state/dlq/p.jsonl", 2)
	ok, why := h.Ready()
	if ok || len(why) != 1 {
		t.Fatalf("Ready = %v %v, want not ready with one reason", ok, why)
	}
	for _, want := range []string{"degraded", "3 document(s)", "orders", "state/dlq/p.jsonl", "redrive"} {
		if !strings.Contains(why[0], want) {
			t.Errorf("reason %q lacks %q", why[0], want)
		}
	}
}
