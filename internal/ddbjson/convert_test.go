package ddbjson

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenItems pins the one document every path must produce: the export
// line, a scan page (dynamodb types) and a stream image (streams types)
// all yield the bytes in <case>.golden.
func TestGoldenItems(t *testing.T) {
	files, err := filepath.Glob("testdata/items/*.ddb.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ddb.json")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// Export path: a data line wraps the item.
			line, err := DecodeExportLine(append(append([]byte(`{"Item":`), bytes.TrimSpace(in)...), '}'))
			if err != nil {
				t.Fatalf("decode export line: %v", err)
			}
			fromExport, err := Item(line.Item)
			if err != nil {
				t.Fatal(err)
			}
			// Stream path: the same item as a Streams image.
			streamImage := toStream(t, line.Item)
			converted, err := FromStreamItem(streamImage)
			if err != nil {
				t.Fatal(err)
			}
			fromStream, err := Item(converted)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromExport, fromStream) {
				t.Fatalf("export and stream paths differ:\n%s\n%s", fromExport, fromStream)
			}
			if !json.Valid(fromExport) {
				t.Fatalf("invalid JSON: %s", fromExport)
			}
			golden := filepath.Join("testdata/items", name+".golden")
			if *update {
				if err := os.WriteFile(golden, append(fromExport, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got := string(fromExport) + "\n"; got != string(want) {
				t.Fatalf("document differs from %s:\ngot  %s\nwant %s", golden, got, want)
			}
		})
	}
}

func toStream(t *testing.T, m map[string]types.AttributeValue) map[string]st.AttributeValue {
	t.Helper()
	out := map[string]st.AttributeValue{}
	for k, v := range m {
		out[k] = toStreamValue(t, v)
	}
	return out
}

func toStreamValue(t *testing.T, av types.AttributeValue) st.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return &st.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &st.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &st.AttributeValueMemberB{Value: v.Value}
	case *types.AttributeValueMemberBOOL:
		return &st.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &st.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &st.AttributeValueMemberSS{Value: v.Value}
	case *types.AttributeValueMemberNS:
		return &st.AttributeValueMemberNS{Value: v.Value}
	case *types.AttributeValueMemberBS:
		return &st.AttributeValueMemberBS{Value: v.Value}
	case *types.AttributeValueMemberL:
		l := make([]st.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = toStreamValue(t, e)
		}
		return &st.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &st.AttributeValueMemberM{Value: toStream(t, v.Value)}
	}
	t.Fatalf("unexpected %T", av)
	return nil
}

