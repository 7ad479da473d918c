package opensearch

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with full jitter: the n-th retry
// waits a uniform random time in [0, min(max, base·2ⁿ⁻¹)].
type backoff struct {
	base, max time.Duration
}

var defaultBackoff = backoff{base: 100 * time.Millisecond, max: 30 * time.Second}

// ceiling is the upper bound of the wait before retry n (n ≥ 1).
func (b backoff) ceiling(n int) time.Duration {
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// delay draws the wait before retry n.
func (b backoff) delay(n int) time.Duration {
	return time.Duration(rand.Int64N(int64(b.ceiling(n)) + 1))
}

// wait blocks for d or until ctx is done, whichever comes first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
