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
	items := make([]Item, 0, len(events))
	var bad []Unresolved
	for i := range events {
		ev := &events[i]
		its, err := r.ResolveAll(ev)
		if err != nil {
			act := ActionIndex
			if ev.Op == change.OpDelete {
				act = ActionDelete
			}
			bad = append(bad, Unresolved{Item: Item{Action: act, ID: ev.ID, Version: ev.Version, VersionType: r.versionType, Event: ev}, Err: err})
			continue
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
