package verify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// repairBytes bounds one repair _bulk body.
const repairBytes = 5 << 20

// repairAttempts bounds how often an item answered 429/5xx is sent again.
const repairAttempts = 8

// RepairReport counts what --repair did.
type RepairReport struct {
	Indexed int `json:"indexed"` // missing or stale documents written from their item
	Deleted int `json:"deleted"` // extra documents deleted (or already gone)
	// Skipped documents were newer than the repair (409): a stream write
	// after the table was read; never forced.
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"` // rejected by OpenSearch (mapping errors, ...)
	// NotAttempted differences cannot be repaired (see their reason).
	NotAttempted int       `json:"not_attempted"`
	Examples     []Example `json:"examples,omitempty"` // the first skipped / failed / not attempted
}

// repair writes the fix of every kept candidate with RepairVersion of the
// time its item was read: index the item's document, or delete a
// document that has no item. It returns how many were fixed.
func (c *checker) repair(ctx context.Context, kept []*candidate) (RepairReport, int, error) {
	var rep RepairReport
	note := func(cd *candidate, why string) {
		if len(rep.Examples) < c.o.Examples {
			rep.Examples = append(rep.Examples, Example{Index: cd.index(), ID: cd.key.ID, Reason: why})
		}
	}
	var items []bulk.Item
	var owners []*candidate
	for _, cd := range kept {
		it, why := c.repairItem(cd)
		if why != "" {
			rep.NotAttempted++
			note(cd, "not repaired: "+why)
			continue
		}
		items = append(items, it)
		owners = append(owners, cd)
	}
	fixed := 0
	for attempt := 0; len(items) > 0; attempt++ {
		results, err := c.sendRepair(ctx, items)
		if err != nil {
			return rep, fixed, err
		}
		var again []bulk.Item
		var againOwners []*candidate
		for i, r := range results {
			it, cd := items[i], owners[i]
			switch {
			case r.Status >= 200 && r.Status < 300, r.Status == http.StatusNotFound && it.Action == bulk.ActionDelete:
				fixed++
				if it.Action == bulk.ActionDelete {
					rep.Deleted++
				} else {
					rep.Indexed++
				}
			case r.Status == http.StatusConflict:
				rep.Skipped++
				note(cd, "skipped: the document is newer than the repair (version conflict)")
			case (r.Status == http.StatusTooManyRequests || r.Status >= 500) && attempt+1 < repairAttempts:
				again, againOwners = append(again, it), append(againOwners, cd)
			default:
				rep.Failed++
				note(cd, fmt.Sprintf("failed: %d %s", r.Status, r.Error))
			}
		}
		items, owners = again, againOwners
		if len(items) > 0 {
			if err := retry.Sleep(ctx, retry.Backoff(attempt, 200*time.Millisecond, 10*time.Second)); err != nil {
				return rep, fixed, err
			}
		}
	}
	return rep, fixed, nil
}

// repairItem builds the bulk operation that fixes cd, or says why none.
func (c *checker) repairItem(cd *candidate) (bulk.Item, string) {
	if cd.reason != "" {
		return bulk.Item{}, cd.reason
	}
	v := change.InGeneration(RepairVersion(cd.readAt), c.o.Generation)
	if cd.last.hasItem {
		it, err := c.conv.convert(cd.item, v)
		if err != nil {
			return bulk.Item{}, err.Error()
		}
		// Always plain index with an external version: a repair must lose
		// to an equal version too.
		it.Action, it.Version, it.VersionType = bulk.ActionIndex, v, bulk.VersionExternal
		return it, ""
	}
	if c.t.KeepExtras {
		return bulk.Item{}, "ttl_deletes is keep: documents of expired items stay in the index"
	}
	ev := &change.Event{Table: c.t.Table, Op: change.OpDelete, ID: cd.key.ID, Version: v}
	return bulk.Item{Action: bulk.ActionDelete, Index: cd.index(), ID: cd.key.ID, Routing: cd.routing,
		Version: v, VersionType: bulk.VersionExternal, Event: ev}, ""
}

// sendRepair encodes items, splits them into bodies of at most
// repairBytes and returns every item's result in order.
func (c *checker) sendRepair(ctx context.Context, items []bulk.Item) ([]BulkResult, error) {
	entries, err := bulk.Encode(items)
	if err != nil {
		return nil, err
	}
	var out []BulkResult
	for _, part := range bulk.Split(entries, repairBytes) {
		res, err := c.idx.Bulk(ctx, bulk.Body(part), len(part))
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}
