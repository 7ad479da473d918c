package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// DefaultStartupTimeout is how long run waits for its servers to become
// reachable at start-up unless told otherwise.
const DefaultStartupTimeout = 5 * time.Minute

// unreachable reports whether a start-up failure means "the server is not
// there yet" (refused or reset connection, unknown host name, no answer in
// time, a 5xx from an AWS endpoint): worth waiting for in a compose file or
// CI job where the servers start together. Certificate and TLS problems,
// credentials, missing tables and every other answer are not.
func unreachable(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		dns       *net.DNSError
		netErr    net.Error
		resp      *smithyhttp.ResponseError
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &hostname), errors.As(err, &unknownCA), errors.As(err, &invalid),
		errors.As(err, &verify), errors.As(err, &record):
		return false
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	case errors.As(err, &dns):
		return true
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return true
	}
	return false
}

// startupWait retries fn while its error says a server is not reachable
// yet, with capped exponential backoff, for at most bound (0: no retry).
// While it waits, waits reports what for (/readyz) and the log says so.
// Any other error is returned at once.
func startupWait(ctx context.Context, bound time.Duration, waits *metrics.Waits, log *slog.Logger, what string, fn func(ctx context.Context) error) error {
	deadline := time.Now().Add(bound)
	defer waits.Clear(what)
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil || !unreachable(err) || ctx.Err() != nil {
			return err
		}
		if !time.Now().Before(deadline) {
			if bound > 0 {
				return fmt.Errorf("%s still not reachable after waiting %s (--startup-timeout): %w", what, bound, err)
			}
			return err
		}
		waits.Set(what, err.Error())
		delay := min(retry.Backoff(attempt, 500*time.Millisecond, 5*time.Second), time.Until(deadline))
		log.Warn("waiting for a server to become reachable", "what", what, "retry_in", delay.Round(time.Millisecond), "gives_up_in", time.Until(deadline).Round(time.Second), "err", err)
		if err := retry.Sleep(ctx, delay); err != nil {
			return err
		}
	}
}
