// Package ddbjson converts DynamoDB attribute values to the JSON documents
// ddbsync writes to OpenSearch, and derives the document _id from the key.
// It is the one converter for every path (export line, scan page, stream
// image), so an item produces byte-identical JSON whichever way it arrives
// (DESIGN §2.5): numbers keep DynamoDB's digits, binary is standard base64,
// sets are arrays in source order, NULL is null, map keys are sorted.
package ddbjson

import (
	"encoding/base64"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item encodes an item as a JSON object with sorted keys.
func Item(item map[string]types.AttributeValue) ([]byte, error) {
	return appendMap(make([]byte, 0, 256), item)
}

// AppendValue appends the JSON form of one attribute value.
func AppendValue(b []byte, av types.AttributeValue) ([]byte, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return appendString(b, v.Value), nil
	case *types.AttributeValueMemberN:
		n, err := Number(v.Value)
		if err != nil {
			return nil, err
		}
		return append(b, n...), nil
	case *types.AttributeValueMemberB:
		return appendBase64(b, v.Value), nil
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case *types.AttributeValueMemberNULL:
		return append(b, "null"...), nil
	case *types.AttributeValueMemberSS:
		b = append(b, '[')
		for i, s := range v.Value {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case *types.AttributeValueMemberNS:
		b = append(b, '[')
		for i, s := range v.Value {
			if i > 0 {
				b = append(b, ',')
			}
			n, err := Number(s)
			if err != nil {
				return nil, err
			}
			b = append(b, n...)
		}
		return append(b, ']'), nil
	case *types.AttributeValueMemberBS:
		b = append(b, '[')
		for i, s := range v.Value {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBase64(b, s)
		}
		return append(b, ']'), nil
	case *types.AttributeValueMemberL:
		b = append(b, '[')
		for i, e := range v.Value {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendValue(b, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return append(b, ']'), nil
	case *types.AttributeValueMemberM:
		return appendMap(b, v.Value)
	case nil:
		return nil, fmt.Errorf("nil attribute value")
	default:
		return nil, fmt.Errorf("unsupported attribute value %T", av)
	}
}

func appendMap(b []byte, m map[string]types.AttributeValue) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = AppendValue(b, m[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return append(b, '}'), nil
}

func appendBase64(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string. Control characters, '"' and '\\' are
// escaped, as are U+2028/U+2029; invalid UTF-8 becomes U+FFFD. Everything
// else, including '<', '>' and '&', is written as is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
