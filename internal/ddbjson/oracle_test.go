package ddbjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The encoding/json decoder that the one-pass parser replaced, kept as the
// oracle that the parser must agree with.

func oracleDecodeItem(data []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, len(raw))
	for k, v := range raw {
		av, err := oracleDecodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func oracleDecodeValue(data []byte) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(data, &typed); err != nil {
		return nil, err
	}
	if len(typed) != 1 {
		return nil, fmt.Errorf("attribute value must have exactly one type key, got %d", len(typed))
	}
	for t, v := range typed {
		switch t {
		case "S", "N":
			var s string
			err := json.Unmarshal(v, &s)
			if t == "S" {
				return &types.AttributeValueMemberS{Value: s}, err
			}
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			b, err := oracleB(v)
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
				b, err := oracleB(r)
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
				av, err := oracleDecodeValue(r)
				if err != nil {
					return nil, err
				}
				l[i] = av
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			m, err := oracleDecodeItem(v)
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

func oracleB(v json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// agree reports whether the parser and the oracle agree on data: both fail,
// or both succeed with the same document bytes.
func agree(data []byte) (bool, string) {
	data = bytes.TrimSpace(data)
	a, errA := DecodeItem(data)
	b, errB := oracleDecodeItem(data)
	if (errA != nil) != (errB != nil) {
		return false, fmt.Sprintf("parser err %v, oracle err %v", errA, errB)
	}
	if errA != nil {
		return true, ""
	}
	da, errA := Item(a)
	db, errB := Item(b)
	if (errA != nil) != (errB != nil) || !bytes.Equal(da, db) {
		return false, fmt.Sprintf("parser %s (%v), oracle %s (%v)", da, errA, db, errB)
	}
	return true, ""
}
