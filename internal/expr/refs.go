package expr

// Pointers returns the JSON pointers the template reads, in order.
func (t *Template) Pointers() []string {
	var out []string
	for _, p := range t.parts {
		if p.kind == partPointer {
			out = append(out, p.text)
		}
	}
	return out
}

// HasDate reports whether the template has a %{...} date pattern.
func (t *Template) HasDate() bool {
	for _, p := range t.parts {
		if p.kind == partDate {
			return true
		}
	}
	return false
}

// Metadata returns the getMetadata keys the template reads, in order.
func (t *Template) Metadata() []string {
	var out []string
	for _, p := range t.parts {
		if p.kind == partMetadata {
			out = append(out, p.text)
		}
	}
	return out
}
