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
	NotAttempted int `json:"not_attempted"`
	// Floor is the clock floor the repairs of documents changed out of
	// band were written with (0 when none was needed).
	Floor int64 `json:"floor,omitempty"`
	// Settled differences went away when re-read after the floor was
	// raised (a stream change in flight fixed them).
	Settled  int       `json:"settled,omitempty"`
	Examples []Example `json:"examples,omitempty"` // the first skipped / failed / not attempted
}

// repair fixes every kept candidate: index the item's document, or delete a
// document that has no item. It returns how many differences are gone.
//
// First with the classic version, RepairVersion of the time the item was
// read (see RepairVersion for why no later stream change can lose to it).
// A document changed out of band by an unversioned OpenSearch call holds a
// version at or above that (OpenSearch adds one to the version it had), and
// so does the tombstone of one deleted out of band: those answer 409, or
// are known to be above from the _version read. With a FloorPublisher they
// are repaired above the table's clock floor (repairAboveFloor); without
// one they are reported as skipped.
func (c *checker) repair(ctx context.Context, kept []*candidate) (RepairReport, int, error) {
	var rep RepairReport
	var classic, above []*candidate
	for _, cd := range kept {
		if c.o.Floor != nil && cd.reason == "" && cd.last.hasDoc && cd.last.docVersion >= c.classicVersion(cd) {
			above = append(above, cd)
			continue
		}
		classic = append(classic, cd)
	}
	superseded, fixed, err := c.write(ctx, &rep, classic, c.classicVersion)
	if err != nil {
		return rep, fixed, err
	}
	if c.o.Floor == nil {
		for _, cd := range superseded {
			rep.Skipped++
			c.note(&rep, cd, "skipped: the document is newer than the repair (version conflict)")
		}
		return rep, fixed, nil
	}
	n, err := c.repairAboveFloor(ctx, &rep, append(above, superseded...))
	return rep, fixed + n, err
}

// classicVersion is the repair version of a candidate read at cd.readAt.
func (c *checker) classicVersion(cd *candidate) int64 {
	return change.InGeneration(RepairVersion(cd.readAt), c.o.Generation)
}

// repairAboveFloor repairs documents whose version is at or above the
// classic repair version. It picks F above every version of these
// documents and above every version a lineage clock can have given until
// now (change.RepairFloor), has the table's clock floor raised to F and
// waits until it is in effect (every stream change read from then on gets a
// version above F; see stream.Floor for the argument), then re-reads each
// item (GetItem, consistent) and document and writes the item with
// version F:
//   - a stream change made after that GetItem is read after the floor took
//     effect, so its version is above F: it wins over the repair in either
//     order of arrival, even in the same second as the corrupted document's
//     version;
//   - a change made before the GetItem is contained in what the repair
//     writes; its own write, when it arrives after the repair, loses (409)
//     or is followed by the lineage's later records, which are above F.
func (c *checker) repairAboveFloor(ctx context.Context, rep *RepairReport, cands []*candidate) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	var highest int64
	for _, cd := range cands {
		highest = max(highest, cd.last.docVersion)
	}
	f, ok := change.RepairFloor(c.o.Now(), highest, 0, c.o.Generation)
	if !ok {
		for _, cd := range cands {
			rep.NotAttempted++
			c.note(rep, cd, fmt.Sprintf("not repaired: the highest version among the documents to fix (%d) is beyond version generation %d or more than %s ahead (written with an external version by another writer?)", highest, c.o.Generation, change.MaxFloorAhead))
		}
		return 0, nil
	}
	eff, err := c.o.Floor.RaiseFloor(ctx, c.t.Table, c.o.Generation, f)
	if errors.Is(err, ErrNoFloor) {
		c.log.Warn("documents changed out of band are not repaired: no clock floor", "documents", len(cands), "err", err)
		for _, cd := range cands {
			rep.Skipped++
			c.note(rep, cd, "skipped: the document's version is at or above the repair version, and "+err.Error())
		}
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raise the clock floor of table %s to %d: %w", c.t.Table, f, err)
	}
	if _, ok := change.WithinGeneration(eff, c.o.Generation); !ok {
		return 0, fmt.Errorf("clock floor of table %s is %d, outside version generation %d (did a re-backfill start? verify again)", c.t.Table, eff, c.o.Generation)
	}
	rep.Floor = eff
	c.log.Info("clock floor in effect; repairing documents changed out of band", "floor", eff, "documents", len(cands))
	// Read again now: every change not in these reads comes after the floor.
	if err := c.reread(ctx, cands); err != nil {
		return 0, err
	}
	var todo []*candidate
	settled := 0
	for _, cd := range cands {
		if _, differs := cd.last.kind(c.bodies); !differs {
			settled++
			continue
		}
		todo = append(todo, cd)
	}
	rep.Settled += settled
	superseded, fixed, err := c.write(ctx, rep, todo, func(*candidate) int64 { return eff })
	for _, cd := range superseded {
		rep.Skipped++
		c.note(rep, cd, fmt.Sprintf("skipped: the document's version is above the clock floor %d (changed again out of band?)", eff))
	}
	return settled + fixed, err
}

// note keeps the first examples of what was not repaired.
func (c *checker) note(rep *RepairReport, cd *candidate, why string) {
	if len(rep.Examples) < c.o.Examples {
		rep.Examples = append(rep.Examples, Example{Index: cd.index(), ID: cd.key.ID, Reason: why})
	}
}

// write sends the fix of each candidate with version(cd) through the one
// write path and counts the outcomes in rep, except the superseded ones
// (409), which it returns. fixed counts the differences gone.
func (c *checker) write(ctx context.Context, rep *RepairReport, cands []*candidate, version func(*candidate) int64) (superseded []*candidate, fixed int, err error) {
	var items []bulk.Item
	var owners []*candidate
	for _, cd := range cands {
		it, why := c.repairItem(cd, version(cd))
		if why != "" {
			rep.NotAttempted++
			c.note(rep, cd, "not repaired: "+why)
			continue
		}
		items = append(items, it)
		owners = append(owners, cd)
	}
	if len(items) == 0 {
		return nil, 0, nil
	}
	if c.o.Writer == nil {
		return nil, 0, errors.New("repair: no writer (Options.Writer)")
	}
	// The one write path retries what is transient (max_retries of the
	// sink) and classifies each item the way the sink does.
	results, err := c.o.Writer.WriteItems(ctx, c.t.Table, items, sinkos.ItemOptions{NoDeadLetter: !c.o.DeadLetter})
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
			superseded = append(superseded, cd)
		case sinkos.ItemDeadLettered:
			rep.DeadLettered++
			c.note(rep, cd, fmt.Sprintf("dead-lettered: %d %s: %s", r.Status, r.Type, r.Reason))
		default:
			rep.Failed++
			c.note(rep, cd, fmt.Sprintf("failed: %d %s: %s", r.Status, r.Type, r.Reason))
		}
	}
	return superseded, fixed, err
}

// repairItem builds the bulk operation that fixes cd with version v, or
// says why none.
func (c *checker) repairItem(cd *candidate, v int64) (bulk.Item, string) {
	if cd.reason != "" {
		return bulk.Item{}, cd.reason
	}
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
