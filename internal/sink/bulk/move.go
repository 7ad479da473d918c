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
	if _, err := r.place(&del, old); err != nil {
		return []Item{it}, nil
	}
	return r.withDeletes(ev, []Item{it}, []DocRef{{Index: del.Index, ID: del.ID, Routing: del.Routing}}), nil
}

// withDeletes adds to the operations its of ev a delete of each copy in
// refs that its do not already address, with the event's version, in the
// order the version type needs (see ResolveAll).
func (r *Resolver) withDeletes(ev *change.Event, its []Item, refs []DocRef) []Item {
	var dels []Item
	for _, ref := range refs {
		if addresses(its, ref.key()) || addresses(dels, ref.key()) {
			continue
		}
		del := Item{Action: ActionDelete, Index: ref.Index, ID: ref.ID, Routing: ref.Routing, Event: ev}
		if r.versionType != "" {
			v, err := r.evalVersion(ev)
			if err != nil {
				continue // Resolve evaluated it unless the action is create; nothing to order by
			}
			del.Version, del.VersionType = v, r.versionType
		}
		dels = append(dels, del)
	}
	if len(dels) == 0 {
		return its
	}
	for _, it := range its {
		if it.Action != ActionDelete && it.VersionType != VersionExternal {
			return append(dels, its...)
		}
	}
	return append(its, dels...)
}

func addresses(its []Item, k docKey) bool {
	for i := range its {
		if its[i].target() == k {
			return true
		}
	}
	return false
}

// target is the document an item addresses.
func (it *Item) target() docKey { return docKey{it.Index, it.ID, it.Routing} }
