package ddbion

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/amazon-ion/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// value decodes the value the reader is on as one attribute value.
func (d *Decoder) value() (types.AttributeValue, error) {
	anns, err := d.r.Annotations()
	if err != nil {
		return nil, err
	}
	if len(anns) > 0 {
		return d.set(anns)
	}
	if d.r.IsNull() {
		// AWS writes a bare null; a typed null (null.string) carries no
		// value either.
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
	switch d.r.Type() {
	case ion.StringType:
		s, err := d.r.StringValue()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberS{Value: *s}, nil
	case ion.DecimalType, ion.IntType:
		n, err := d.number()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: n}, nil
	case ion.BlobType:
		b, err := d.blob()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case ion.BoolType:
		b, err := d.r.BoolValue()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberBOOL{Value: *b}, nil
	case ion.ListType:
		var l []types.AttributeValue
		err := d.list(func(i int) error {
			av, err := d.value()
			if err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, av)
			return nil
		})
		if l == nil {
			l = []types.AttributeValue{}
		}
		return &types.AttributeValueMemberL{Value: l}, err
	case ion.StructType:
		m, err := d.item()
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case ion.FloatType:
		return nil, errors.New("an Ion float cannot carry a DynamoDB number exactly (want a decimal such as 1.5 or 1d3)")
	default:
		return nil, fmt.Errorf("an Ion %s has no DynamoDB type", typeName(d.r))
	}
}

// set decodes a list annotated as a DynamoDB set, keeping the source order.
func (d *Decoder) set(anns []ion.SymbolToken) (types.AttributeValue, error) {
	if len(anns) != 1 || anns[0].Text == nil {
		return nil, fmt.Errorf("unexpected annotations %s (want one of %s, %s, %s on a list)", annotationText(anns), annotSS, annotNS, annotBS)
	}
	kind := *anns[0].Text
	if kind != annotSS && kind != annotNS && kind != annotBS {
		return nil, fmt.Errorf("unknown annotation %s (want %s, %s or %s)", kind, annotSS, annotNS, annotBS)
	}
	if d.r.Type() != ion.ListType || d.r.IsNull() {
		return nil, fmt.Errorf("%s on an Ion %s (want a list)", kind, typeName(d.r))
	}
	var ss []string
	var bs [][]byte
	err := d.list(func(i int) error {
		elem, err := d.setElement(kind)
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", kind, i, err)
		}
		if kind == annotBS {
			bs = append(bs, elem.([]byte))
		} else {
			ss = append(ss, elem.(string))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 && len(bs) == 0 {
		return nil, fmt.Errorf("%s is empty (DynamoDB sets have at least one element)", kind)
	}
	switch kind {
	case annotSS:
		return &types.AttributeValueMemberSS{Value: ss}, nil
	case annotNS:
		return &types.AttributeValueMemberNS{Value: ss}, nil
	default:
		return &types.AttributeValueMemberBS{Value: bs}, nil
	}
}

// setElement decodes one element of a set: a string, a number's text or bytes.
func (d *Decoder) setElement(kind string) (any, error) {
	if anns, err := d.r.Annotations(); err != nil || len(anns) > 0 {
		return nil, fmt.Errorf("annotated set element %s %v", annotationText(anns), err)
	}
	if d.r.IsNull() {
		return nil, errors.New("null in a set")
	}
	t := d.r.Type()
	switch {
	case kind == annotSS && t == ion.StringType:
		s, err := d.r.StringValue()
		if err != nil {
			return nil, err
		}
		return *s, nil
	case kind == annotNS && (t == ion.DecimalType || t == ion.IntType):
		return d.number()
	case kind == annotBS && t == ion.BlobType:
		return d.blob()
	}
	return nil, fmt.Errorf("an Ion %s in a %s", typeName(d.r), kind)
}

// list steps into the list the reader is on and calls elem for each element.
func (d *Decoder) list(elem func(i int) error) error {
	if err := d.r.StepIn(); err != nil {
		return err
	}
	for i := 0; d.r.Next(); i++ {
		if err := elem(i); err != nil {
			return err
		}
	}
	if err := d.r.Err(); err != nil {
		return err
	}
	return d.r.StepOut()
}

// number returns the decimal or int the reader is on as the canonical
// DynamoDB number text that ddbjson.Number gives for the same number in
// DynamoDB JSON (so documents and _ids agree), never through float64.
func (d *Decoder) number() (string, error) {
	var text string
	if d.r.Type() == ion.IntType {
		n, err := d.r.BigIntValue()
		if err != nil {
			return "", err
		}
		text = n.String()
	} else {
		dec, err := d.r.DecimalValue()
		if err != nil {
			return "", err
		}
		coef, exp := dec.CoEx()
		text = coef.String() + "E" + strconv.FormatInt(int64(exp), 10)
	}
	return ddbjson.Number(text)
}

func (d *Decoder) blob() ([]byte, error) {
	b, err := d.r.ByteValue()
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func typeName(r ion.Reader) string {
	if r.IsNull() {
		return "null." + r.Type().String()
	}
	return r.Type().String()
}

func symbolText(s *ion.SymbolToken) string {
	if s == nil || s.Text == nil {
		return "(no text)"
	}
	return *s.Text
}

func annotationText(anns []ion.SymbolToken) string {
	out := ""
	for _, a := range anns {
		out += symbolText(&a) + "::"
	}
	return out
}
