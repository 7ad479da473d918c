package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// TestClockFloorEndpoint: the floor is saved durably before it is in
// effect, never lowered, refused for an unknown table or another
// generation.
func TestClockFloorEndpoint(t *testing.T) {
	ctx := context.Background()
	store, err := checkpoint.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := checkpoint.SetGeneration(ctx, store, "orders", 1); err != nil {
		t.Fatal(err)
	}
	f := newFloors(slog.New(slog.DiscardHandler))
	fl, err := f.forTable(ctx, "orders", store)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.route().Handler)
	defer srv.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		body   string
		status int
		want   string
	}{
		{`{"table":"orders","generation":1,"floor":10000000000000500}`, 200, `"floor":10000000000000500`},
		{`{"table":"orders","generation":1,"floor":10000000000000100}`, 200, `"floor":10000000000000500`},
		{`{"table":"orders","generation":0,"floor":900}`, 409, "generation 1"},
		{`{"table":"other","generation":0,"floor":900}`, 404, "not replicated"},
		{`{"table":"orders"}`, 400, "floor"},
		{fmt.Sprintf(`{"table":"orders","generation":1,"floor":%d}`, change.InGeneration(time.Now().Add(48*time.Hour).Unix()*change.PerSecond, 1)), 400, "ahead of now"},
	}
	for _, tc := range tests {
		status, body := post(tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d %s, want %d with %q", tc.body, status, body, tc.status, tc.want)
		}
	}
	if v, _ := checkpoint.Floor(ctx, store, "orders"); v != 10000000000000500 {
		t.Errorf("saved floor %d", v)
	}
	if v := fl.Value(); v != 10000000000000500 {
		t.Errorf("floor in effect %d", v)
	}
	// A restart starts from the saved floor.
	f2 := newFloors(slog.New(slog.DiscardHandler))
	if fl2, _ := f2.forTable(ctx, "orders", store); fl2.Value() != 10000000000000500 {
		t.Errorf("after restart: %d", fl2.Value())
	}
}
