package processor

import (
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// addEntries is add_entries: each entry sets a key to a literal value, a
// format string or an expression's value, when add_when holds.
type addEntries struct{ entries []addEntry }

type addEntry struct {
	key       key            // literal key
	keyFormat *expr.Template // key written as a format string ("${/type}_id"); nil for a literal key
	value     any            // literal value (document form)
	hasValue  bool
	format    *expr.Template
	valueExpr condition
	overwrite bool
	appendTo  bool
	when      condition
}

func buildAddEntries(o *opts) processor {
	o.known([]string{"entries"}, nil)
	p := &addEntries{}
	o.entries("entries", func(e *opts) {
		e.known([]string{"key", "value", "format", "value_expression", "overwrite_if_key_exists", "append_if_key_exists", "add_when"},
			map[string]string{"metadata_key": "ddbsync's event metadata is fixed (table, keys, version); add a document key instead"})
		var a addEntry
		if ks := e.str("key", true); strings.Contains(ks, "${") {
			t, err := compileFormat(ks)
			if err != nil {
				e.add("key", "invalid format: "+err.Error())
			}
			a.keyFormat = t
		} else if ks != "" {
			var err error
			if a.key, err = parseKey(ks); err != nil {
				e.add("key", err.Error())
			}
		}
		n := 0
		if e.has("value") {
			n++
			v, err := fromYAML(e.m["value"])
			if err != nil {
				e.add("value", err.Error())
			}
			a.value, a.hasValue = v, true
		}
		if s := e.str("format", false); s != "" {
			n++
			t, err := compileFormat(s)
			if err != nil {
				e.add("format", "invalid format: "+err.Error())
			}
			a.format = t
		}
		if e.has("value_expression") {
			n++
			a.valueExpr = e.cond("value_expression", true)
		}
		if n != 1 {
			e.add("", fmt.Sprintf("needs exactly one of value, format and value_expression (got %d)", n))
		}
		a.overwrite = e.boolean("overwrite_if_key_exists", false)
		a.appendTo = e.boolean("append_if_key_exists", false)
		if a.overwrite && a.appendTo {
			e.add("append_if_key_exists", "conflicts with overwrite_if_key_exists (choose one)")
		}
		a.when = e.cond("add_when", false)
		p.entries = append(p.entries, a)
	})
	return p
}

func (p *addEntries) process(r *record) (bool, error) {
	for _, a := range p.entries {
		ok, err := r.when(a.when)
		if err != nil {
			return false, fmt.Errorf("add_when: %w", err)
		}
		if !ok {
			continue
		}
		k := a.key
		if a.keyFormat != nil {
			s, err := evalFormat(a.keyFormat, r)
			if err != nil {
				return false, fmt.Errorf("key: %w", err)
			}
			if k, err = parseKey(s); err != nil {
				return false, fmt.Errorf("key: %w", err)
			}
		}
		var v any
		switch {
		case a.hasValue:
			v = deepCopy(a.value)
		case a.format != nil:
			s, err := evalFormat(a.format, r)
			if err != nil {
				return false, fmt.Errorf("entry %s: %w", k, err)
			}
			v = s
		default:
			if v, err = a.valueExpr.Value(r); err != nil {
				return false, fmt.Errorf("entry %s: value_expression: %w", k, err)
			}
			v = deepCopy(v)
		}
		old, exists := get(r.doc, k)
		switch {
		case exists && a.appendTo:
			list, isList := old.([]any)
			if !isList {
				list = []any{old}
			}
			v = append(list, v)
		case exists && !a.overwrite:
			continue
		}
		if err := set(r.doc, k, v); err != nil {
			return false, err
		}
	}
	return false, nil
}
