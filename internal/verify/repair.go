package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// RepairReport counts what --repair did.
type RepairReport struct {
	Indexed int `json:"indexed"` // missing or stale documents written from their item
	Deleted int `json:"deleted"` // extra documents deleted (or already gone)
	// Skipped documents were newer than the repair (409): a stream write
	// after the table was read; never forced.
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"` // rejected by OpenSearch (mapping errors, ...)
	// DeadLettered repairs were rejected for good and written to the
	// sink's dead-letter queue (Options.DeadLetter).
	DeadLettered int `json:"dead_lettered,omitempty"`
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
	if len(items) == 0 {
		return rep, 0, nil
	}
	if c.o.Writer == nil {
		return rep, 0, errors.New("repair: no writer (Options.Writer)")
	}
	// The one write path retries what is transient (max_retries of the
	// sink) and classifies each item the way the sink does.
	results, err := c.o.Writer.WriteItems(ctx, c.t.Table, items, sinkos.ItemOptions{NoDeadLetter: !c.o.DeadLetter})
	fixed := 0
	for i, r := range results {
		it, cd := items[i], owners[i]
		switch r.Outcome {
		case sinkos.ItemApplied, sinkos.ItemGone:
			fixed++
			if it.Action == bulk.ActionDelete {
				rep.Deleted++
			} else {
				rep.Indexed++
			}
		case sinkos.ItemSuperseded:
			rep.Skipped++
			note(cd, "skipped: the document is newer than the repair (version conflict)")
		case sinkos.ItemDeadLettered:
			rep.DeadLettered++
			note(cd, fmt.Sprintf("dead-lettered: %d %s: %s", r.Status, r.Type, r.Reason))
		default:
			rep.Failed++
			note(cd, fmt.Sprintf("failed: %d %s: %s", r.Status, r.Type, r.Reason))
		}
	}
	if err != nil {
		return rep, fixed, err
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
