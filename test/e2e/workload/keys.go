package workload

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KeySchema is the table's primary key: attribute names and scalar types
// (S, N or B). Sort is "" for a table without a sort key.
type KeySchema struct {
	Partition     string
	PartitionType types.ScalarAttributeType
	Sort          string
	SortType      types.ScalarAttributeType
}

// Key is one primary key and the natural Data Prepper _id text it has
// ("pk" or "pk|sk", numbers as given, binary as base64), before any
// hashing or encoding the product applies.
type Key struct {
	Attrs   map[string]types.AttributeValue
	Natural string
	Label   string // what makes the key hostile ("" for an ordinary key)
}

// keyPart is one key attribute value with its natural text.
type keyPart struct {
	av   types.AttributeValue
	text string
}

func sPart(v string) keyPart { return keyPart{sv(v), v} }
func nPart(v string) keyPart { return keyPart{nv(v), v} }
func bPart(v []byte) keyPart { return keyPart{bv(v), base64.StdEncoding.EncodeToString(v)} }

func (ks KeySchema) key(label string, pk, sk keyPart) Key {
	k := Key{Attrs: map[string]types.AttributeValue{ks.Partition: pk.av}, Natural: pk.text, Label: label}
	if ks.Sort != "" {
		k.Attrs[ks.Sort] = sk.av
		k.Natural += "|" + sk.text
	}
	return k
}

// ordinaryPart is the i-th ordinary value of a key attribute of type t.
// Numbers alternate integral and fractional forms.
func ordinaryPart(t types.ScalarAttributeType, prefix string, i int) keyPart {
	switch t {
	case types.ScalarAttributeTypeN:
		if i%2 == 1 {
			return nPart(fmt.Sprintf("%d.5", i))
		}
		return nPart(fmt.Sprint(i))
	case types.ScalarAttributeTypeB:
		return bPart([]byte(fmt.Sprintf("%s%05d", prefix, i)))
	default:
		return sPart(fmt.Sprintf("%s%05d", prefix, i))
	}
}

// Ordinary is the i-th ordinary key. With a sort key, 17 partitions share
// the key space, so partitions hold many items.
func (ks KeySchema) Ordinary(i int) Key {
	if ks.Sort == "" {
		return ks.key("", ordinaryPart(ks.PartitionType, "k", i), keyPart{})
	}
	return ks.key("", ordinaryPart(ks.PartitionType, "p", i%17), ordinaryPart(ks.SortType, "s", i))
}

// Special returns the hostile keys the schema's types allow:
//   - separators: with string pk and sk, ("a|b","c") and ("a","b|c"), whose
//     Data Prepper ids are both "a|b|c"; a '|' in a hash key;
//   - a key longer than OpenSearch's 512-byte _id limit (pk|sk > 512);
//   - a key that is literally "sha256:" + the hex hash of that long key, the
//     _id the product gives the long one;
//   - unicode, URL-hostile characters, extreme numbers, binary with 0x00,
//     0xff and '|' bytes.
func (ks KeySchema) Special() []Key {
	var out []Key
	pt, st := ks.PartitionType, ks.SortType
	if ks.Sort == "" {
		st = ""
	}
	// Long: the natural _id exceeds 512 bytes.
	var long Key
	switch {
	case pt == types.ScalarAttributeTypeS && (st == "" || st == types.ScalarAttributeTypeN):
		long = ks.key("long", sPart(strings.Repeat("L", 600)), anyPart(st, 1))
	case pt == types.ScalarAttributeTypeB:
		long = ks.key("long", bPart([]byte(strings.Repeat("\xfeB|", 140))), anyPart(st, 1))
	case st == types.ScalarAttributeTypeS:
		long = ks.key("long", anyPart(pt, 1), sPart(strings.Repeat("L", 600)))
	case st == types.ScalarAttributeTypeB:
		long = ks.key("long", anyPart(pt, 1), bPart([]byte(strings.Repeat("\xfeB|", 140))))
	}
	if long.Attrs != nil {
		out = append(out, long)
	}
	switch {
	case pt == types.ScalarAttributeTypeS && st == types.ScalarAttributeTypeS:
		out = append(out,
			ks.key("separator", sPart("a|b"), sPart("c")),
			ks.key("separator", sPart("a"), sPart("b|c")),
			ks.key("separator", sPart("|"), sPart("|")),
			ks.key("separator", sPart("a||b"), sPart("x")),
			ks.key("separator", sPart("a"), sPart("|b|x")),
		)
	case pt == types.ScalarAttributeTypeS && st == "":
		out = append(out, ks.key("separator", sPart("a|b|c"), keyPart{}), ks.key("separator", sPart("|"), keyPart{}),
			ks.key("separator", sPart("trail|"), keyPart{}))
	case pt == types.ScalarAttributeTypeS:
		out = append(out, ks.key("separator", sPart("a|b"), anyPart(st, 2)), ks.key("separator", sPart("a|b|"), anyPart(st, 3)))
	case st == types.ScalarAttributeTypeS:
		out = append(out, ks.key("separator", anyPart(pt, 2), sPart("b|c")), ks.key("separator", anyPart(pt, 3), sPart("|")))
	}
	// The literal hashed-id key, where the schema lets a key text take that form.
	if long.Attrs != nil {
		h := sha256Key(long.Natural)
		switch {
		case pt == types.ScalarAttributeTypeS && st == "":
			out = append(out, ks.key("sha256", sPart(h), keyPart{}))
		case pt == types.ScalarAttributeTypeS:
			out = append(out, ks.key("sha256", sPart(h), anyPart(st, 4)))
		case st == types.ScalarAttributeTypeS:
			out = append(out, ks.key("sha256", anyPart(pt, 4), sPart(h)))
		}
	}
	// Values at the edges of each type.
	edge := func(t types.ScalarAttributeType) []keyPart {
		switch t {
		case types.ScalarAttributeTypeN:
			return []keyPart{nPart("0"), nPart("-1"), nPart("1E-130"), nPart("-9.99E+125"), nPart("9.99E+125"),
				nPart("12345678901234567890123456789012345678"), nPart("9223372036854775808"), nPart("-0.000001")}
		case types.ScalarAttributeTypeB:
			return []keyPart{bPart([]byte{0}), bPart([]byte{0xff, '|'}), bPart([]byte{0xfb, 0xff, 0xbf}), bPart([]byte("sha256:"))}
		default:
			return []keyPart{sPart("ключ☃🎉"), sPart("q?x#y%z/w&v=1"), sPart(" sp ace "), sPart("\u2028\t"), sPart("_doc")}
		}
	}
	for i, p := range edge(pt) {
		out = append(out, ks.key("edge", p, anyPart(st, 10+i)))
	}
	if st != "" {
		for i, p := range edge(st) {
			out = append(out, ks.key("edge", anyPart(pt, 20+i), p))
		}
	}
	return out
}

// anyPart is an ordinary value of type t ("" = no such attribute).
func anyPart(t types.ScalarAttributeType, i int) keyPart {
	if t == "" {
		return keyPart{}
	}
	return ordinaryPart(t, "e", i)
}
