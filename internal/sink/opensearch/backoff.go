package opensearch

import (
	"time"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// backoff is capped exponential backoff with full jitter (retry.Backoff):
// the n-th retry (n ≥ 1) waits a random time up to min(max, base·2ⁿ⁻¹).
type backoff struct {
	base, max time.Duration
}

var defaultBackoff = backoff{base: 100 * time.Millisecond, max: 30 * time.Second}

// delay draws the wait before retry n.
func (b backoff) delay(n int) time.Duration { return retry.Backoff(n-1, b.base, b.max) }
