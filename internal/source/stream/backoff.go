package stream

import (
	"context"
	"time"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// sleep waits d (nothing when d ≤ 0) or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	return retry.Sleep(ctx, d)
}

// retryCall calls fn until it succeeds, fails with an error that is not
// transient for a stream (see classify), or ctx ends.
func retryCall[T any](ctx context.Context, s *Source, what string, fn func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn()
		if err == nil || classify(err) != classRetry {
			return v, err
		}
		d := retry.Backoff(attempt, 100*time.Millisecond, 10*time.Second)
		s.log.Warn("retrying after a transient error", "op", what, "attempt", attempt+1, "wait", d, "err", err)
		if serr := sleep(ctx, d); serr != nil {
			return v, err
		}
	}
}
