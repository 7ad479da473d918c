package processor

import (
	"fmt"
	"strings"
)

// parseJSON is parse_json: parse the JSON text at source into destination
// (the document root when unset), optionally only the part at pointer.
type parseJSON struct {
	source      key
	destination *key
	pointer     *key
	overwrite   bool
	deleteSrc   bool
	when        condition
}

func buildParseJSON(o *opts) processor {
	o.known([]string{"source", "destination", "pointer", "parse_when", "overwrite_if_destination_exists", "delete_source"},
		map[string]string{
			"tags_on_failure":      "ddbsync's events carry no tags; text that does not parse goes to the dead-letter queue",
			"handle_failed_events": "an event that fails always goes to the dead-letter queue",
			"depth":                "the whole value is parsed",
		})
	p := &parseJSON{overwrite: o.boolean("overwrite_if_destination_exists", true), deleteSrc: o.boolean("delete_source", false),
		when: o.cond("parse_when", false)}
	p.source = key{raw: "message", toks: []string{"message"}}
	if o.has("source") {
		if k, ok := o.keyOpt("source", true); ok {
			p.source = k
		}
	}
	if d := o.str("destination", false); d != "" && d != "/" {
		if k, ok := o.keyOpt("destination", true); ok {
			p.destination = &k
		}
	}
	if s := o.str("pointer", false); s != "" {
		if k, ok := o.keyOpt("pointer", true); ok {
			p.pointer = &k
		}
	}
	return p
}

func (p *parseJSON) process(r *record) (bool, error) {
	ok, err := r.when(p.when)
	if err != nil || !ok {
		return false, wrapWhen("parse_when", err)
	}
	raw, ok := get(r.doc, p.source)
	if !ok || raw == nil {
		return false, nil
	}
	text, ok := raw.(string)
	if !ok {
		return false, fmt.Errorf("source %s is %s, not a string of JSON", p.source, typeName(raw))
	}
	v, err := decodeJSON([]byte(strings.TrimSpace(text)))
	if err != nil {
		return false, fmt.Errorf("source %s does not hold valid JSON: %w", p.source, err)
	}
	name := ""
	if p.pointer != nil {
		obj, isObj := v.(map[string]any)
		if isObj {
			if part, found := get(obj, *p.pointer); found {
				v, name = part, p.pointer.last()
			}
		}
		// A pointer that does not resolve parses the whole value, as Data Prepper does.
	}
	if p.deleteSrc {
		del(r.doc, p.source)
	}
	switch {
	case p.destination != nil:
		if _, taken := get(r.doc, *p.destination); taken && !p.overwrite {
			return false, nil
		}
		return false, set(r.doc, *p.destination, v)
	case name != "":
		if _, taken := r.doc[name]; taken && !p.overwrite {
			return false, nil
		}
		r.doc[name] = v
		return false, nil
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return false, fmt.Errorf("source %s holds %s; only an object can be parsed into the document root (set destination)", p.source, typeName(v))
	}
	for k, e := range obj {
		if _, taken := r.doc[k]; taken && !p.overwrite {
			continue
		}
		r.doc[k] = e
	}
	return false, nil
}
