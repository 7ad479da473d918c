package bulk

import "github.com/ddbsync/ddbsync/internal/change"

// Batch is the result of Prepare: the encoded entries to write and how many
// events were coalesced away.
type Batch struct {
	Entries   []Entry
	Coalesced int
}

// Prepare resolves, coalesces and encodes one call's events (in order). The
// entries point into events, which must stay unchanged while they are used.
func (r *Resolver) Prepare(events []change.Event) (Batch, error) {
	items := make([]Item, len(events))
	for i := range events {
		it, err := r.Resolve(&events[i])
		if err != nil {
			return Batch{}, err
		}
		items[i] = it
	}
	items, dropped := Coalesce(items)
	entries, err := Encode(items)
	if err != nil {
		return Batch{}, err
	}
	return Batch{Entries: entries, Coalesced: dropped}, nil
}
