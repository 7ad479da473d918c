package metrics

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Probes answers /healthz and /readyz with a JSON body saying why.
//
// Live (/healthz): the data path is making progress or has nothing to do.
// It is not live when a batch has waited for the sink longer than
// StallAfter, or when a stream shard's reader has completed no GetRecords
// call for SilentAfter (a healthy reader polls every second even when idle).
// Waiting for servers at start-up, a backfill and an idle stream are live.
//
// Ready (/readyz): start-up is done (servers reachable), no backfill is in
// progress, every table's stream is caught up within ReadyLag (now − the
// oldest shard tip, see Progress), and Health reports nothing (gaps, dead
// letters, stalled sink).
type Probes struct {
	Health      *Health
	Progress    *Progress
	Waits       *Waits
	ReadyLag    time.Duration
	StallAfter  time.Duration
	SilentAfter time.Duration
	Now         func() time.Time
}

// ProbeBody is the JSON answer of /healthz and /readyz.
type ProbeBody struct {
	Status string              `json:"status"` // ok | ready | not live | not ready
	Why    []string            `json:"why,omitempty"`
	Tables map[string]TableLag `json:"tables,omitempty"`
}

// TableLag is one table's replication state in a probe answer.
type TableLag struct {
	Phase  string  `json:"phase"`
	LagSec float64 `json:"lag_seconds"`
}

// Live reports liveness and why not.
func (p Probes) Live() (bool, []string) {
	var why []string
	for _, s := range p.Health.StalledLongerThan(p.StallAfter) {
		why = append(why, "stalled: "+s)
	}
	for _, s := range p.Progress.Silent(p.SilentAfter) {
		// A reader waiting for the sink is judged by StallAfter above.
		if !p.Health.IsPending("stream/" + s.Table + "/shard/" + s.Shard) {
			why = append(why, "silent: "+s.String())
		}
	}
	return len(why) == 0, why
}

// Ready reports readiness, why not, and each table's phase and lag.
func (p Probes) Ready() (bool, []string, map[string]TableLag) {
	_, why := p.Health.Ready()
	why = append(why, p.Waits.List()...)
	tables := map[string]TableLag{}
	for _, name := range p.Progress.Tables() {
		lag, ok, reason := p.Progress.Lag(name)
		phase := p.Progress.PhaseOf(name)
		tables[name] = TableLag{Phase: phase, LagSec: lag.Seconds()}
		switch {
		case !ok:
			why = append(why, fmt.Sprintf("table %s: %s", name, reason))
		case p.ReadyLag > 0 && lag > p.ReadyLag:
			why = append(why, fmt.Sprintf("table %s: %s behind, more than the allowed lag %s", name, lag.Round(time.Second), p.ReadyLag))
		}
	}
	return len(why) == 0, why, tables
}

// Routes returns the /healthz and /readyz handlers.
func (p Probes) Routes() []Route {
	return []Route{
		{Pattern: "/healthz", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			ok, why := p.Live()
			body := ProbeBody{Status: "ok", Why: why}
			if !ok {
				body.Status = "not live"
			}
			writeJSON(w, ok, body)
		})},
		{Pattern: "/readyz", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			ok, why, tables := p.Ready()
			body := ProbeBody{Status: "ready", Why: why, Tables: tables}
			if !ok {
				body.Status = "not ready"
			}
			writeJSON(w, ok, body)
		})},
	}
}

// writeJSON answers 200 when ok, else 503, with body as JSON.
func writeJSON(w http.ResponseWriter, ok bool, body any) {
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// WriteJSON answers with status code and body as JSON.
func WriteJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}
