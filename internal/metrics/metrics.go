// Package metrics holds the source-side Prometheus collectors, the health
// state behind /healthz and /readyz, and the HTTP server that exposes them.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Stream holds the stream source's collectors.
type Stream struct {
	RecordsRead    *prometheus.CounterVec // table
	RecordsSkipped *prometheus.CounterVec // table, reason
	GetRecords     *prometheus.CounterVec // table
	ShardLag       *prometheus.GaugeVec   // table, shard: seconds between now and the last record read
	OpenShards     *prometheus.GaugeVec   // table
	Gaps           *prometheus.CounterVec // table, reason
}

// NewStream creates and registers the stream collectors on reg (nil: not registered).
func NewStream(reg prometheus.Registerer) *Stream {
	m := &Stream{
		RecordsRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_stream_records_read_total", Help: "Stream records read by GetRecords.",
		}, []string{"table"}),
		RecordsSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_stream_records_skipped_total", Help: "Stream records not written: older than the backfill cutoff, or TTL deletes kept.",
		}, []string{"table", "reason"}),
		GetRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_stream_get_records_calls_total", Help: "GetRecords calls.",
		}, []string{"table"}),
		ShardLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ddbsync_stream_shard_lag_seconds", Help: "Now minus the creation time of the last record read from the shard.",
		}, []string{"table", "shard"}),
		OpenShards: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ddbsync_stream_open_shards", Help: "Shards being read.",
		}, []string{"table"}),
		Gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_stream_gaps_total", Help: "Stream gaps detected (trimmed data, vanished shard, expired checkpoint).",
		}, []string{"table", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.RecordsRead, m.RecordsSkipped, m.GetRecords, m.ShardLag, m.OpenShards, m.Gaps)
	}
	return m
}

// Backfill holds the backfill progress gauges.
type Backfill struct {
	Done  *prometheus.GaugeVec // table, kind
	Total *prometheus.GaugeVec // table, kind
}

// NewBackfill creates and registers the backfill gauges on reg (nil: not registered).
func NewBackfill(reg prometheus.Registerer) *Backfill {
	m := &Backfill{
		Done: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ddbsync_backfill_items_done", Help: "Backfill items acknowledged by the sink.",
		}, []string{"table", "kind"}),
		Total: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ddbsync_backfill_items_total", Help: "Backfill items expected (export manifest, or the table's approximate item count for a scan).",
		}, []string{"table", "kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.Done, m.Total)
	}
	return m
}
