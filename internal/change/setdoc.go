package change

// SetDoc replaces the event's document and forgets the decoded copy that
// JSON pointer lookups cache (processors rewrite documents).
func (e *Event) SetDoc(doc []byte) {
	e.Doc = doc
	e.parsed = nil
}
