package ddbjson

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DecodeItem parses an item in DynamoDB JSON (`{"a":{"S":"x"},...}`), the
// form used by exports, into attribute values.
func DecodeItem(data []byte) (map[string]types.AttributeValue, error) {
	p := &parser{b: data}
	m, err := p.item()
	if err == nil {
		err = p.end()
	}
	if err == nil && m == nil {
		m = map[string]types.AttributeValue{}
	}
	return m, err
}

// DecodeValue parses one DynamoDB JSON attribute value (`{"N":"1"}`).
func DecodeValue(data []byte) (types.AttributeValue, error) {
	p := &parser{b: data}
	av, err := p.value()
	if err == nil {
		err = p.end()
	}
	return av, err
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

// DecodeExportLine parses one export data line in a single pass.
func DecodeExportLine(line []byte) (ExportLine, error) {
	var out ExportLine
	p := &parser{b: line}
	err := p.object(func(k string) error {
		var err error
		switch k {
		case "Item":
			out.Item, err = p.item()
		case "Keys":
			out.Keys, err = p.item()
		case "NewImage":
			out.NewImage, err = p.item()
		case "OldImage":
			out.OldImage, err = p.item()
		case "Metadata":
			var meta map[string]types.AttributeValue
			if meta, err = p.item(); err == nil {
				if n, ok := meta["WriteTimestampMicros"].(*types.AttributeValueMemberN); ok {
					if out.WriteTimestampMicros, err = strconv.ParseInt(n.Value, 10, 64); err != nil {
						err = fmt.Errorf("WriteTimestampMicros: %w", err)
					}
				}
			}
		default:
			return p.skip()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		return nil
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return ExportLine{}, err
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
