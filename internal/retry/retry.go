// Package retry runs AWS calls again after transient failures (throttling,
// 5xx, broken connections, truncated responses) with capped exponential
// backoff and full jitter, and tells permanent failures apart.
package retry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// transientCodes are AWS error codes worth another attempt.
var transientCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "RequestLimitExceeded": true,
	"ProvisionedThroughputExceededException": true, "LimitExceededException": true,
	"ServiceUnavailable": true, "InternalFailure": true, "InternalServerError": true,
	"InternalError": true, "SlowDown": true, "RequestTimeout": true, "RequestTimeoutException": true,
}

// Transient reports whether err is worth retrying.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if transientCodes[api.ErrorCode()] {
			return true
		}
		var resp *smithyhttp.ResponseError
		return errors.As(err, &resp) && resp.HTTPStatusCode() >= 500
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	// No API answer at all: a refused or reset connection, or a response
	// cut short (deserialization failed, unexpected EOF).
	var des *smithy.DeserializationError
	return errors.As(err, &des) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Backoff is capped exponential backoff with full jitter for attempt n (0-based).
func Backoff(n int, base, ceiling time.Duration) time.Duration {
	d := base << min(n, 20)
	if d <= 0 || d > ceiling {
		d = ceiling
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do calls fn until it succeeds, fails permanently, or ctx ends; each
// transient failure is logged with what was being done.
func Do[T any](ctx context.Context, log *slog.Logger, what string, fn func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn()
		if err == nil || !Transient(err) {
			return v, err
		}
		d := Backoff(attempt, 100*time.Millisecond, 10*time.Second)
		log.Warn("transient error; retrying", "op", what, "attempt", attempt+1, "wait", d, "err", err)
		if Sleep(ctx, d) != nil {
			return v, err
		}
	}
}
