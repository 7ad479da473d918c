package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ddbsync/ddbsync/internal/ddbion"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// TestIonRecordReadsBackAsTheJSONItem: every record the emulator writes in
// Ion, read with ddbsync's Ion decoder, gives the document the DYNAMODB_JSON
// record gives (the writer and the reader agree on AWS's mapping).
func TestIonRecordReadsBackAsTheJSONItem(t *testing.T) {
	hostile := []string{
		`{"pk":{"S":"n"},"a":{"N":"99999999999999999999999999999999999999"},"b":{"N":"-1E-130"},"c":{"N":"9.99E+125"},"d":{"N":"-0"},"e":{"N":"0.000"},"f":{"N":"1.2345678901234567890123456789012345678E-100"}}`,
		`{"pk":{"S":"s"},"e":{"S":""},"u":{"S":"😀 \u2028 \u0000 \\ \" '"},"b0":{"B":""},"null":{"S":"x"},"weird key 'q'":{"S":"k"}}`,
		`{"pk":{"S":"l"},"l":{"L":[{"SS":["z","a"]},{"NS":["2","1.0E1"]},{"BS":["AA=="]},{"L":[{"L":[{"NULL":true}]}]},{"M":{}},{"BOOL":true}]}}`,
	}
	for i, it := range append(append([]string{}, items...), hostile...) {
		var b bytes.Buffer
		b.WriteString(`{"Item":`)
		if err := json.Compact(&b, []byte(it)); err != nil {
			t.Fatal(err)
		}
		b.WriteString(`}`)
		fromJSON, err := ddbjson.DecodeExportLine(b.Bytes())
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		line, err := ionRecord(b.Bytes())
		if err != nil {
			t.Fatalf("item %d: ionRecord: %v", i, err)
		}
		fromIon, err := ddbion.NewDecoder(bytes.NewReader(line)).Next()
		if err != nil {
			t.Fatalf("item %d: decode %s: %v", i, line, err)
		}
		want, _ := ddbjson.Item(fromJSON.Item)
		got, err := ddbjson.Item(fromIon.Item)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("item %d: Ion %s\ngives %s (%v)\nwant  %s", i, line, got, err, want)
		}
	}
}

func TestIonDecimal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1", "1."},
		{"-1.50", "-1.50"},
		{"1.5E+3", "15d2"},
		{"1E-130", "1d-130"},
		{"9.99E+125", "999d123"},
		{"-0", "-0."},
		{"0.001", "1d-3"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678."},
		{"+7", "7."},
	}
	for _, tt := range tests {
		d, err := ionDecimal(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ionDecimal(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"", "1.2.3", "abc", "--1", "1E", "0x10"} {
		if _, err := ionDecimal(bad); err == nil {
			t.Errorf("ionDecimal(%q): want an error", bad)
		}
	}
}
