package bulk

// docKey identifies one document.
type docKey struct{ index, id string }

// Coalesce keeps, for each (index, _id), only the last item, at the position
// of that last occurrence. Events of one call are in stream order, so the last
// one carries the highest version and the result writes the same final state
// as applying all of them. It returns the kept items and how many were
// dropped; items is not modified.
func Coalesce(items []Item) (kept []Item, dropped int) {
	last := make(map[docKey]int, len(items))
	for i := range items {
		last[docKey{items[i].Index, items[i].ID}] = i
	}
	if len(last) == len(items) {
		return items, 0
	}
	kept = make([]Item, 0, len(last))
	for i := range items {
		if last[docKey{items[i].Index, items[i].ID}] == i {
			kept = append(kept, items[i])
		}
	}
	return kept, len(items) - len(kept)
}
