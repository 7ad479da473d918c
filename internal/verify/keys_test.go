package verify

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

func TestKeyFromIDAndDoc(t *testing.T) {
	S, N, B := types.ScalarAttributeTypeS, types.ScalarAttributeTypeN, types.ScalarAttributeTypeB
	tests := []struct {
		name   string
		key    tableKey
		id     string
		doc    string
		idOK   bool
		docOK  bool
		wantID string // the _id the derived key gives back
	}{
		{name: "string pk", key: tk("pk", S, "", ""), id: "a b", doc: `{"pk":"a b","x":1}`, idOK: true, docOK: true, wantID: "a b"},
		{name: "number pk", key: tk("pk", N, "", ""), id: "12.5", doc: `{"pk":12.5}`, idOK: true, docOK: true, wantID: "12.5"},
		{name: "binary pk", key: tk("pk", B, "", ""), id: "AAEC", doc: `{"pk":"AAEC"}`, idOK: true, docOK: true, wantID: "AAEC"},
		{name: "pk and sk", key: tk("pk", S, "sk", N), id: "a|7", doc: `{"pk":"a","sk":7}`, idOK: true, docOK: true, wantID: "a|7"},
		{name: "pipe inside sk", key: tk("pk", S, "sk", S), id: "a|b|c", doc: `{"pk":"a","sk":"b|c"}`, idOK: true, docOK: true, wantID: "a|b|c"},
		{name: "pipe inside pk is escaped", key: tk("pk", S, "sk", S), id: "sha256:~a%7Cb|c", doc: `{"pk":"a|b","sk":"c"}`, idOK: true, docOK: true, wantID: "sha256:~a%7Cb|c"},
		{name: "unescaped pipe inside pk is not an _id ddbsync writes", key: tk("pk", S, "sk", S), id: "sha256:~a|b|c", doc: `{"pk":"a","sk":"b|c"}`, idOK: false, docOK: true, wantID: "a|b|c"},
		{name: "key shaped like a hashed _id", key: tk("pk", S, "", ""), id: "sha256:~" + ddbjson.HashID("x"), doc: `{"pk":"` + ddbjson.HashID("x") + `"}`, idOK: true, docOK: true, wantID: "sha256:~" + ddbjson.HashID("x")},
		{name: "not a number", key: tk("pk", N, "", ""), id: "abc", doc: `{"pk":"abc"}`, idOK: false, docOK: false},
		{name: "hashed _id", key: tk("pk", S, "", ""), id: ddbjson.HashID(strings.Repeat("x", 600)), doc: `{"pk":"` + strings.Repeat("x", 600) + `"}`, idOK: false, docOK: true, wantID: ddbjson.HashID(strings.Repeat("x", 600))},
		{name: "corrupted body", key: tk("pk", S, "", ""), id: "a", doc: `{"other":1}`, idOK: true, docOK: false, wantID: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, ok := tt.key.fromID(tt.id)
			if ok != tt.idOK {
				t.Fatalf("fromID(%q) ok = %v, want %v", tt.id, ok, tt.idOK)
			}
			if ok {
				if ids, _ := tt.key.KeyIDs(key); ids.ID != tt.wantID {
					t.Fatalf("fromID key gives _id %q, want %q", ids.ID, tt.wantID)
				}
			}
			key, ok = tt.key.fromDoc([]byte(tt.doc))
			if ok != tt.docOK {
				t.Fatalf("fromDoc(%s) ok = %v, want %v", tt.doc, ok, tt.docOK)
			}
			if ok {
				if ids, _ := tt.key.KeyIDs(key); ids.ID != tt.wantID {
					t.Fatalf("fromDoc key gives _id %q, want %q", ids.ID, tt.wantID)
				}
			}
		})
	}
}

func tk(pk string, pt types.ScalarAttributeType, sk string, st types.ScalarAttributeType) tableKey {
	k := tableKey{Key: ddbjson.Key{Partition: pk, Sort: sk}, types: map[string]types.ScalarAttributeType{pk: pt}}
	if sk != "" {
		k.types[sk] = st
	}
	return k
}
