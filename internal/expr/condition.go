package expr

import (
	"fmt"
	"strings"
)

// Condition is a parsed Data Prepper conditional expression, the language
// of the processors' *_when options and add_entries' value_expression:
//
//	/status == "shipped" and not (/qty < 1 or /qty == null)
//
// Supported: JSON pointers (/a/b, or "/a b" in double quotes), literals
// (double-quoted strings, numbers, true, false, null), == != < <= > >=,
// =~ !~ (regular expressions), and, or, not, parentheses, and the functions
// getMetadata("key"), hasTags("tag", ...), length(/p), contains(/p, "s")
// and startsWith(/p, "s").
type Condition struct {
	raw  string
	root node
}

// ParseCondition parses a conditional expression; errors name the position.
func ParseCondition(s string) (*Condition, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, src: s}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errAt(t, "unexpected "+t.describe())
	}
	return &Condition{raw: s, root: n}, nil
}

// String returns the expression as written.
func (c *Condition) String() string { return c.raw }

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokPointer
	tokString
	tokNumber
	tokIdent
	tokOp
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string // pointer, unquoted string, number digits, identifier or operator
	pos  int    // byte offset in the expression
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokComma:
		return `","`
	}
	return fmt.Sprintf("%q", t.text)
}

// pointerChar reports whether c may appear in an unquoted JSON pointer.
func pointerChar(c byte) bool {
	return c == '/' || c == '_' || c == '.' || c == '@' || c == '~' || c == '-' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == ',':
			out = append(out, token{tokComma, ",", i})
			i++
		case c == '/':
			j := i + 1
			for j < len(s) && pointerChar(s[j]) {
				j++
			}
			out = append(out, token{tokPointer, s[i:j], i})
			i = j
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unclosed string at position %d in %q", i+1, s)
			}
			kind := tokString
			if strings.HasPrefix(b.String(), "/") { // "/a b": an escaped JSON pointer
				kind = tokPointer
			}
			out = append(out, token{kind, b.String(), i})
			i = j + 1
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' && unaryMinusAllowed(out)):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			if _, ok := parseNumber(s[i:j]); !ok {
				return nil, fmt.Errorf("invalid number %q at position %d in %q", s[i:j], i+1, s)
			}
			out = append(out, token{tokNumber, s[i:j], i})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
				j++
			}
			out = append(out, token{tokIdent, s[i:j], i})
			i = j
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "=~", "!~", "<", ">"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q at position %d in %q", c, i+1, s)
			}
			out = append(out, token{tokOp, op, i})
			i += len(op)
		}
	}
	return append(out, token{tokEOF, "", len(s)}), nil
}

// unaryMinusAllowed reports whether a '-' here starts a negative number
// (after an operator, an opening parenthesis, a comma or at the start).
func unaryMinusAllowed(prev []token) bool {
	if len(prev) == 0 {
		return true
	}
	switch t := prev[len(prev)-1]; t.kind {
	case tokOp, tokLParen, tokComma:
		return true
	case tokIdent:
		return t.text == "and" || t.text == "or" || t.text == "not"
	}
	return false
}
