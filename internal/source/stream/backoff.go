package stream

import (
	"context"
	"math/rand/v2"
	"time"
)

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is capped exponential backoff with full jitter.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > max {
		d = max
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// retry calls fn until it succeeds, fails with a non-retryable error, or ctx ends.
func retry[T any](ctx context.Context, s *Source, what string, fn func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn()
		if err == nil || classify(err) != classRetry {
			return v, err
		}
		d := backoff(attempt, 100*time.Millisecond, 10*time.Second)
		s.log.Warn("retrying after a transient error", "table", s.table.Name, "op", what, "attempt", attempt+1, "wait", d, "err", err)
		if serr := sleep(ctx, d); serr != nil {
			return v, err
		}
	}
}
