package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/amazon-ion/ion-go/ion"
)

// Export formats (ExportTableToPointInTime's ExportFormat, the summary's outputFormat).
const (
	formatJSON = "DYNAMODB_JSON"
	formatION  = "ION"
)

// ionRecord rewrites one export record in DynamoDB JSON — a full export's {"Item":{...}} or an
// incremental one's {"Metadata":..,"Keys":..,"NewImage":..,"OldImage":..} — as the line an
// ION export holds: the Ion version marker, then a struct whose fields are the same items with
// AWS's Ion type mapping (S → string, N → decimal, B → blob, sets → lists annotated
// $dynamodb_SS/NS/BS, NULL → null, L → list, M → struct). Attribute order is kept.
func ionRecord(line []byte) ([]byte, error) {
	fields, err := objectFields(line)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("$ion_1_0 ")
	w := ion.NewTextWriter(&b)
	if err := w.BeginStruct(); err != nil {
		return nil, err
	}
	for _, f := range fields {
		if err := w.FieldName(ion.NewSymbolTokenFromString(f.name)); err != nil {
			return nil, err
		}
		if err := writeIonItem(w, f.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := w.EndStruct(); err != nil {
		return nil, err
	}
	if err := w.Finish(); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// writeIonItem writes a DynamoDB JSON item ({"attr":{"S":"x"},...}) as an Ion struct.
func writeIonItem(w ion.Writer, raw json.RawMessage) error {
	fields, err := objectFields(raw)
	if err != nil {
		return err
	}
	if err := w.BeginStruct(); err != nil {
		return err
	}
	for _, f := range fields {
		if err := w.FieldName(ion.NewSymbolTokenFromString(f.name)); err != nil {
			return err
		}
		if err := writeIonValue(w, f.raw); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return w.EndStruct()
}

// writeIonValue writes one DynamoDB JSON attribute value ({"N":"1.5"}) as Ion.
func writeIonValue(w ion.Writer, raw json.RawMessage) error {
	fields, err := objectFields(raw)
	if err != nil {
		return err
	}
	if len(fields) != 1 {
		return fmt.Errorf("attribute value has %d type keys, want 1", len(fields))
	}
	typ, v := fields[0].name, fields[0].raw
	switch typ {
	case "S":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		return w.WriteString(s)
	case "N":
		var n string
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		d, err := ionDecimal(n)
		if err != nil {
			return err
		}
		return w.WriteDecimal(d)
	case "B":
		var b []byte // encoding/json decodes standard base64 into []byte
		if err := json.Unmarshal(v, &b); err != nil {
			return err
		}
		return w.WriteBlob(b)
	case "BOOL":
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return err
		}
		return w.WriteBool(b)
	case "NULL":
		return w.WriteNull()
	case "SS", "NS", "BS":
		return writeIonSet(w, typ, v)
	case "L":
		var l []json.RawMessage
		if err := json.Unmarshal(v, &l); err != nil {
			return err
		}
		if err := w.BeginList(); err != nil {
			return err
		}
		for i, e := range l {
			if err := writeIonValue(w, e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return w.EndList()
	case "M":
		return writeIonItem(w, v)
	}
	return fmt.Errorf("unknown attribute type %q", typ)
}

// writeIonSet writes a set as a list annotated $dynamodb_<type>, in the set's order.
func writeIonSet(w ion.Writer, typ string, v json.RawMessage) error {
	if err := w.Annotation(ion.NewSymbolTokenFromString("$dynamodb_" + typ)); err != nil {
		return err
	}
	if err := w.BeginList(); err != nil {
		return err
	}
	if typ == "BS" {
		var bs [][]byte
		if err := json.Unmarshal(v, &bs); err != nil {
			return err
		}
		for _, b := range bs {
			if err := w.WriteBlob(b); err != nil {
				return err
			}
		}
		return w.EndList()
	}
	var ss []string
	if err := json.Unmarshal(v, &ss); err != nil {
		return err
	}
	for _, s := range ss {
		if typ == "SS" {
			if err := w.WriteString(s); err != nil {
				return err
			}
			continue
		}
		d, err := ionDecimal(s)
		if err != nil {
			return err
		}
		if err := w.WriteDecimal(d); err != nil {
			return err
		}
	}
	return w.EndList()
}

// ionDecimal is a DynamoDB number's text ("-1.50", "1.5E+3") as an exact Ion decimal (its
// digits become the coefficient; never through float64).
func ionDecimal(n string) (*ion.Decimal, error) {
	s, exp := n, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", n, err)
		}
		s, exp = s[:i], e
	}
	neg := strings.HasPrefix(s, "-")
	intPart, frac, _ := strings.Cut(strings.TrimLeft(s, "+-"), ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" || len(s)-len(strings.TrimLeft(s, "+-")) > 1 {
		return nil, fmt.Errorf("number %q is not a decimal", n)
	}
	coef, _ := new(big.Int).SetString(digits, 10)
	if neg {
		coef.Neg(coef)
	}
	return ion.NewDecimal(coef, int32(exp-int64(len(frac))), neg && coef.Sign() == 0), nil
}

// field is one member of a JSON object, in source order.
type field struct {
	name string
	raw  json.RawMessage
}

// objectFields splits a JSON object into its members, keeping their order.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want a JSON object (%v)", err)
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, field{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}
