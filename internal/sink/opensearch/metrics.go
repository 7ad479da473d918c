package opensearch

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the sink's Prometheus collectors. Without a registerer they
// still count, unseen, so the code needs no nil checks.
type metrics struct {
	indexed, deleted, superseded, deadLettered, coalesced, retries *prometheus.CounterVec
	duration                                                       *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ddbsync", Name: name, Help: help}, []string{"table"})
	}
	m := &metrics{
		indexed:      counter("documents_indexed_total", "Documents written by index or create actions."),
		deleted:      counter("documents_deleted_total", "Documents deleted (including deletes of absent documents)."),
		superseded:   counter("documents_superseded_total", "Writes OpenSearch refused because it holds the same or a newer version (409)."),
		deadLettered: counter("documents_dead_lettered_total", "Items OpenSearch rejected for good, written to the dead-letter queue."),
		coalesced:    counter("documents_coalesced_total", "Changes replaced by a later change of the same document within one batch."),
		retries:      counter("bulk_retries_total", "Bulk requests sent again after a transient failure."),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ddbsync", Name: "bulk_request_duration_seconds",
			Help:    "Duration of _bulk requests, including failed ones.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"table"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	for _, c := range []**prometheus.CounterVec{&m.indexed, &m.deleted, &m.superseded, &m.deadLettered, &m.coalesced, &m.retries} {
		if *c, err = register(reg, *c); err != nil {
			return nil, err
		}
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same name (several pipelines each have a sink and share the registry).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if ex, ok := are.ExistingCollector.(T); ok {
				return ex, nil
			}
		}
		return c, err
	}
	return c, nil
}
