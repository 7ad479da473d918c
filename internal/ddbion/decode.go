// Package ddbion reads the data files of a DynamoDB export in Amazon Ion
// (exportFormat ION) into the same attribute values that ddbjson decodes from
// DYNAMODB_JSON exports, so that one encoder (ddbjson.Item) turns both into
// byte-identical documents (DESIGN §2.5).
//
// The mapping, per AWS's Ion export format: strings are Ion strings, numbers
// Ion decimals (an Ion int is accepted too; an Ion float is refused because it
// cannot carry DynamoDB's exact digits), binary Ion blobs, lists and maps Ion
// lists and structs, sets lists annotated $dynamodb_SS, $dynamodb_NS or
// $dynamodb_BS, NULL is null, BOOL a bool. Each top-level value is one
// record, {Item:{...}} in full exports, optionally preceded by the Ion
// version marker $ion_1_0.
package ddbion

import (
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/amazon-ion/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// The annotations that mark a list as a DynamoDB set.
const (
	annotSS = "$dynamodb_SS"
	annotNS = "$dynamodb_NS"
	annotBS = "$dynamodb_BS"
)

// versionMarker is the Ion 1.0 version marker. The Ion library hands it to
// its caller as a top-level symbol, so the decoder skips it itself.
const versionMarker = "$ion_1_0"

// Decoder reads the records of one Ion data file in order, one top-level
// value at a time (constant memory).
type Decoder struct {
	r ion.Reader
}

// NewDecoder reads Ion text or binary from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: ion.NewReader(r)}
}

// Next decodes the next record. It returns io.EOF after the last one.
func (d *Decoder) Next() (ddbjson.ExportLine, error) {
	if err := d.advance(); err != nil {
		return ddbjson.ExportLine{}, err
	}
	return d.record()
}

// Skip moves past the next record without decoding it (a resumed file).
// It returns io.EOF when there is none.
func (d *Decoder) Skip() error {
	return d.advance()
}

// advance moves to the next top-level value that is a record, skipping
// version markers.
func (d *Decoder) advance() error {
	for {
		if !d.r.Next() {
			if err := d.r.Err(); err != nil {
				return err
			}
			return io.EOF
		}
		if d.r.Type() != ion.SymbolType {
			return nil
		}
		anns, err := d.r.Annotations()
		if err != nil {
			return err
		}
		sym, err := d.r.SymbolValue()
		if err != nil {
			return err
		}
		if len(anns) > 0 || sym == nil || sym.Text == nil || *sym.Text != versionMarker {
			return fmt.Errorf("top-level symbol %s is not a record (want a struct)", symbolText(sym))
		}
	}
}

// record decodes the struct the reader is on: {Item:{...}} or an
// incremental export's {Metadata:..., Keys:..., NewImage:..., OldImage:...}.
func (d *Decoder) record() (ddbjson.ExportLine, error) {
	var out ddbjson.ExportLine
	if d.r.Type() != ion.StructType || d.r.IsNull() {
		return out, fmt.Errorf("record is an Ion %s, not a struct", typeName(d.r))
	}
	err := d.fields(func(name string) error {
		var err error
		switch name {
		case "Item":
			out.Item, err = d.item()
		case "Keys":
			out.Keys, err = d.item()
		case "NewImage":
			out.NewImage, err = d.item()
		case "OldImage":
			out.OldImage, err = d.item()
		case "Metadata":
			var meta map[string]types.AttributeValue
			if meta, err = d.item(); err == nil {
				if n, ok := meta["WriteTimestampMicros"].(*types.AttributeValueMemberN); ok {
					v, ok := new(big.Int).SetString(n.Value, 10)
					if !ok || !v.IsInt64() {
						err = fmt.Errorf("WriteTimestampMicros %s is not an integer", n.Value)
					} else {
						out.WriteTimestampMicros = v.Int64()
					}
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return ddbjson.ExportLine{}, err
	}
	if out.Item == nil && out.Keys == nil {
		return ddbjson.ExportLine{}, errors.New("record has neither Item nor Keys")
	}
	return out, nil
}

// fields steps into the struct the reader is on and calls field for each
// field; field may leave its value unread.
func (d *Decoder) fields(field func(name string) error) error {
	if err := d.r.StepIn(); err != nil {
		return err
	}
	for d.r.Next() {
		tok, err := d.r.FieldName()
		if err != nil {
			return err
		}
		if tok == nil || tok.Text == nil {
			return errors.New("a field name has no text")
		}
		if err := field(*tok.Text); err != nil {
			return err
		}
	}
	if err := d.r.Err(); err != nil {
		return err
	}
	return d.r.StepOut()
}

// item decodes the struct the reader is on as a DynamoDB item (a map of
// attribute values).
func (d *Decoder) item() (map[string]types.AttributeValue, error) {
	if d.r.Type() != ion.StructType || d.r.IsNull() {
		return nil, fmt.Errorf("an Ion %s is not an item (want a struct)", typeName(d.r))
	}
	m := map[string]types.AttributeValue{}
	err := d.fields(func(name string) error {
		av, err := d.value()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m[name] = av
		return nil
	})
	return m, err
}
