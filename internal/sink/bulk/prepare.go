package bulk

import "github.com/ddbsync/ddbsync/internal/change"

// Batch is the result of Prepare: the encoded entries to write and how many
// events were coalesced away.
type Batch struct {
	Entries   []Entry
	Coalesced int
	// Unresolved are the events whose templates could not be evaluated
	// (e.g. ${/tenant} on an item without tenant): the sink dead-letters
	// them or fails.
	Unresolved []Unresolved
}

// Unresolved is an event the templates could not turn into an operation.
type Unresolved struct {
	Item Item // what is known: the event, its _id guess, action and version
	Err  error
}

// Prepare resolves, coalesces and encodes one call's events (in order). The
// entries point into events, which must stay unchanged while they are used.
func (r *Resolver) Prepare(events []change.Event) (Batch, error) {
	return r.prepare(events, nil)
}

// prepare is Prepare with, per event, copies found elsewhere that the event
// also deletes (PrepareContext). Copies that an earlier event of the same
// item wrote in this batch are deleted too: a lookup cannot see them.
func (r *Resolver) prepare(events []change.Event, found map[int][]DocRef) (Batch, error) {
	items := make([]Item, 0, len(events))
	var bad []Unresolved
	written := map[string]docKey{} // item key → last target indexed in this batch
	for i := range events {
		ev := &events[i]
		its, err := r.ResolveAll(ev)
		if err != nil {
			act := ActionIndex
			if ev.Op == change.OpDelete {
				act = ActionDelete
			}
			bad = append(bad, Unresolved{Item: Item{Action: act, ID: ev.ID, Version: ev.Version, VersionType: r.versionType, Event: ev}, Err: err})
			items = append(items, its...) // the old copy's delete, if any
			continue
		}
		if found != nil {
			refs := found[i]
			if w, ok := written[ev.Table+"\x00"+ev.ID]; ok {
				refs = append(refs, DocRef{Index: w.index, ID: w.id, Routing: w.routing})
			}
			its = r.withDeletes(ev, its, refs)
			for _, it := range its {
				if it.Action != ActionDelete {
					written[ev.Table+"\x00"+ev.ID] = it.target()
				}
			}
		}
		items = append(items, its...)
	}
	items, dropped := Coalesce(items)
	entries, err := Encode(items)
	if err != nil {
		return Batch{}, err
	}
	return Batch{Entries: entries, Coalesced: dropped, Unresolved: bad}, nil
}
