package ddbion

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestDecodeRefuses pins what is not a DynamoDB item: each input fails with
// a message saying what is wrong, never a silently changed value.
func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"float number", `{Item:{pk:"a",n:1.5e0}}`, "float"},
		{"symbol value", `{Item:{pk:abc}}`, "symbol has no DynamoDB type"},
		{"timestamp", `{Item:{pk:2024-01-01T}}`, "timestamp has no DynamoDB type"},
		{"sexp", `{Item:{pk:(a b)}}`, "sexp has no DynamoDB type"},
		{"unknown annotation", `{Item:{pk:"a",s:$dynamodb_XS::["x"]}}`, "unknown annotation $dynamodb_XS"},
		{"two annotations", `{Item:{pk:"a",s:a::b::["x"]}}`, "unexpected annotations a::b::"},
		{"annotation on a string", `{Item:{pk:"a",s:$dynamodb_SS::"x"}}`, "want a list"},
		{"empty set", `{Item:{pk:"a",s:$dynamodb_SS::[]}}`, "is empty"},
		{"number in a string set", `{Item:{pk:"a",s:$dynamodb_SS::["x",1.]}}`, "$dynamodb_SS[1]: an Ion decimal in a $dynamodb_SS"},
		{"string in a number set", `{Item:{pk:"a",s:$dynamodb_NS::["1"]}}`, "an Ion string in a $dynamodb_NS"},
		{"null in a set", `{Item:{pk:"a",s:$dynamodb_BS::[null]}}`, "null in a set"},
		{"no Item", `{Other:{pk:"a"}}`, "neither Item nor Keys"},
		{"record not a struct", `["x"]`, "not a struct"},
		{"Item not a struct", `{Item:"x"}`, "Item: an Ion string is not an item"},
		{"other version marker", `$ion_1_1 {Item:{pk:"a"}}`, "top-level symbol $ion_1_1"},
		{"exponent out of range", `{Item:{pk:"a",n:1d99999}}`, "exponent"},
		{"broken text", `{Item:{pk:"a",n:}}`, ""},
		{"unterminated", `{Item:{pk:"a"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(strings.NewReader(tt.in)).Next()
			if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestSkipCountsValues pins resumption: Skip passes whole records (not
// lines), version markers are not records, and the end is io.EOF.
func TestSkipCountsValues(t *testing.T) {
	in := "$ion_1_0 {Item:{pk:\"a\"}}\n$ion_1_0 {Item:{pk:\"b\",\nl:[1.,\n2.]}}\n$ion_1_0\n{Item:{pk:\"c\"}}\n"
	d := NewDecoder(strings.NewReader(in))
	if err := d.Skip(); err != nil {
		t.Fatal(err)
	}
	if err := d.Skip(); err != nil {
		t.Fatal(err)
	}
	l, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Item["pk"].(*types.AttributeValueMemberS); !ok || got.Value != "c" {
		t.Fatalf("third record: %+v", l.Item)
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last record: %v", err)
	}
	if err := NewDecoder(strings.NewReader("")).Skip(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty file: %v", err)
	}
}

// TestIncrementalRecord decodes an incremental export's record shape.
func TestIncrementalRecord(t *testing.T) {
	in := `$ion_1_0 {Metadata:{WriteTimestampMicros:1700000000123456.},Keys:{pk:"a"},NewImage:{pk:"a",n:2.},OldImage:{pk:"a",n:1.}}`
	l, err := NewDecoder(strings.NewReader(in)).Next()
	if err != nil {
		t.Fatal(err)
	}
	if l.WriteTimestampMicros != 1700000000123456 || l.Keys == nil || l.NewImage == nil || l.OldImage == nil || l.Item != nil {
		t.Fatalf("%+v", l)
	}
}
