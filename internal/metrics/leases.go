package metrics

import "github.com/prometheus/client_golang/prometheus"

// Leases holds the shared state store's lease collectors, labelled by
// node and partition kind (stream, backfill, table).
type Leases struct {
	Held     *prometheus.GaugeVec   // node, kind: leases held now
	Taken    *prometheus.CounterVec // node, kind: leases taken
	TakeOver *prometheus.CounterVec // node, kind: leases taken from another node whose lease had expired
	Lost     *prometheus.CounterVec // node, kind: leases lost (renewal or fenced write failed)
	Requests *prometheus.CounterVec // node, op: calls to the state table
}

// NewLeases creates and registers the lease collectors on reg (nil: not registered).
func NewLeases(reg prometheus.Registerer) *Leases {
	labels := []string{"node", "kind"}
	m := &Leases{
		Held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ddbsync_leases_held", Help: "Partition leases this node holds in the shared state table.",
		}, labels),
		Taken: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_leases_taken_total", Help: "Partition leases taken by this node.",
		}, labels),
		TakeOver: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_leases_taken_over_total", Help: "Leases taken from another node after its lease expired (fail-over).",
		}, labels),
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_leases_lost_total", Help: "Leases this node lost: a renewal or a fenced checkpoint write found another owner, or renewals failed for 2/3 of the lease timeout.",
		}, labels),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ddbsync_state_requests_total", Help: "Calls this node made to the shared state table, by operation (GetItem, UpdateItem, Query, ...).",
		}, []string{"node", "op"}),
	}
	if reg != nil {
		reg.MustRegister(m.Held, m.Taken, m.TakeOver, m.Lost, m.Requests)
	}
	return m
}
