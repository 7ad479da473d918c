package bulk

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// Date patterns in the index name (`logs-%{yyyy.MM.dd}`) are evaluated
// against each change's time: the stream record's
// ApproximateCreationDateTime, or the backfill time for backfilled items.
// No time is the same for every version of an item and known at each
// change (the old image carries no write time), so a later version of an
// item can belong to another index than its earlier copy. ddbsync does not
// guess: before writing a batch it lists the existing indices the pattern
// produced (for the item's other placement values) and looks each changed
// item up in them with a realtime multi-get; every copy found outside the
// item's new index is deleted with the event's own version, like the old
// copy of a moved item (ResolveAll), so order and replays are safe. Copies
// written earlier in the same batch are deleted without a lookup.

// Locator finds existing documents; the opensearch sink implements it.
type Locator interface {
	// Indices returns the names of the existing indices that match the
	// wildcard expression (none when nothing matches).
	Indices(ctx context.Context, wildcard string) ([]string, error)
	// Found reports, for each document, whether it exists now.
	Found(ctx context.Context, docs []DocRef) ([]bool, error)
}

// DocRef addresses one document.
type DocRef struct{ Index, ID, Routing string }

func (d DocRef) key() docKey { return docKey{d.Index, d.ID, d.Routing} }

// datePlaceholder stands for a date pattern's text while the index name is
// normalized; it is not a character normalize_index removes.
const datePlaceholder = "\x00"

// datedIndex is the set of names the index template gives one item for
// every time.
type datedIndex struct {
	wildcard string         // for listing: dates as '*'
	re       *regexp.Regexp // exact: dates as digit runs of their layout
}

// datedIndexOf renders the index template for src with its dates open.
func (r *Resolver) datedIndexOf(src expr.Source, cache map[string]datedIndex) (datedIndex, error) {
	s, err := r.index.EvalDates(src, datePlaceholder)
	if err != nil {
		return datedIndex{}, err
	}
	s = r.NormalizeIndex(s)
	if d, ok := cache[s]; ok {
		return d, nil
	}
	chunks := strings.Split(s, datePlaceholder)
	layouts := r.index.DateLayouts()
	if len(chunks) != len(layouts)+1 {
		return datedIndex{}, fmt.Errorf("index %q: a date pattern was lost normalizing %q", r.index, s)
	}
	var re strings.Builder
	re.WriteString("^")
	for i, c := range chunks {
		re.WriteString(regexp.QuoteMeta(c))
		if i < len(layouts) {
			re.WriteString(layoutRegexp(layouts[i]))
		}
	}
	re.WriteString("$")
	d := datedIndex{wildcard: strings.Join(chunks, "*"), re: regexp.MustCompile(re.String())}
	cache[s] = d
	return d, nil
}

// layoutRegexp matches what a Go layout made of the fields expr accepts
// (2006, 06, 01, 02, 15, 04, 05) and punctuation renders.
func layoutRegexp(layout string) string {
	var b strings.Builder
	for layout != "" {
		switch {
		case strings.HasPrefix(layout, "2006"):
			b.WriteString(`[0-9]{4}`)
			layout = layout[4:]
		case len(layout) >= 2 && strings.Contains("06 01 02 15 04 05", layout[:2]) && layout[0] >= '0' && layout[0] <= '9':
			b.WriteString(`[0-9]{2}`)
			layout = layout[2:]
		default:
			b.WriteString(regexp.QuoteMeta(layout[:1]))
			layout = layout[1:]
		}
	}
	return b.String()
}

// PrepareContext is Prepare, plus, when the index name has a date pattern
// and loc is not nil, the deletes of the items' copies in the pattern's
// other indices (see above).
func (r *Resolver) PrepareContext(ctx context.Context, events []change.Event, loc Locator) (Batch, error) {
	if loc == nil || !r.index.HasDate() {
		return r.Prepare(events)
	}
	type probe struct {
		ev   int
		idx  datedIndex
		id   string
		rout string
	}
	cache := map[string]datedIndex{}
	var probes []probe
	wildcards := map[string][]string{}
	for i := range events {
		ev := &events[i]
		var src expr.Source = ev
		if old := ev.Old(); old != nil {
			src = old
		}
		var at Item
		if _, err := r.place(&at, src); err != nil {
			continue // no copy can have been placed from it
		}
		d, err := r.datedIndexOf(src, cache)
		if err != nil {
			return Batch{}, err
		}
		probes = append(probes, probe{ev: i, idx: d, id: at.ID, rout: at.Routing})
		wildcards[d.wildcard] = nil
	}
	for w := range wildcards {
		names, err := loc.Indices(ctx, w)
		if err != nil {
			return Batch{}, fmt.Errorf("list indices %s: %w", w, err)
		}
		wildcards[w] = names
	}
	var refs []DocRef
	seen := map[docKey]int{}
	owner := make([][]int, len(probes)) // probe → indexes in refs
	for p, pr := range probes {
		for _, name := range wildcards[pr.idx.wildcard] {
			if !pr.idx.re.MatchString(name) {
				continue // another index that the wildcard happens to match
			}
			ref := DocRef{Index: name, ID: pr.id, Routing: pr.rout}
			n, ok := seen[ref.key()]
			if !ok {
				n = len(refs)
				seen[ref.key()] = n
				refs = append(refs, ref)
			}
			owner[p] = append(owner[p], n)
		}
	}
	var found []bool
	if len(refs) > 0 {
		var err error
		if found, err = loc.Found(ctx, refs); err != nil {
			return Batch{}, fmt.Errorf("look up %d documents in %d indices: %w", len(refs), len(wildcards), err)
		}
	}
	extra := map[int][]DocRef{}
	for p, pr := range probes {
		for _, n := range owner[p] {
			if found[n] {
				extra[pr.ev] = append(extra[pr.ev], refs[n])
			}
		}
	}
	return r.prepare(events, extra)
}
