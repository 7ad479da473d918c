// Package processor runs Data Prepper processors (add_entries, rename_keys,
// date, parse_json, drop_events, …) on the documents of change events. A
// Chain is compiled once from the pipeline's processor list (Compile, which
// reports every bad option with its path) and applied to every event on every
// path — export, scan, stream, and verify's expected documents — so an item
// produces the same processed document wherever it comes from.
//
// Semantics that differ from Data Prepper, because ddbsync keeps an index
// equal to a table rather than forwarding a log: an event that drop_events
// drops becomes a delete of its document (a MODIFY that now matches
// drop_when must not leave the old document behind); a processor that fails
// on an event (a value it cannot convert, a date no pattern matches, JSON
// that does not parse, a condition that cannot be evaluated) fails the event,
// which the caller sends to the dead-letter queue, rather than passing it on
// unchanged.
package processor

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ddbsync/ddbsync/internal/change"
)

// Spec is one entry of a pipeline's processor list, as the config decodes it.
type Spec struct {
	Name    string
	Options map[string]any // nil when the processor has no options
}

// Problem is one thing wrong with a processor's options.
type Problem struct {
	Index int    // position of the processor in the list
	Path  string // option path inside the processor, e.g. "entries[0].key"; "" for the processor itself
	Msg   string
	// Unknown marks a processor name ddbsync does not implement.
	Unknown bool
}

// processor is one compiled processor. process changes r.doc in place and
// reports whether the event is dropped.
type processor interface {
	process(r *record) (drop bool, err error)
}

type step struct {
	name string
	p    processor
}

// Chain is a compiled processor list. A nil or empty Chain changes nothing.
// It holds no state between events and is safe for concurrent use.
type Chain struct {
	steps []step
}

// builders maps each supported processor name to its compiler.
func builders() map[string]func(o *opts) processor {
	return map[string]func(o *opts) processor{
		"add_entries":        buildAddEntries,
		"copy_values":        buildCopyValues,
		"convert_entry_type": buildConvert,
		"date":               buildDate,
		"delete_entries":     buildDeleteEntries,
		"drop_events":        buildDropEvents,
		"lowercase_string":   buildCase("lowercase_string"),
		"parse_json":         buildParseJSON,
		"rename_keys":        buildRenameKeys,
		"select_entries":     buildSelectEntries,
		"trim_string":        buildCase("trim_string"),
		"uppercase_string":   buildCase("uppercase_string"),
	}
}

// Names lists the supported processors, sorted.
func Names() []string {
	return []string{"add_entries", "convert_entry_type", "copy_values", "date", "delete_entries", "drop_events",
		"lowercase_string", "parse_json", "rename_keys", "select_entries", "trim_string", "uppercase_string"}
}

// Supported reports whether name is a processor ddbsync implements.
func Supported(name string) bool {
	_, ok := builders()[name]
	return ok
}

// Compile builds the chain for specs and returns every problem found. The
// chain is nil when there are problems or no processors.
func Compile(specs []Spec) (*Chain, []Problem) {
	var probs []Problem
	c := &Chain{}
	b := builders()
	for i, s := range specs {
		build, ok := b[s.Name]
		if !ok {
			probs = append(probs, Problem{Index: i, Unknown: true, Msg: fmt.Sprintf("unknown processor %q", s.Name)})
			continue
		}
		o := &opts{m: s.Options}
		p := build(o)
		for _, op := range o.probs {
			op.Index = i
			probs = append(probs, op)
		}
		c.steps = append(c.steps, step{name: s.Name, p: p})
	}
	if len(probs) > 0 || len(c.steps) == 0 {
		return nil, probs
	}
	return c, nil
}

// Len is the number of processors in the chain.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.steps)
}

// Apply runs the chain on one event, changing it in place:
//
//   - an index event gets its processed document; when a processor drops
//     it, it becomes a delete of the document (dropped is true);
//   - a delete event is placed by its processed document (the sink resolves
//     index, _id and routing from it); when processing it fails or drops
//     it, it keeps its document: a delete always goes through;
//   - the old image (OldDoc) is processed like a document, so that an item
//     that moves is deleted where its processed old image was placed; when
//     that fails or drops, the old image is cleared (no processed copy of it
//     was ever written).
//
// An error names the processor that failed; the event is then unchanged and
// must be dead-lettered, not written.
func (c *Chain) Apply(ev *change.Event) (dropped bool, err error) {
	if c.Len() == 0 {
		return false, nil
	}
	if ev.OldDoc != nil {
		old := ev.Old()
		if doc, drop, err := c.run(old, ev.OldDoc); err == nil && !drop {
			ev.OldDoc = doc
		} else {
			ev.OldDoc = nil
		}
	}
	doc, drop, err := c.run(ev, ev.Doc)
	if ev.Op == change.OpDelete {
		if err == nil && !drop {
			ev.SetDoc(doc)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ev.SetDoc(doc)
	if drop {
		ev.Op = change.OpDelete
	}
	return drop, nil
}

// run processes one document of ev. A dropped document comes back as
// processed up to the processor that dropped it.
func (c *Chain) run(ev *change.Event, doc []byte) ([]byte, bool, error) {
	m, err := decodeObject(doc)
	if err != nil {
		return nil, false, fmt.Errorf("processors: %w", err)
	}
	r := &record{doc: m, ev: ev}
	drop := false
	for i, s := range c.steps {
		d, err := s.p.process(r)
		if err != nil {
			return nil, false, fmt.Errorf("processor[%d] %s: %w", i, s.name, err)
		}
		if d {
			drop = true
			break
		}
	}
	out, err := appendJSON(make([]byte, 0, len(doc)+64), r.doc)
	if err != nil {
		return nil, false, fmt.Errorf("processors: encode the document: %w", err)
	}
	return out, drop, nil
}

// record is one document being processed and the event it belongs to. It
// is what conditions read (expr.Fields).
type record struct {
	doc map[string]any
	ev  *change.Event
}

// Field resolves a JSON pointer against the document being processed.
func (r *record) Field(ptr string) (any, bool) {
	k, err := parseKey(ptr)
	if err != nil {
		return nil, false
	}
	return get(r.doc, k)
}

// MetadataValue returns the event's metadata, typed as Data Prepper types
// it: versions and timestamps are numbers, ttl_delete a boolean.
func (r *record) MetadataValue(k string) (any, bool) {
	v, ok := r.ev.Metadata(k)
	if !ok {
		return nil, false
	}
	switch k {
	case change.MetaDocumentVersion, change.MetaEventTimestamp:
		return json.Number(v), true
	case change.MetaTTLDelete:
		b, _ := strconv.ParseBool(v)
		return b, true
	}
	return v, true
}

// HasTag reports false: ddbsync's events carry no tags.
func (r *record) HasTag(string) bool { return false }

// when evaluates an optional condition (nil: always true).
func (r *record) when(c condition) (bool, error) {
	if c == nil {
		return true, nil
	}
	return c.Eval(r)
}
