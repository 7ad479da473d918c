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

// EvalDates renders the template like Eval, except that each %{...} date
// pattern renders as date (e.g. a placeholder that the caller turns into a
// wildcard to find every index a date pattern produced).
func (t *Template) EvalDates(src Source, date string) (string, error) {
	c := &Template{raw: t.raw, parts: make([]part, len(t.parts))}
	for i, p := range t.parts {
		if p.kind == partDate {
			p = part{kind: partLiteral, text: date}
		}
		c.parts[i] = p
	}
	return c.Eval(src)
}

// DateLayouts returns the Go time layouts of the template's %{...} date
// patterns, in order.
func (t *Template) DateLayouts() []string {
	var out []string
	for _, p := range t.parts {
		if p.kind == partDate {
			out = append(out, p.text)
		}
	}
	return out
}
