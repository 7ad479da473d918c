package verify

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// getBatch is how many documents one _mget re-reads.
const getBatch = 200

// recheck tolerates changes in flight: it waits RecheckAfter, re-reads each
// candidate's item (GetItem, consistent) and then its document (_mget, real
// time), and drops the ones that agree now. A candidate that still differs
// is kept when its item and document read the same as the time before
// (nothing moved for RecheckAfter: a real difference); when something moved,
// it is re-read again, at most MaxRechecks times, then kept as "still
// changing" — unless its document changed too since the first read (the
// replicator is applying the key's changes: a hot key, counted in flight).
// It returns the kept candidates and how many went away.
func (c *checker) recheck(ctx context.Context, cands []*candidate) (kept []*candidate, settled int, err error) {
	pending := make([]*candidate, 0, len(cands))
	for _, cd := range cands {
		cd.last = cd.first
		if cd.reason != "" {
			kept = append(kept, cd)
		} else {
			pending = append(pending, cd)
		}
	}
	for round := 1; len(pending) > 0; round++ {
		if err := retry.Sleep(ctx, c.o.RecheckAfter); err != nil {
			return nil, 0, err
		}
		prev := make([]state, len(pending))
		for i, cd := range pending {
			prev[i] = cd.last
		}
		if err := c.reread(ctx, pending); err != nil {
			return nil, 0, err
		}
		var next []*candidate
		for i, cd := range pending {
			_, differs := cd.last.kind(c.bodies)
			switch {
			case !differs:
				settled++
			case cd.last == prev[i]:
				kept = append(kept, cd)
			case round >= c.o.MaxRechecks && cd.last.docMovedSince(cd.first):
				// Still changing, but the document follows the item (the
				// replicator applies its changes): in flight, not a
				// difference. A later verify judges it once it settles.
				settled++
			case round >= c.o.MaxRechecks:
				cd.moving = true
				kept = append(kept, cd)
			default:
				next = append(next, cd)
			}
		}
		pending = next
	}
	return kept, settled, nil
}

// reread refreshes cd.last, cd.item and cd.readAt of every candidate: the
// items first, then the documents, so that a document can only be newer
// than the item it is compared with.
func (c *checker) reread(ctx context.Context, cands []*candidate) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, cd := range cands {
		g.Go(func() error { return c.rereadItem(gctx, cd) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for start := 0; start < len(cands); start += getBatch {
		batch := cands[start:min(start+getBatch, len(cands))]
		reqs := make([]GetRequest, len(batch))
		for i, cd := range batch {
			reqs[i] = GetRequest{Index: cd.index(), ID: cd.key.ID, Routing: cd.routing}
		}
		hits, err := c.idx.Get(ctx, reqs)
		if err != nil {
			return err
		}
		for i, cd := range batch {
			h := hits[i]
			cd.last.hasDoc = h.Found
			cd.last.docFP, cd.last.docVersion = Fingerprint{}, 0
			cd.docIndex = ""
			if h.Found {
				cd.docIndex = reqs[i].Index
				cd.last.docFP, cd.last.docVersion = FingerprintOf(h.Source), h.Version
				if h.Routing != "" {
					cd.routing = h.Routing
				}
			}
		}
	}
	return nil
}

// rereadItem reads the candidate's item and converts it. An item that now
// resolves to another index or _id does not belong to this document.
func (c *checker) rereadItem(ctx context.Context, cd *candidate) error {
	cd.readAt = c.o.Now()
	cd.item = nil
	cd.last.hasItem, cd.last.itemFP = false, Fingerprint{}
	if cd.itemKey == nil {
		return nil // a document whose key cannot be derived has no item
	}
	item, err := getItem(ctx, c.ddb, c.t.ref(), cd.itemKey, c.log)
	if err != nil || item == nil {
		return err
	}
	it, err := c.conv.convert(item, 0)
	if err != nil || c.docKey(it.Index, it.ID) != cd.key {
		return nil
	}
	cd.itemIndex = it.Index
	cd.item = item
	cd.last.hasItem, cd.last.itemFP = true, FingerprintOf(it.Event.Doc)
	if it.Routing != "" && cd.routing == "" {
		cd.routing = it.Routing
	}
	return nil
}
