package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"

	"github.com/aws/smithy-go"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, false},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"truncated response", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "Scan", Err: &smithy.DeserializationError{Err: errors.New("unexpected EOF")}}, true},
		{"cancelled", context.Canceled, false},
		{"wrapped cancel", fmt.Errorf("scan: %w", context.Canceled), false},
	}
	for _, tt := range tests {
		if got := Transient(tt.err); got != tt.want {
			t.Errorf("%s: Transient = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDoRetriesTransientOnly(t *testing.T) {
	calls := 0
	v, err := Do(context.Background(), slog.New(slog.DiscardHandler), "x", func() (int, error) {
		calls++
		if calls < 3 {
			return 0, &smithy.GenericAPIError{Code: "ThrottlingException"}
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 3 {
		t.Fatalf("v=%d err=%v calls=%d", v, err, calls)
	}
	calls = 0
	_, err = Do(context.Background(), slog.New(slog.DiscardHandler), "x", func() (int, error) {
		calls++
		return 0, &smithy.GenericAPIError{Code: "ValidationException"}
	})
	if err == nil || calls != 1 {
		t.Fatalf("permanent error retried: calls=%d", calls)
	}
}
