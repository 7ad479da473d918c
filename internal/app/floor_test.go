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
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
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

// TestClockFloorAcrossNodes: with a shared state store the floor raised
// through node a is answered once node b, which follows the saved floor,
// acknowledged it; when b never does, a answers 503 within its wait and
// names b. Either way the floor is saved, and a node started later starts
// from it.
func TestClockFloorAcrossNodes(t *testing.T) {
	tests := []struct {
		name   string
		follow bool
		status int
		want   string
	}{
		{"b follows", true, 200, `"floor":`},
		{"b never acknowledges", false, 503, "node(s) b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := checkpointtest.NewFakeDynamo()
			node := func(name string) (*floors, *checkpoint.DynamoStore) {
				st := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: name, EventPoll: 5 * time.Millisecond})
				st.Beat(ctx)
				go func() { _ = st.Run(ctx) }() // heartbeats, and reads the other node's announced raise
				f := newFloors(slog.New(slog.DiscardHandler))
				f.wait, f.every, f.poll = 300*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
				if _, err := f.forTable(ctx, "orders", st); err != nil {
					t.Fatal(err)
				}
				return f, st
			}
			a, _ := node("a")
			b, bst := node("b")
			done := make(chan error, 1)
			if tc.follow {
				go func() { done <- b.follow(ctx) }()
			}
			F := time.Now().Unix() * change.PerSecond
			srv := httptest.NewServer(a.route().Handler)
			defer srv.Close()
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(fmt.Sprintf(`{"table":"orders","generation":0,"floor":%d}`, F)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("POST: %d %s, want %d with %q", resp.StatusCode, body, tc.status, tc.want)
			}
			fb, _ := b.lookup("orders")
			if tc.follow && fb.Value() != F {
				t.Fatalf("b's floor when a answered: %d, want %d", fb.Value(), F)
			}
			if !tc.follow && fb.Value() != 0 {
				t.Fatalf("b's floor moved without following: %d", fb.Value())
			}
			if v, _ := checkpoint.Floor(ctx, bst, "orders"); v != F {
				t.Fatalf("saved floor %d, want %d", v, F)
			}
			c, _ := node("c")
			if fc, _ := c.lookup("orders"); fc.Value() != F {
				t.Fatalf("a node started later: floor %d, want %d", fc.Value(), F)
			}
		})
	}
}
