package bulk

// docKey identifies one document as a bulk operation addresses it. Routing
// is part of it: an event that moves an item to another routing deletes
// the old copy and indexes the new one under the same index and _id, and
// both must be kept (see ResolveAll).
type docKey struct{ index, id, routing string }

// Coalesce keeps, for each (index, _id, routing), only the last item, at the
// position of that last occurrence. Events of one call are in stream order,
// so the last one carries the highest version and the result writes the
// same final state as applying all of them. (Two routings of one _id that
// land on the same shard are one physical document; the last operation of
// each is kept in order, and ResolveAll's order and the external versions
// leave the newest state — see TestMovesConverge.) It returns the kept items and how many were
// dropped; items is not modified.
func Coalesce(items []Item) (kept []Item, dropped int) {
	last := make(map[docKey]int, len(items))
	for i := range items {
		last[items[i].target()] = i
	}
	if len(last) == len(items) {
		return items, 0
	}
	kept = make([]Item, 0, len(last))
	for i := range items {
		if last[items[i].target()] == i {
			kept = append(kept, items[i])
		}
	}
	return kept, len(items) - len(kept)
}
