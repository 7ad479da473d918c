package bulk

import "github.com/ddbsync/ddbsync/internal/change"

// ResolveAll returns the operations of one event: Resolve's, and, when the
// event writes the item and its old image places the old copy somewhere
// else (another index, _id or routing: the attributes the templates read
// changed), a delete of that old copy (DESIGN §2.11).
//
// The delete carries the event's own version, so stream order still
// decides: a replay of an older event cannot delete a newer copy, and a
// newer event supersedes it. The two operations can hit the same physical
// document (same index and _id, another routing that lands on the same
// shard), so their order is chosen to leave the new copy standing:
//
//   - external: index first; the delete with the same version then gets a
//     409 on the new copy (superseded) or deletes the old one.
//   - external_gte and internal: delete first; the index then recreates
//     the document (an equal version is accepted by external_gte).
//
// An old image that the templates cannot place gives no delete: no copy
// could have been written from it.
func (r *Resolver) ResolveAll(ev *change.Event) ([]Item, error) {
	it, err := r.Resolve(ev)
	if err != nil {
		return nil, err
	}
	old := ev.Old()
	if old == nil || it.Action == ActionDelete {
		return []Item{it}, nil
	}
	del := Item{Action: ActionDelete, Event: ev}
	if _, err := r.place(&del, old); err != nil || del.target() == it.target() {
		return []Item{it}, nil
	}
	if r.versionType != "" {
		if del.Version, err = r.evalVersion(ev); err != nil {
			return []Item{it}, nil // Resolve evaluated it for index; create keeps internal versions
		}
		del.VersionType = r.versionType
	}
	if it.VersionType == VersionExternal {
		return []Item{it, del}, nil
	}
	return []Item{del, it}, nil
}

// target is the document an item addresses.
func (it *Item) target() docKey { return docKey{it.Index, it.ID, it.Routing} }
