package ddbjson

import (
	"strings"
	"testing"
)

type keyText struct{ pk, sk string }

// TestDocumentIDForms pins the _id of each kind of key.
func TestDocumentIDForms(t *testing.T) {
	hashed := HashID(strings.Repeat("a", 600))
	tests := []struct {
		name      string
		pk, sk    string
		composite bool
		want      string
	}{
		{"plain pk", "a", "", false, "a"},
		{"plain pk with pipe (hash-only table)", "a|b", "", false, "a|b"},
		{"plain pk|sk", "a", "b", true, "a|b"},
		{"pipe in sk stays plain", "a", "b|c", true, "a|b|c"},
		{"pipe in pk is escaped", "a|b", "c", true, "sha256:~a%7Cb|c"},
		{"percent escaped with pipe", "50%|x", "y", true, "sha256:~50%25%7Cx|y"},
		{"percent alone stays plain", "50%", "y", true, "50%|y"},
		{"looks like a hashed id", hashed, "", false, "sha256:~" + hashed},
		{"looks like a hashed id, composite", hashed, "s", true, "sha256:~" + hashed + "|s"},
		{"looks like an escaped id", "sha256:~x", "", false, "sha256:~sha256:~x"},
		{"bare prefix", "sha256:", "", false, "sha256:~sha256:"},
		{"prefix elsewhere stays plain", "xsha256:", "", false, "xsha256:"},
		{"512 bytes kept", strings.Repeat("e", 255), strings.Repeat("f", 256), true, strings.Repeat("e", 255) + "|" + strings.Repeat("f", 256)},
		{"513 bytes hashed", strings.Repeat("d", 511), "x", true, HashID(strings.Repeat("d", 511) + "|x")},
		{"long escaped hashed over the escaped form", strings.Repeat("|", 200), "x", true, HashID("sha256:~" + strings.Repeat("%7C", 200) + "|x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DocumentID(tt.pk, tt.sk, tt.composite)
			if got != tt.want {
				t.Fatalf("DocumentID(%q, %q, %v) = %q, want %q", tt.pk, tt.sk, tt.composite, got, tt.want)
			}
			pk, sk, ok := ParseID(got, tt.composite)
			if IsHashedID(got) {
				if ok {
					t.Fatalf("ParseID decoded a hashed id to %q %q", pk, sk)
				}
				return
			}
			if !ok || pk != tt.pk || sk != tt.sk {
				t.Fatalf("ParseID(%q) = %q, %q, %v; want %q, %q", got, pk, sk, ok, tt.pk, tt.sk)
			}
		})
	}
}

// TestDocumentIDCollisionClasses enumerates the keys that collided under
// plain "pk|sk" and "sha256:" hashing, and checks every pair differs.
func TestDocumentIDCollisionClasses(t *testing.T) {
	long := strings.Repeat("x", 600)
	classes := []struct {
		name      string
		composite bool
		keys      []keyText
	}{
		{"separator moves between pk and sk", true, []keyText{{"a|b", "c"}, {"a", "b|c"}, {"a|b|c", "d"}, {"a", "b|c|d"}, {"a|b", "c|d"}}},
		{"escaped text equals another pk", true, []keyText{{"a|b", "c"}, {"sha256:~a%7Cb", "c"}, {"a%7Cb", "c"}, {"a%|b", "c"}, {"a%25|b", "c"}}},
		{"hash-only key equal to a hashed long key", false, []keyText{{long, ""}, {HashID(long), ""}, {"sha256:~" + HashID(long), ""}}},
		{"composite key equal to a hashed long key", true, []keyText{{long, "s"}, {HashID(long + "|s"), ""}, {HashID(long + "|s")[:20], HashID(long + "|s")[20:]}}},
		{"long keys hashed from plain and escaped forms", true, []keyText{{strings.Repeat("|", 300), "s"}, {"sha256:~" + strings.Repeat("%7C", 300), "s"}, {strings.Repeat("%7C", 300), "s"}}},
		{"hash-only key equal to an escaped id", false, []keyText{{"sha256:x", ""}, {"sha256:~sha256:x", ""}, {"sha256:~x", ""}}},
	}
	for _, c := range classes {
		t.Run(c.name, func(t *testing.T) {
			seen := map[string]keyText{}
			for _, k := range c.keys {
				id := DocumentID(k.pk, k.sk, c.composite)
				if len(id) > MaxIDBytes {
					t.Fatalf("id of %q %q is %d bytes", k.pk, k.sk, len(id))
				}
				if other, dup := seen[id]; dup {
					t.Fatalf("keys %q and %q share _id %q", other, k, id)
				}
				seen[id] = k
			}
		})
	}
}

// TestParseIDRefuses checks that text DocumentID never produces does not
// decode (so verify cannot mistake it for a key).
func TestParseIDRefuses(t *testing.T) {
	tests := []struct {
		id        string
		composite bool
	}{
		{HashID("x"), false},
		{HashID("x"), true},
		{"sha256:abc", false},     // should have been escaped
		{"nopipe", true},          // composite without separator
		{"sha256:~a|b|c", true},   // decodes to ("a", "b|c"), whose id is plain "a|b|c"
		{"sha256:~abc|d", true},   // pk "abc" needs no escaping
		{"sha256:~a%7cb|c", true}, // lower-case escape is not canonical
		{"sha256:~abc", false},    // "abc" needs no escaping
		{"", false},
	}
	for _, tt := range tests {
		if pk, sk, ok := ParseID(tt.id, tt.composite); ok {
			t.Errorf("ParseID(%q, %v) = %q, %q; want a refusal", tt.id, tt.composite, pk, sk)
		}
	}
}

// FuzzDocumentIDInjective checks that two different keys never share an
// _id and that ids decode back to their key.
func FuzzDocumentIDInjective(f *testing.F) {
	f.Add("a|b", "c", "a", "b|c", true)
	f.Add("sha256:", "", "sha256:~", "", false)
	f.Add("a%7Cb", "c", "a|b", "c", true)
	f.Add(strings.Repeat("|", 200), "x", strings.Repeat("%7C", 200), "x", true)
	f.Fuzz(func(t *testing.T, pk1, sk1, pk2, sk2 string, composite bool) {
		if pk1 == "" || pk2 == "" {
			return // DynamoDB key values are never empty
		}
		if !composite {
			sk1, sk2 = "", ""
		}
		id1, id2 := DocumentID(pk1, sk1, composite), DocumentID(pk2, sk2, composite)
		if (pk1 != pk2 || sk1 != sk2) && id1 == id2 {
			t.Fatalf("keys (%q,%q) and (%q,%q) share _id %q", pk1, sk1, pk2, sk2, id1)
		}
		if len(id1) > MaxIDBytes {
			t.Fatalf("id of %d bytes", len(id1))
		}
		if pk, sk, ok := ParseID(id1, composite); !IsHashedID(id1) && (!ok || pk != pk1 || sk != sk1) {
			t.Fatalf("ParseID(%q) = %q %q %v, want %q %q", id1, pk, sk, ok, pk1, sk1)
		}
	})
}
