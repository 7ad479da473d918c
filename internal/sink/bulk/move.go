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
// could have been written from it. When the new image cannot be placed
// (the error is returned: the event is dead-lettered), the old copy is
// still deleted, so the index holds no stale document for the item.
func (r *Resolver) ResolveAll(ev *change.Event) ([]Item, error) {
	it, err := r.Resolve(ev)
	if err != nil {
		if a, aerr := r.action.Eval(ev); aerr == nil && Action(a) != ActionDelete {
			if del, ok := r.oldCopy(ev); ok {
				return r.withDeletes(ev, nil, []DocRef{del}), err
			}
		}
		return nil, err
	}
	if it.Action == ActionDelete {
		return []Item{it}, nil
	}
	del, ok := r.oldCopy(ev)
	if !ok {
		return []Item{it}, nil
	}
	return r.withDeletes(ev, []Item{it}, []DocRef{del}), nil
}

// oldCopy is where the event's old image places the item's old copy.
func (r *Resolver) oldCopy(ev *change.Event) (DocRef, bool) {
	old := ev.Old()
	if old == nil {
		return DocRef{}, false
	}
	var at Item
	if _, err := r.place(&at, old); err != nil {
		return DocRef{}, false
	}
	return DocRef{Index: at.Index, ID: at.ID, Routing: at.Routing}, true
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
