package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEstimate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name     string
		obs      []sample // at as seconds after t0 (in .at's Unix), done
		total    int64
		wantRate float64
		wantETA  time.Duration
		ok       bool
	}{
		{"nothing yet", nil, 100, 0, 0, false},
		{"within the warm-up", []sample{{t0, 0}, {t0.Add(time.Second), 50}}, 100, 0, 0, false},
		// A resumed backfill starts at 5000 done: the rate counts only this
		// run's items, so the first estimate is not absurd.
		{"resumed", []sample{{t0, 5000}, {t0.Add(time.Second), 5100}, {t0.Add(3 * time.Second), 5300}}, 10000, 100, 47 * time.Second, true},
		{"stalled", []sample{{t0, 10}, {t0.Add(5 * time.Second), 10}}, 100, 0, 0, false},
		{"the window forgets a slow start", []sample{{t0, 0}, {t0.Add(40 * time.Second), 40}, {t0.Add(50 * time.Second), 1040}, {t0.Add(70 * time.Second), 3040}}, 0, 100, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Estimate
			for _, o := range tt.obs {
				e.Observe(o.done, o.at)
			}
			rate, ok := e.Rate()
			if ok != tt.ok || (ok && rate != tt.wantRate) {
				t.Fatalf("Rate = %v, %v; want %v, %v", rate, ok, tt.wantRate, tt.ok)
			}
			if eta, ok := e.ETA(tt.total); tt.total > 0 && tt.ok && (!ok || eta != tt.wantETA) {
				t.Fatalf("ETA = %v, %v; want %v", eta, ok, tt.wantETA)
			}
		})
	}
}

func TestBar(t *testing.T) {
	now := time.Unix(0, 0)
	var out bytes.Buffer
	b := NewBar(&out, func() time.Time { return now })
	b.Backfill("orders", "export", 0, 1000)
	if !strings.Contains(out.String(), "orders export [") || !strings.Contains(out.String(), "ETA …") {
		t.Fatalf("first draw: %q", out.String())
	}
	now = now.Add(3 * time.Second)
	b.Backfill("orders", "export", 300, 1000)
	if !strings.Contains(out.String(), "100/s  ETA 7s") {
		t.Fatalf("estimate: %q", out.String())
	}
	out.Reset()
	_, _ = b.Write([]byte("time=... level=INFO msg=x\n"))
	// The bar is erased, the log line written, the bar drawn again.
	if got := out.String(); !strings.HasPrefix(got, "\x1b[1A\x1b[2K") || !strings.Contains(got, "msg=x\norders export") {
		t.Fatalf("log line around the bar: %q", got)
	}
	out.Reset()
	now = now.Add(time.Second)
	b.Backfill("orders", "export", 1000, 1000)
	if got := out.String(); !strings.Contains(got, "100%") || !strings.Contains(got, "done\n") {
		t.Fatalf("final line: %q", got)
	}
	out.Reset()
	_, _ = b.Write([]byte("later\n"))
	if out.String() != "later\n" {
		t.Fatalf("a finished bar is not drawn again: %q", out.String())
	}
}
