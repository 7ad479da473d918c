//go:build integration

package e2e

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Poll calls check every interval until it reports done or returns an
// error that is final, or timeout passes; it returns the last error (nil
// when done). A check error that is not final is retried.
func Poll(ctx context.Context, timeout, interval time.Duration, check func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		done, err := check(ctx)
		if err == nil && done {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last == nil {
				last = errorf("not done after %s", timeout)
			}
			return last
		case <-t.C:
		}
	}
}

// Compare compares every item of the table with every document of the
// index, placed by h.Place.
func (h *Harness) Compare() (Diff, error) {
	return CompareProcessed(h.Ctx, h.DDB, h.Table, h.Place, h.Processing, h.SameSource, h.OpenSearch, h.Index)
}

// AwaitEqual polls the comparison until the index equals the table (the
// writes must have stopped) or timeout passes; it returns the last
// comparison and whether it was equal (err: the last comparison failed).
// Once ddbsync has exited nothing changes the index any more: one more
// comparison decides, and a non-zero exit is logged with its error line.
func (h *Harness) AwaitEqual(timeout time.Duration) (Diff, bool, error) {
	start := time.Now()
	var d Diff
	var cerr error
	var exited bool
	err := Poll(h.Ctx, timeout, 500*time.Millisecond, func(context.Context) (bool, error) {
		p := h.Proc()
		exited = p != nil && p.Exited()
		d, cerr = h.Compare()
		return cerr == nil && d.OK() || exited, cerr
	})
	ok := err == nil && cerr == nil && d.OK()
	switch {
	case ok:
		h.TB.Logf("equal after %s: %d items = %d documents", time.Since(start).Round(100*time.Millisecond), d.Items, d.Docs)
	case exited:
		if code := h.Proc().Cmd.ProcessState.ExitCode(); code != 0 {
			h.TB.Logf("ddbsync exited %d before the index equalled the table: %s", code, ErrorLine(h.Log()))
		}
	}
	return d, ok, cerr
}

// ErrorLine is the first ERROR line of a log ("" when there is none).
func ErrorLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=ERROR") {
			return l
		}
	}
	return ""
}

// Converge is AwaitEqual that fails the test with the whole difference.
func (h *Harness) Converge(timeout time.Duration) Diff {
	h.TB.Helper()
	d, ok, err := h.AwaitEqual(timeout)
	if err != nil {
		h.TB.Fatalf("compare table %s with index %s: %v", h.Table, h.Index, err)
	}
	if !ok {
		h.TB.Fatalf("index %s did not converge to table %s in %s: %s", h.Index, h.Table, timeout, d)
	}
	return d
}

// EnableMetrics gives the next runs a metrics server on a free loopback
// port (for WaitReady).
func (h *Harness) EnableMetrics() string {
	h.TB.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.TB.Fatal(err)
	}
	h.MetricsAddr = ln.Addr().String()
	ln.Close()
	return h.MetricsAddr
}

// Ready polls /readyz until it answers 200 (false after timeout or when
// ddbsync exits).
func (h *Harness) Ready(timeout time.Duration) bool {
	if h.MetricsAddr == "" {
		h.TB.Fatal("Ready: no metrics server (call EnableMetrics before Start)")
	}
	return awaitReady(h.Ctx, h.MetricsAddr, timeout, h.Running)
}

// Ready polls the node's /readyz until it answers 200 (false after timeout
// or when the process exits).
func (p *Process) Ready(ctx context.Context, timeout time.Duration) bool {
	return p.MetricsAddr != "" && awaitReady(ctx, p.MetricsAddr, timeout, func() bool { return !p.Exited() })
}

// awaitReady polls http://addr/readyz until it answers 200; false after
// timeout or once running reports the process gone.
func awaitReady(ctx context.Context, addr string, timeout time.Duration, running func() bool) bool {
	ready := false
	_ = Poll(ctx, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !running() {
			return true, nil // exited: never ready
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		ready = resp.StatusCode == 200
		return ready, nil
	})
	return ready
}

// WaitLog waits until the current run's log contains one of substrs and
// returns it; "" when ddbsync exited or timeout passed first.
func (h *Harness) WaitLog(timeout time.Duration, substrs ...string) string {
	var got string
	_ = Poll(h.Ctx, timeout, 50*time.Millisecond, func(context.Context) (bool, error) {
		l := h.Log()
		for _, s := range substrs {
			if strings.Contains(l, s) {
				got = s
				return true, nil
			}
		}
		return !h.Running(), nil // exited: stop waiting, found nothing
	})
	return got
}

// MustLog is WaitLog that fails the test when none of substrs appears.
func (h *Harness) MustLog(timeout time.Duration, substrs ...string) string {
	h.TB.Helper()
	got := h.WaitLog(timeout, substrs...)
	switch {
	case got == "" && !h.Running():
		h.TB.Fatalf("ddbsync exited before it logged any of %q: %s\n%s", substrs, ErrorLine(h.Log()), Tail(h.Log(), 4000))
	case got == "":
		h.TB.Fatalf("ddbsync never logged any of %q within %s:\n%s", substrs, timeout, Tail(h.Log(), 4000))
	}
	return got
}
