package processor

import "fmt"

// deleteEntries is delete_entries: remove with_keys when delete_when holds.
type deleteEntries struct {
	keys []key
	when condition
}

func buildDeleteEntries(o *opts) processor {
	o.known([]string{"with_keys", "delete_when"}, map[string]string{
		"with_keys_regex": "list the keys in with_keys", "exclude_from_delete": "list the keys to delete in with_keys",
		"entries": "use with_keys and delete_when"})
	return &deleteEntries{keys: o.keyList("with_keys", true), when: o.cond("delete_when", false)}
}

func (p *deleteEntries) process(r *record) (bool, error) {
	ok, err := r.when(p.when)
	if err != nil || !ok {
		return false, wrapWhen("delete_when", err)
	}
	for _, k := range p.keys {
		del(r.doc, k)
	}
	return false, nil
}

// moveEntries is rename_keys (move) and copy_values (copy): each entry
// moves or copies from_key to to_key when its condition holds.
type moveEntries struct {
	copy    bool
	entries []moveEntry
}

type moveEntry struct {
	from, to  key
	overwrite bool
	when      condition
}

func buildRenameKeys(o *opts) processor { return buildMove(o, false) }
func buildCopyValues(o *opts) processor { return buildMove(o, true) }

func buildMove(o *opts, copy bool) processor {
	whenKey := "rename_when"
	unsupported := map[string]string{"from_key_regex": "name each key in from_key"}
	if copy {
		whenKey = "copy_when"
		unsupported = map[string]string{"from_list": "copy keys one by one", "to_list": "copy keys one by one"}
	}
	o.known([]string{"entries"}, unsupported)
	p := &moveEntries{copy: copy}
	o.entries("entries", func(e *opts) {
		e.known([]string{"from_key", "to_key", "overwrite_if_to_key_exists", whenKey}, unsupported)
		var m moveEntry
		m.from, _ = e.keyOpt("from_key", true)
		m.to, _ = e.keyOpt("to_key", true)
		m.overwrite = e.boolean("overwrite_if_to_key_exists", false)
		m.when = e.cond(whenKey, false)
		p.entries = append(p.entries, m)
	})
	return p
}

func (p *moveEntries) process(r *record) (bool, error) {
	for _, m := range p.entries {
		ok, err := r.when(m.when)
		if err != nil {
			return false, wrapWhen("condition", err)
		}
		if !ok || m.from.pointer() == m.to.pointer() {
			continue
		}
		v, exists := get(r.doc, m.from)
		if !exists {
			continue
		}
		if _, taken := get(r.doc, m.to); taken && !m.overwrite {
			continue
		}
		if p.copy {
			v = deepCopy(v)
		} else {
			del(r.doc, m.from)
		}
		if err := set(r.doc, m.to, v); err != nil {
			return false, fmt.Errorf("%s → %s: %w", m.from, m.to, err)
		}
	}
	return false, nil
}

// selectEntries is select_entries: keep only include_keys when
// select_when holds.
type selectEntries struct {
	keys []key
	when condition
}

func buildSelectEntries(o *opts) processor {
	o.known([]string{"include_keys", "select_when"}, map[string]string{"include_keys_regex": "list the keys in include_keys"})
	return &selectEntries{keys: o.keyList("include_keys", true), when: o.cond("select_when", false)}
}

func (p *selectEntries) process(r *record) (bool, error) {
	ok, err := r.when(p.when)
	if err != nil || !ok {
		return false, wrapWhen("select_when", err)
	}
	kept := map[string]any{}
	for _, k := range p.keys {
		if v, ok := get(r.doc, k); ok {
			if err := set(kept, k, v); err != nil {
				return false, err
			}
		}
	}
	for k := range r.doc {
		delete(r.doc, k)
	}
	for k, v := range kept {
		r.doc[k] = v
	}
	return false, nil
}

// dropEvents is drop_events: drop the event when drop_when holds.
type dropEvents struct{ when condition }

func buildDropEvents(o *opts) processor {
	o.known([]string{"drop_when"}, map[string]string{
		"handle_failed_events": "an event whose drop_when cannot be evaluated always goes to the dead-letter queue"})
	return &dropEvents{when: o.cond("drop_when", true)}
}

func (p *dropEvents) process(r *record) (bool, error) {
	if p.when == nil {
		return false, nil
	}
	ok, err := p.when.Eval(r)
	return ok, wrapWhen("drop_when", err)
}

func wrapWhen(opt string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", opt, err)
}
