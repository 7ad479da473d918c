package verify

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Fingerprint stands for a document's exact bytes: the first 16 bytes of
// their SHA-256. Only fingerprints are kept per item, so memory stays small
// for tables of millions of items.
type Fingerprint [16]byte

// FingerprintOf returns the fingerprint of a document's bytes.
func FingerprintOf(doc []byte) Fingerprint {
	sum := sha256.Sum256(doc)
	return Fingerprint(sum[:16])
}

// DocKey locates one document: its index and _id.
type DocKey struct {
	Index string
	ID    string
}

// Kind is the kind of a difference between the table and the index.
type Kind uint8

// The kinds of differences.
const (
	// Missing: an item has no document.
	Missing Kind = iota
	// Extra: a document has no item.
	Extra
	// Stale: the document's bytes differ from the item's conversion.
	Stale
)

// String returns "missing", "extra" or "stale".
func (k Kind) String() string {
	switch k {
	case Extra:
		return "extra"
	case Stale:
		return "stale"
	}
	return "missing"
}

// Difference is one document that does not match the table.
type Difference struct {
	Kind   Kind
	DocKey DocKey
	Reason string
}

// state is what one read saw of one DocKey: the item (converted and
// resolved to this DocKey) and the document.
type state struct {
	hasItem    bool
	itemFP     Fingerprint
	hasDoc     bool
	docFP      Fingerprint
	docVersion int64
}

// docMovedSince reports whether the document changed (appeared, went, or
// got another version) between an earlier state and this one.
func (s state) docMovedSince(earlier state) bool {
	return s.hasDoc != earlier.hasDoc || s.docVersion != earlier.docVersion
}

// kind classifies a state; ok is false when item and document agree.
func (s state) kind(bodies bool) (k Kind, differs bool) {
	switch {
	case s.hasItem && !s.hasDoc:
		return Missing, true
	case !s.hasItem && s.hasDoc:
		return Extra, true
	case s.hasItem && s.hasDoc && bodies && s.itemFP != s.docFP:
		return Stale, true
	}
	return 0, false
}

// candidate is a difference found by the bulk comparison, to be re-read.
type candidate struct {
	// key is where the document should be; its Index is "" when documents
	// are matched by _id alone (date-named indices).
	key       DocKey
	docIndex  string                          // where the document was last seen ("" when none)
	itemIndex string                          // where the item's document belongs ("" when unknown)
	first     state                           // as the scan and the index read saw it
	itemKey   map[string]types.AttributeValue // primary key to GetItem; nil when unknown
	routing   string                          // routing of the document, "" when none
	reason    string                          // set when it cannot be re-read or repaired
	last      state                           // the latest read
	item      map[string]types.AttributeValue // the item of the latest re-read (nil: none)
	readAt    time.Time                       // host time of the latest GetItem
	moving    bool                            // the last re-read saw something change
}

// index is where the candidate's document is, or should be.
func (cd *candidate) index() string {
	switch {
	case cd.docIndex != "":
		return cd.docIndex
	case cd.itemIndex != "":
		return cd.itemIndex
	}
	return cd.key.Index
}

// comparer holds the items' fingerprints while the index is read; each
// document read removes its item, so what is left at the end is missing.
type comparer struct {
	bodies bool // compare bodies (false when an ingest pipeline rewrites them)
	items  map[DocKey]Fingerprint
	diffs  []*candidate
	equal  int
}

func newComparer(bodies bool) *comparer {
	return &comparer{bodies: bodies, items: map[DocKey]Fingerprint{}}
}

// addItem records an item's document; false when another item already
// resolved to the same DocKey.
func (c *comparer) addItem(k DocKey, fp Fingerprint) bool {
	if _, dup := c.items[k]; dup {
		return false
	}
	c.items[k] = fp
	return true
}

// addDoc compares one document with its item and returns the new
// candidate, or nil when they agree.
func (c *comparer) addDoc(k DocKey, fp Fingerprint, version int64) *candidate {
	st := state{hasDoc: true, docFP: fp, docVersion: version}
	if ifp, ok := c.items[k]; ok {
		delete(c.items, k)
		st.hasItem, st.itemFP = true, ifp
	}
	if _, differs := st.kind(c.bodies); !differs {
		c.equal++
		return nil
	}
	cd := &candidate{key: k, first: st}
	c.diffs = append(c.diffs, cd)
	return cd
}

// finish turns the items no document claimed into missing candidates.
func (c *comparer) finish() []*candidate {
	keys := make([]DocKey, 0, len(c.items))
	for k := range c.items {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		c.diffs = append(c.diffs, &candidate{key: k, first: state{hasItem: true, itemFP: c.items[k]}})
		delete(c.items, k)
	}
	return c.diffs
}

func sortKeys(keys []DocKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Index != keys[j].Index {
			return keys[i].Index < keys[j].Index
		}
		return keys[i].ID < keys[j].ID
	})
}

// Compare compares the items' documents with the index's documents (both
// as fingerprints by DocKey) and returns every difference, sorted by kind
// then DocKey. It is the bulk comparison verify makes before re-checking.
func Compare(items, docs map[DocKey]Fingerprint) []Difference {
	c := newComparer(true)
	for k, fp := range items {
		c.addItem(k, fp)
	}
	keys := make([]DocKey, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		c.addDoc(k, docs[k], 0)
	}
	var out []Difference
	for _, cd := range c.finish() {
		k, _ := cd.first.kind(true)
		out = append(out, Difference{Kind: k, DocKey: cd.key, Reason: reasonOf(k, cd.first)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// reasonOf is the short reason of a difference.
func reasonOf(k Kind, s state) string {
	switch k {
	case Missing:
		return "item has no document"
	case Extra:
		return "document has no item"
	}
	if s.docVersion != 0 {
		return fmt.Sprintf("document (version %d) differs from the item", s.docVersion)
	}
	return "document differs from the item"
}
