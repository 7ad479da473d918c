package ddbjson

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// parser reads DynamoDB JSON in one pass (export lines are the backfill's
// hot path: encoding/json re-scans every nesting level). It accepts exactly
// what encoding/json would for these shapes; the oracle test pins that.
type parser struct {
	b []byte
	i int
}

func (p *parser) errf(format string, a ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{p.i}, a...)...)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) consume(c byte) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != c {
		return p.errf("expected %q", c)
	}
	p.i++
	return nil
}

// peek returns the next non-space byte (0 at the end).
func (p *parser) peek() byte {
	p.ws()
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

// object calls field for every key of an object; field reads the value.
func (p *parser) object(field func(key string) error) error {
	if err := p.consume('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.errf("expected a key")
		}
		k, err := p.str()
		if err != nil {
			return err
		}
		if err := p.consume(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errf("expected ',' or '}'")
		}
	}
}

// array calls elem for every element of an array.
func (p *parser) array(elem func() error) error {
	if err := p.consume('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errf("expected ',' or ']'")
		}
	}
}

// str reads a JSON string; invalid UTF-8 becomes U+FFFD as in encoding/json.
func (p *parser) str() (string, error) {
	if err := p.consume('"'); err != nil {
		return "", err
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return string([]rune(string(s))), nil
			}
			return string(s), nil
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			return "", p.errf("control character in string")
		}
		p.i++
	}
	return "", p.errf("unterminated string")
}

// strSlow finishes a string with escapes.
func (p *parser) strSlow(start int) (string, error) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return string([]rune(string(out))), nil
			}
			return string(out), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", p.errf("unterminated escape")
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					lo, err := p.hex4()
					if err != nil {
						return "", err
					}
					if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
						r2 = d
					} else {
						p.i = save
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.errf("bad escape \\%c", e)
		}
	}
	return "", p.errf("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.errf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, p.errf("bad \\u escape")
	}
	p.i += 4
	return rune(v), nil
}

// literal reads true, false or null.
func (p *parser) literal() (string, error) {
	p.ws()
	for _, w := range []string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(w) && string(p.b[p.i:p.i+len(w)]) == w {
			p.i += len(w)
			return w, nil
		}
	}
	return "", p.errf("expected true, false or null")
}

// skip reads and discards any JSON value.
func (p *parser) skip() error {
	switch c := p.peek(); {
	case c == '{':
		return p.object(func(string) error { return p.skip() })
	case c == '[':
		return p.array(p.skip)
	case c == '"':
		_, err := p.str()
		return err
	case c == 't' || c == 'f' || c == 'n':
		_, err := p.literal()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' || (p.b[p.i] >= '0' && p.b[p.i] <= '9')) {
			p.i++
		}
		if _, err := strconv.ParseFloat(string(p.b[start:p.i]), 64); err != nil {
			return p.errf("bad number")
		}
		return nil
	}
	return p.errf("expected a value")
}

// item reads a DynamoDB JSON item (a map of attribute values).
func (p *parser) item() (map[string]types.AttributeValue, error) {
	if p.peek() == 'n' {
		if _, err := p.literal(); err != nil {
			return nil, err
		}
		return nil, nil
	}
	m := map[string]types.AttributeValue{}
	err := p.object(func(k string) error {
		av, err := p.value()
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		m[k] = av
		return nil
	})
	return m, err
}

// strList reads an array of strings.
func (p *parser) strList() ([]string, error) {
	var out []string
	err := p.array(func() error {
		s, err := p.str()
		out = append(out, s)
		return err
	})
	return out, err
}

func (p *parser) b64() ([]byte, error) {
	s, err := p.str()
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// value reads one attribute value ({"S":"x"}, {"N":"1"}, ...).
func (p *parser) value() (types.AttributeValue, error) {
	var av types.AttributeValue
	n := 0
	err := p.object(func(t string) error {
		n++
		var err error
		switch t {
		case "S":
			var s string
			s, err = p.str()
			av = &types.AttributeValueMemberS{Value: s}
		case "N":
			var s string
			s, err = p.str()
			av = &types.AttributeValueMemberN{Value: s}
		case "B":
			var b []byte
			b, err = p.b64()
			av = &types.AttributeValueMemberB{Value: b}
		case "BOOL":
			var w string
			if w, err = p.literal(); err == nil && w == "null" {
				err = p.errf("BOOL must be true or false")
			}
			av = &types.AttributeValueMemberBOOL{Value: w == "true"}
		case "NULL":
			err = p.skip()
			av = &types.AttributeValueMemberNULL{Value: true}
		case "SS", "NS":
			var l []string
			l, err = p.strList()
			if t == "SS" {
				av = &types.AttributeValueMemberSS{Value: l}
			} else {
				av = &types.AttributeValueMemberNS{Value: l}
			}
		case "BS":
			var bs [][]byte
			err = p.array(func() error {
				b, err := p.b64()
				bs = append(bs, b)
				return err
			})
			av = &types.AttributeValueMemberBS{Value: bs}
		case "L":
			l := []types.AttributeValue{}
			err = p.array(func() error {
				e, err := p.value()
				if err != nil {
					return fmt.Errorf("[%d]: %w", len(l), err)
				}
				l = append(l, e)
				return nil
			})
			av = &types.AttributeValueMemberL{Value: l}
		case "M":
			var m map[string]types.AttributeValue
			if m, err = p.item(); m == nil && err == nil {
				m = map[string]types.AttributeValue{}
			}
			av = &types.AttributeValueMemberM{Value: m}
		default:
			return fmt.Errorf("unknown attribute type %q", t)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, fmt.Errorf("attribute value must have exactly one type key, got %d", n)
	}
	return av, nil
}

// end checks that only spaces follow.
func (p *parser) end() error {
	if p.ws(); p.i < len(p.b) {
		return p.errf("unexpected data after the value")
	}
	return nil
}
