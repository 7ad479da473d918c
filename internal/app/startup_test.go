package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/metrics"
)

func TestUnreachable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("opensearch x: %w", refused), true},
		{"unknown host", &url.Error{Op: "Get", URL: "http://nope/", Err: &net.DNSError{Err: "no such host", Name: "nope", IsNotFound: true}}, true},
		{"timeout", &url.Error{Op: "Get", URL: "http://x/", Err: context.DeadlineExceeded}, true},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"eof", fmt.Errorf("x: %w", io.EOF), true},
		{"bad certificate", &url.Error{Op: "Get", URL: "https://x/", Err: x509.UnknownAuthorityError{}}, false},
		{"missing table", &types.ResourceNotFoundException{}, false},
		{"other", errors.New("401 unauthorized"), false},
		{"canceled", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachable(tt.err); got != tt.want {
				t.Errorf("unreachable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestStartupWait(t *testing.T) {
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	log := slog.New(slog.DiscardHandler)
	t.Run("retries until reachable", func(t *testing.T) {
		w := &metrics.Waits{}
		n := 0
		err := startupWait(context.Background(), time.Minute, w, log, "x", func(context.Context) error {
			n++
			if n < 3 {
				if len(w.List()) != map[bool]int{true: 0, false: 1}[n == 1] {
					t.Errorf("attempt %d: waits = %q", n, w.List())
				}
				return refused
			}
			return nil
		})
		if err != nil || n != 3 || len(w.List()) != 0 {
			t.Fatalf("err %v after %d attempts, waits %q", err, n, w.List())
		}
	})
	t.Run("fails fast on a permanent error", func(t *testing.T) {
		n := 0
		perm := errors.New("table does not exist")
		err := startupWait(context.Background(), time.Minute, nil, log, "x", func(context.Context) error { n++; return perm })
		if !errors.Is(err, perm) || n != 1 {
			t.Fatalf("err %v after %d attempts", err, n)
		}
	})
	t.Run("gives up after the bound", func(t *testing.T) {
		err := startupWait(context.Background(), 300*time.Millisecond, nil, log, "x", func(context.Context) error { return refused })
		if !errors.Is(err, syscall.ECONNREFUSED) || err.Error() == refused.Error() {
			t.Fatalf("err = %v, want one naming the bound", err)
		}
	})
	t.Run("bound 0 fails at once", func(t *testing.T) {
		n := 0
		err := startupWait(context.Background(), 0, nil, log, "x", func(context.Context) error { n++; return refused })
		if !errors.Is(err, syscall.ECONNREFUSED) || n != 1 {
			t.Fatalf("err %v after %d attempts", err, n)
		}
	})
}

func TestParseMoment(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, s := range []string{"2026-01-02T03:04:05.006Z", fmt.Sprint(want.UnixMilli())} {
		got, err := parseMoment(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseMoment(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := parseMoment("yesterday"); err == nil {
		t.Error("parseMoment(yesterday) succeeded")
	}
}
