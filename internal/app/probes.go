package app

import (
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// DefaultReadyLag is how far behind a table may be for /readyz.
const DefaultReadyLag = time.Minute

// silentAfter: a shard reader polls at least every poll_interval (at most 1m) and
// each call is bounded by callTimeout (30 s) with retries; minutes without
// a completed call mean it is stuck.
const silentAfter = 3 * time.Minute

// probes builds the /healthz and /readyz answers for a run.
func probes(h *metrics.Health, p *metrics.Progress, w *metrics.Waits, f *config.File, o Options) metrics.Probes {
	lag := o.ReadyLag
	if lag <= 0 {
		lag = DefaultReadyLag
	}
	return metrics.Probes{Health: h, Progress: p, Waits: w, ReadyLag: lag, StallAfter: stallAfter(f), SilentAfter: silentAfter, Now: time.Now}
}
