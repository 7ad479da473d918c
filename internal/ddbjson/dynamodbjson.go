package ddbjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DecodeItem parses an item in DynamoDB JSON (`{"a":{"S":"x"},...}`), the
// form used by exports, into attribute values.
func DecodeItem(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, len(raw))
	for k, v := range raw {
		av, err := DecodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// DecodeValue parses one DynamoDB JSON attribute value (`{"N":"1"}`).
func DecodeValue(data []byte) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(data, &typed); err != nil {
		return nil, err
	}
	if len(typed) != 1 {
		return nil, fmt.Errorf("attribute value must have exactly one type key, got %d", len(typed))
	}
	for t, v := range typed {
		switch t {
		case "S":
			var s string
			err := json.Unmarshal(v, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err := json.Unmarshal(v, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			b, err := decodeB(v)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err := json.Unmarshal(v, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, err
			}
			if t == "SS" {
				return &types.AttributeValueMemberSS{Value: ss}, nil
			}
			return &types.AttributeValueMemberNS{Value: ss}, nil
		case "BS":
			var raw []json.RawMessage
			if err := json.Unmarshal(v, &raw); err != nil {
				return nil, err
			}
			bs := make([][]byte, len(raw))
			for i, r := range raw {
				b, err := decodeB(r)
				if err != nil {
					return nil, err
				}
				bs[i] = b
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			var raw []json.RawMessage
			if err := json.Unmarshal(v, &raw); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(raw))
			for i, r := range raw {
				av, err := DecodeValue(r)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				l[i] = av
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			m, err := DecodeItem(v)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberM{Value: m}, nil
		default:
			return nil, fmt.Errorf("unknown attribute type %q", t)
		}
	}
	panic("unreachable")
}

func decodeB(v json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// ExportLine is one line of a DYNAMODB_JSON export data file.
type ExportLine struct {
	// Item is set in full exports.
	Item map[string]types.AttributeValue
	// Keys, NewImage, OldImage and WriteTimestampMicros are set in
	// incremental exports.
	Keys, NewImage, OldImage map[string]types.AttributeValue
	WriteTimestampMicros     int64
}

// DecodeExportLine parses one export data line.
func DecodeExportLine(line []byte) (ExportLine, error) {
	var raw struct {
		Item     json.RawMessage
		Keys     json.RawMessage
		NewImage json.RawMessage
		OldImage json.RawMessage
		Metadata *struct {
			WriteTimestampMicros struct{ N json.Number }
		}
	}
	var out ExportLine
	if err := json.Unmarshal(bytes.TrimSpace(line), &raw); err != nil {
		return out, err
	}
	var err error
	decode := func(r json.RawMessage, dst *map[string]types.AttributeValue, name string) {
		if err != nil || len(r) == 0 || string(r) == "null" {
			return
		}
		if *dst, err = DecodeItem(r); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	decode(raw.Item, &out.Item, "Item")
	decode(raw.Keys, &out.Keys, "Keys")
	decode(raw.NewImage, &out.NewImage, "NewImage")
	decode(raw.OldImage, &out.OldImage, "OldImage")
	if err != nil {
		return out, err
	}
	if raw.Metadata != nil {
		if out.WriteTimestampMicros, err = raw.Metadata.WriteTimestampMicros.N.Int64(); err != nil {
			return out, fmt.Errorf("Metadata.WriteTimestampMicros: %w", err)
		}
	}
	if out.Item == nil && out.Keys == nil {
		return out, fmt.Errorf("line has neither Item nor Keys")
	}
	return out, nil
}

// MarshalItem renders attribute values as DynamoDB JSON, the inverse of
// DecodeItem (used to save a scan's LastEvaluatedKey in a checkpoint).
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	m := make(map[string]any, len(item))
	for k, v := range item {
		j, err := dynamoValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = j
	}
	return json.Marshal(m)
}

func dynamoValue(av types.AttributeValue) (any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]string{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]string{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string][]byte{"B": v.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]bool{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]bool{"NULL": true}, nil
	case *types.AttributeValueMemberSS:
		return map[string][]string{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string][]string{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		return map[string][][]byte{"BS": v.Value}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := dynamoValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = j
		}
		return map[string][]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		b, err := MarshalItem(v.Value)
		if err != nil {
			return nil, err
		}
		return map[string]json.RawMessage{"M": b}, nil
	}
	return nil, fmt.Errorf("unsupported attribute value %T", av)
}
