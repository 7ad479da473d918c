package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/verify"
)

// TestFloorPublisher: a run that answers raises the floor; with none, the
// state store does, unless it never held checkpoints or another process
// holds it; a run that refuses (other generation) is an error, not a
// fallback.
func TestFloorPublisher(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	run := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/admin/clock-floor":
			http.NotFound(w, r)
		default:
			_, _ = w.Write([]byte(`{"table":"t","generation":0,"floor":900}`))
		}
	}))
	defer run.Close()
	other := httptest.NewServer(http.NotFoundHandler()) // a run that does not replicate the table
	defer other.Close()
	conflict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "table t is in version generation 1, not 0", http.StatusConflict)
	}))
	defer conflict.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()

	usedDir := func(t *testing.T) string {
		dir := t.TempDir()
		s, err := checkpoint.OpenFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkpoint.SetGeneration(ctx, s, "t", 0); err != nil {
			t.Fatal(err)
		}
		s.Close()
		return dir
	}
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

	t.Run("run answers", func(t *testing.T) {
		got, err := newFloorPublisher(host(run), t.TempDir(), log).RaiseFloor(ctx, "t", 0, 800)
		if err != nil || got != 900 {
			t.Fatalf("%d %v", got, err)
		}
	})
	t.Run("run refuses", func(t *testing.T) {
		_, err := newFloorPublisher(host(conflict), usedDir(t), log).RaiseFloor(ctx, "t", 0, 800)
		if err == nil || errors.Is(err, verify.ErrNoFloor) || !strings.Contains(err.Error(), "generation 1") {
			t.Fatalf("err = %v", err)
		}
	})
	for name, addr := range map[string]string{"no run": refused, "run without the table": host(other), "no address": ""} {
		t.Run(name+": state store", func(t *testing.T) {
			dir := usedDir(t)
			got, err := newFloorPublisher(addr, dir, log).RaiseFloor(ctx, "t", 0, 800)
			if err != nil || got != 800 {
				t.Fatalf("%d %v", got, err)
			}
			s, _ := checkpoint.OpenFileStore(dir)
			defer s.Close()
			if v, _ := checkpoint.Floor(ctx, s, "t"); v != 800 {
				t.Fatalf("saved floor %d", v)
			}
		})
	}
	t.Run("no run, unused state dir", func(t *testing.T) {
		_, err := newFloorPublisher(refused, t.TempDir(), log).RaiseFloor(ctx, "t", 0, 800)
		if !errors.Is(err, verify.ErrNoFloor) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no run, state dir held by another process", func(t *testing.T) {
		dir := usedDir(t)
		s, err := checkpoint.OpenFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = newFloorPublisher(refused, dir, log).RaiseFloor(ctx, "t", 0, 800)
		if !errors.Is(err, verify.ErrNoFloor) {
			t.Fatalf("err = %v", err)
		}
	})
}