func TestNumber(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "0", want: "0"},
		{in: "-0", want: "0"},
		{in: "007", want: "7"},
		{in: "1.50", want: "1.5"},
		{in: "-1.50", want: "-1.5"},
		{in: "+3", want: "3"},
		{in: ".5", want: "0.5"},
		{in: "5.", want: "5"},
		{in: "1E+2", want: "100"},
		{in: "1.5e3", want: "1500"},
		{in: "1e-3", want: "0.001"},
		{in: "123.456E-1", want: "12.3456"},
		{in: "12345678901234567890123456789012345678", want: "12345678901234567890123456789012345678"},
		{in: "1E-130", want: "0." + strings.Repeat("0", 129) + "1"},
		{in: "9.9999999999999999999999999999999999999E+125", want: "99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
		{in: "", err: "not a decimal"},
		{in: "abc", err: "not a decimal"},
		{in: "1e", err: "bad exponent"},
		{in: "1.2.3", err: "not a decimal"},
		{in: "NaN", err: "not a decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Number(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Number(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Number(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestKeyIDs(t *testing.T) {
	long := strings.Repeat("x", 600)
	tests := []struct {
		name string
		key  Key
		item map[string]types.AttributeValue
		want IDs
		err  string
	}{
		{name: "partition only", key: Key{Partition: "pk"},
			item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
			want: IDs{Partition: "a", ID: "a"}},
		{name: "composite with pipes", key: Key{Partition: "pk", Sort: "sk"},
			item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a|b"}, "sk": &types.AttributeValueMemberS{Value: "c|d"}},
			want: IDs{Partition: "a|b", Sort: "c|d", ID: "sha256:~a%7Cb|c|d"}}, // escaped: see DocumentID
		{name: "number sort key", key: Key{Partition: "pk", Sort: "sk"},
			item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberN{Value: "1.50"}},
			want: IDs{Partition: "a", Sort: "1.5", ID: "a|1.5"}},
		{name: "binary key", key: Key{Partition: "pk"},
			item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberB{Value: []byte{0, 1, 255}}},
			want: IDs{Partition: "AAH/", ID: "AAH/"}},
		{name: "long id hashed", key: Key{Partition: "pk"},
			item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: long}},
			want: IDs{Partition: long, ID: HashID(long)}},
		{name: "missing key", key: Key{Partition: "pk"},
			item: map[string]types.AttributeValue{}, err: `partition key "pk": missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.KeyIDs(tt.item)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			if len(got.ID) > MaxIDBytes {
				t.Fatalf("id longer than %d", MaxIDBytes)
			}
		})
	}
}

func TestDecodeIncrementalExportLine(t *testing.T) {
	line := `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000123456"}},"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"v":{"N":"1"}}}`
	got, err := DecodeExportLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if got.WriteTimestampMicros != 1700000000123456 || got.Keys == nil || got.NewImage == nil || got.OldImage != nil {
		t.Fatalf("unexpected %+v", got)
	}
	if _, err := DecodeExportLine([]byte(`{"Item":{"pk":{"X":"1"}}}`)); err == nil || !strings.Contains(err.Error(), `unknown attribute type "X"`) {
		t.Fatalf("want unknown type error, got %v", err)
	}
}

func TestMarshalItemRoundTrip(t *testing.T) {
	in, err := os.ReadFile("testdata/items/all_types.ddb.json")
	if err != nil {
		t.Fatal(err)
	}
	item, err := DecodeItem(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := MarshalItem(item)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeItem(out)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Item(item)
	b, _ := Item(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip changed the item:\n%s\n%s", a, b)
	}
}

// TestParserAgreesWithOracle: the one-pass parser decodes every golden
// input and a set of tricky lines exactly as encoding/json did.
func TestParserAgreesWithOracle(t *testing.T) {
	inputs := []string{
		`{}`,
		`{"a":{"S":"x"}}`,
		` { "a" : { "S" : "esc \" \\ \/ \b\f\n\r\t \u00e9 \ud83c\udf89 \ud800 x" } } `,
		`{"a":{"N":"1E+3"},"b":{"BOOL":false},"c":{"NULL":true},"d":{"L":[]},"e":{"M":{}}}`,
		`{"a":{"BS":["AQ==",""]},"b":{"SS":[]},"c":{"NS":["1","2"]}}`,
		`{"a":{"L":[{"M":{"x":{"L":[{"S":"deep"}]}}}]}}`,
		`{"a":{"S":"x"}`,
		`{"a":{"S":"x","N":"1"}}`,
		`{"a":{"Q":"x"}}`,
		`{"a":{"B":"not base64!"}}`,
		`{"a":{"S":"x"}} trailing`,
		`{"a":{"S":"x"},}`,
		`{"a":{"S":"bad \x escape"}}`,
		"{\"a\":{\"S\":\"raw \x01 control\"}}",
		"{\"a\":{\"S\":\"invalid \xff utf8\"}}",
	}
	files, _ := filepath.Glob("testdata/items/*.ddb.json")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		if ok, why := agree([]byte(in)); !ok {
			t.Errorf("%q: %s", in, why)
		}
	}
}

// FuzzParserAgreesWithOracle explores further: go test -fuzz FuzzParser ./internal/ddbjson
func FuzzParserAgreesWithOracle(f *testing.F) {
	f.Add([]byte(`{"a":{"S":"x"},"b":{"L":[{"N":"1"}]}}`))
	f.Add([]byte(`{"m":{"M":{"k":{"SS":["a","b"]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ok, why := agree(data); !ok {
			t.Fatalf("%q: %s", data, why)
		}
	})
}

func BenchmarkDecodeExportLine(b *testing.B) {
	line := []byte(`{"Item":{"pk":{"S":"user#123"},"n":{"N":"12345.678"},"name":{"S":"A fairly ordinary name"},"tags":{"SS":["a","b","c"]},"m":{"M":{"x":{"N":"1"},"y":{"L":[{"S":"p"},{"BOOL":true}]}}},"pad":{"S":"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"}}}`)
	for b.Loop() {
		if _, err := DecodeExportLine(line); err != nil {
			b.Fatal(err)
		}
	}
}
