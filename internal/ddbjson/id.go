package ddbjson

import (
	"strings"
)

// The document _id of an item, from the canonical texts of its key values
// (KeyText). Most keys keep Data Prepper's primary_key, "pk" or "pk|sk";
// the keys for which that text is ambiguous are escaped inside the prefix
// that hashed ids use, and any _id over MaxIDBytes is hashed:
//
//	plain    natural id                        pk, or pk|sk
//	escaped  "sha256:~" + esc(pk) [+ "|" + sk]  composite key whose pk holds '|',
//	                                            or natural id starting "sha256:"
//	hashed   "sha256:" + hex(sha256(x))         x = the plain or escaped id when
//	                                            it is over MaxIDBytes
//
// esc replaces '%' with "%25" and '|' with "%7C", so esc(pk) holds no '|'.
//
// Why distinct keys of one table always get distinct ids (the table's key
// schema, hence "composite or not", is fixed):
//
//   - plain ids never start with "sha256:" (such keys are escaped); escaped
//     ids have '~' at byte 7, hashed ids a hex digit there. The three forms
//     are disjoint.
//   - plain, partition key only: the id is pk itself.
//   - plain, composite: pk holds no '|' (such keys are escaped), so cutting
//     the id at its first '|' gives back pk and sk (sk may hold '|').
//   - escaped: strip the prefix, cut at the first '|' (esc(pk) has none),
//     unescape pk; esc is injective because '%' itself is escaped.
//   - hashed: x is injective by the lines above, and plain and escaped x
//     never coincide (only escaped x start with "sha256:~"), so two keys
//     share a hashed id only through a SHA-256 collision.
//
// Numbers and binary values never hold '|' (their canonical text is digits
// or base64), so only string keys are ever escaped. Plain and escaped ids
// decode back to the key texts (ParseID); hashed ids do not — the key is in
// the document body.
const (
	hashPrefix    = "sha256:"
	escapedPrefix = hashPrefix + "~"
)

// idEscaper and idUnescaper are stateless and safe to share.
var (
	idEscaper   = strings.NewReplacer("%", "%25", "|", "%7C")
	idUnescaper = strings.NewReplacer("%25", "%", "%7C", "|")
)

// DocumentID returns the _id of the key with canonical texts pk and sk
// (sk is ignored when composite is false), per the rule above.
func DocumentID(pk, sk string, composite bool) string {
	var id string
	switch {
	case composite && (strings.Contains(pk, "|") || strings.HasPrefix(pk, hashPrefix)):
		id = escapedPrefix + idEscaper.Replace(pk) + "|" + sk
	case composite:
		id = pk + "|" + sk
	case strings.HasPrefix(pk, hashPrefix):
		id = escapedPrefix + idEscaper.Replace(pk)
	default:
		id = pk
	}
	if len(id) > MaxIDBytes {
		return HashID(id)
	}
	return id
}

// IsHashedID reports whether id has the form of a hashed _id:
// "sha256:" and 64 lower-case hex digits.
func IsHashedID(id string) bool {
	if len(id) != len(hashPrefix)+64 || !strings.HasPrefix(id, hashPrefix) {
		return false
	}
	for _, r := range id[len(hashPrefix):] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// ParseID inverts DocumentID: it returns the key texts of a plain or
// escaped _id. ok is false for a hashed _id and for text DocumentID never
// produces (the caller should still check that the key it builds gives
// back id, e.g. for a number key that is not canonical).
func ParseID(id string, composite bool) (pk, sk string, ok bool) {
	if rest, escaped := strings.CutPrefix(id, escapedPrefix); escaped {
		if composite {
			rest, sk, ok = strings.Cut(rest, "|")
			if !ok {
				return "", "", false
			}
		}
		pk = idUnescaper.Replace(rest)
	} else if composite {
		if pk, sk, ok = strings.Cut(id, "|"); !ok {
			return "", "", false
		}
	} else {
		pk = id
	}
	// Only the canonical form of a key decodes: this refuses hashed ids,
	// plain text that should have been escaped and non-canonical escapes.
	if pk == "" || DocumentID(pk, sk, composite) != id {
		return "", "", false
	}
	return pk, sk, true
}
