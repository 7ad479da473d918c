package opensearch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// An index that starts with a ${...} reference (`${getMetadata("table_name")}`)
// resolves to indices no template can match without matching every index
// of the cluster, so a bulk write would create them with OpenSearch's
// dynamic mapping: a 38-digit number, or a fraction after an integer, in a
// field's first writes would be refused and dead-lettered. The sink
// therefore creates each such index itself, with ddbsync's number mapping,
// before the first write to it, and checks it again every indexRecheck (an
// index deleted under a running pipeline is created again with the
// mapping on the next write after that; until then a bulk write may
// create it).

// indexRecheck is how long an index the sink made sure of is trusted to
// exist.
const indexRecheck = time.Minute

// indexCreator remembers the indices the sink made sure of.
type indexCreator struct {
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]time.Time // index → when it was last made sure of
}

func newIndexCreator(now func() time.Time) *indexCreator {
	return &indexCreator{now: now, seen: map[string]time.Time{}}
}

// due lists, once each, the indices of entries not made sure of within
// indexRecheck.
func (c *indexCreator) due(entries []bulk.Entry) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var out []string
	listed := map[string]bool{}
	for i := range entries {
		idx := entries[i].Index
		if at, ok := c.seen[idx]; listed[idx] || ok && now.Sub(at) < indexRecheck {
			continue
		}
		listed[idx] = true
		out = append(out, idx)
	}
	return out
}

func (c *indexCreator) done(index string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[index] = c.now()
}

// createIndices makes sure every index the entries write to exists, created
// with the number mapping (see above); a nil creator does nothing.
func (s *Sink) createIndices(ctx context.Context, entries []bulk.Entry) error {
	if s.creator == nil {
		return nil
	}
	for _, idx := range s.creator.due(entries) {
		if err := s.ensureIndex(ctx, idx); err != nil {
			return fmt.Errorf("opensearch: create index %s before writing to it: %w", idx, err)
		}
		s.creator.done(idx)
	}
	return nil
}
