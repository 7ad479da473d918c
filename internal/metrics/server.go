package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Route is one more handler the server exposes next to /metrics (run's
// admin endpoints, /caughtup). A Route for /healthz or /readyz replaces
// the plain-text default.
type Route struct {
	Pattern string // http.ServeMux pattern, e.g. "POST /admin/clock-floor"
	Handler http.Handler
}

// Serve exposes /metrics, /healthz, /readyz and routes on addr until ctx
// ends; routes may replace /healthz and /readyz.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer, h *Health, routes ...Route) error {
	mux := http.NewServeMux()
	replaced := map[string]bool{}
	for _, r := range routes {
		mux.Handle(r.Pattern, r.Handler)
		replaced[r.Pattern] = true
	}
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	if !replaced["/healthz"] {
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "ok")
		})
	}
	if !replaced["/readyz"] {
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			ok, why := h.Ready()
			if !ok {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, strings.Join(why, "\n"))
				return
			}
			fmt.Fprintln(w, "ready")
		})
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics server: %w", err)
	}
}
