package verify

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// readIndex reads every document of names into cmp; onDoc counts each.
// Documents are compared as they arrive, except with byID, where only the
// highest version of each _id is compared and the older copies (in indices
// of earlier dates) are counted and returned.
func (c *checker) readIndex(ctx context.Context, names []string, cmp *comparer, sc *scanned, onDoc func()) (older int, err error) {
	add := func(h Hit, fp Fingerprint, key map[string]types.AttributeValue) {
		cd := cmp.addDoc(c.docKey(h.Index, h.ID), fp, h.Version)
		if cd == nil {
			return
		}
		cd.routing, cd.docIndex = h.Routing, h.Index
		if cd.first.hasItem {
			cd.itemKey = sc.keyFor(c.key, cd.key)
		} else {
			cd.itemKey = key
		}
	}
	if !c.byID {
		return 0, c.idx.Read(ctx, names, func(h Hit) error {
			onDoc()
			add(h, FingerprintOf(h.Source), c.itemKeyOfDoc(cmp, h))
			return nil
		})
	}
	type latest struct {
		hit Hit // without its source
		fp  Fingerprint
		key map[string]types.AttributeValue
	}
	byID := map[string]*latest{}
	err = c.idx.Read(ctx, names, func(h Hit) error {
		onDoc()
		if cur, ok := byID[h.ID]; ok {
			older++
			if cur.hit.Version >= h.Version {
				return nil
			}
		}
		l := &latest{fp: FingerprintOf(h.Source), key: c.itemKeyOfDoc(cmp, h)}
		l.hit, l.hit.Source = h, nil
		byID[h.ID] = l
		return nil
	})
	if err != nil {
		return 0, err
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := byID[id]
		add(l.hit, l.fp, l.key)
	}
	return older, nil
}

// itemKeyOfDoc derives the item key of a document that no scanned item
// claims (a candidate extra); nil otherwise, or when it cannot.
func (c *checker) itemKeyOfDoc(cmp *comparer, h Hit) map[string]types.AttributeValue {
	if _, ok := cmp.items[c.docKey(h.Index, h.ID)]; ok {
		return nil
	}
	return c.key.docKey(h.ID, json.RawMessage(h.Source), c.idIsKey)
}
