package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// tableKey is a table's primary key with the attribute types, which turn a
// document's _id or body back into the key GetItem needs.
type tableKey struct {
	ddbjson.Key
	types map[string]types.ScalarAttributeType
}

// keyOf returns the primary-key attributes of an item.
func (k tableKey) keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{k.Partition: item[k.Partition]}
	if k.Sort != "" {
		out[k.Sort] = item[k.Sort]
	}
	return out
}

// value builds a key attribute of the given name from its canonical text.
func (k tableKey) value(name, text string) (types.AttributeValue, bool) {
	switch k.types[name] {
	case types.ScalarAttributeTypeS:
		return &types.AttributeValueMemberS{Value: text}, true
	case types.ScalarAttributeTypeN:
		if _, err := ddbjson.Number(text); err != nil {
			return nil, false
		}
		return &types.AttributeValueMemberN{Value: text}, true
	case types.ScalarAttributeTypeB:
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, false
		}
		return &types.AttributeValueMemberB{Value: b}, true
	}
	return nil, false
}

// fromID inverts the default document_id (primary_key, see
// ddbjson.DocumentID). It succeeds only when the key it builds gives back
// exactly id; a hashed _id does not invert (the natural key is then in the
// document only).
func (k tableKey) fromID(id string) (map[string]types.AttributeValue, bool) {
	pk, sk, ok := ddbjson.ParseID(id, k.Sort != "")
	if !ok {
		return nil, false
	}
	parts := []string{pk}
	if k.Sort != "" {
		parts = append(parts, sk)
	}
	key := map[string]types.AttributeValue{}
	names := []string{k.Partition, k.Sort}
	for i, p := range parts {
		v, ok := k.value(names[i], p)
		if !ok {
			return nil, false
		}
		key[names[i]] = v
	}
	if ids, err := k.KeyIDs(key); err != nil || ids.ID != id {
		return nil, false
	}
	return key, true
}

// fromDoc reads the key attributes from a document body (the item as
// JSON): strings for S and B (base64), numbers for N.
func (k tableKey) fromDoc(doc []byte) (map[string]types.AttributeValue, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return nil, false
	}
	key := map[string]types.AttributeValue{}
	for _, name := range []string{k.Partition, k.Sort} {
		if name == "" {
			continue
		}
		raw, ok := m[name]
		if !ok {
			return nil, false
		}
		var text string
		if k.types[name] == types.ScalarAttributeTypeN {
			var n json.Number
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if d.Decode(&n) != nil {
				return nil, false
			}
			text = n.String()
		} else if json.Unmarshal(raw, &text) != nil {
			return nil, false
		}
		v, ok := k.value(name, text)
		if !ok {
			return nil, false
		}
		key[name] = v
	}
	return key, true
}

// sameKey reports whether two keys hold the same values.
func (k tableKey) sameKey(a, b map[string]types.AttributeValue) bool {
	ia, err := k.KeyIDs(a)
	if err != nil {
		return false
	}
	ib, err := k.KeyIDs(b)
	return err == nil && ia.Partition == ib.Partition && ia.Sort == ib.Sort &&
		typeOf(a[k.Partition]) == typeOf(b[k.Partition]) && (k.Sort == "" || typeOf(a[k.Sort]) == typeOf(b[k.Sort]))
}

func typeOf(av types.AttributeValue) string {
	switch av.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	}
	return ""
}

// docKey derives the item key of a document found in the index: from its
// body when the body's key gives back the _id, else (default document_id
// only) from the _id, else (custom document_id) from the body. nil when
// none works: the document cannot be any item's.
func (k tableKey) docKey(id string, src []byte, idIsKey bool) map[string]types.AttributeValue {
	fromDoc, docOK := k.fromDoc(src)
	if docOK {
		if ids, err := k.KeyIDs(fromDoc); err == nil && ids.ID == id {
			return fromDoc
		}
	}
	if idIsKey {
		if key, ok := k.fromID(id); ok {
			return key
		}
		return nil
	}
	if docOK {
		return fromDoc
	}
	return nil
}
