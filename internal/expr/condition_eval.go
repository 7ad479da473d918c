package expr

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fields is what a condition reads: the document being processed (JSON
// values as encoding/json decodes them with UseNumber) and the event's
// metadata and tags.
type Fields interface {
	// Field returns the value at a JSON pointer ("/a/b"); false when absent.
	Field(pointer string) (any, bool)
	// MetadataValue returns a metadata value (string, bool or number).
	MetadataValue(key string) (any, bool)
	// HasTag reports whether the event carries tag.
	HasTag(tag string) bool
}

// Eval evaluates the condition to a boolean. A value that is not a boolean,
// or an operator applied to values it does not take (< on a string), is
// an error that names the expression.
func (c *Condition) Eval(f Fields) (bool, error) {
	v, err := c.root.eval(f)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.raw, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: the result is %s, not a boolean", c.raw, describeValue(v))
	}
	return b, nil
}

// Value evaluates the expression to a value: nil, bool, string, a number
// (json.Number), or a JSON object or array read by a pointer.
func (c *Condition) Value(f Fields) (any, error) {
	v, err := c.root.eval(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.raw, err)
	}
	if r, ok := v.(*big.Rat); ok {
		return json.Number(formatRat(r)), nil
	}
	return v, nil
}

// parseNumber parses a literal or document number exactly.
func parseNumber(s string) (*big.Rat, bool) {
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// formatRat renders an exact number: integers as digits, others as a
// decimal (at most 38 significant digits, as DynamoDB keeps).
func formatRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// normalize turns document values into the evaluator's: numbers become
// *big.Rat; everything else stays.
func normalize(v any) any {
	switch n := v.(type) {
	case json.Number:
		if r, ok := parseNumber(n.String()); ok {
			return r
		}
	case int:
		return new(big.Rat).SetInt64(int64(n))
	case int64:
		return new(big.Rat).SetInt64(n)
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(n) != nil {
			return r
		}
	}
	return v
}

func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case string:
		return "string " + strconv.Quote(x)
	case *big.Rat:
		return "number " + formatRat(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

type literal struct{ v any }

func (l literal) eval(Fields) (any, error) { return l.v, nil }

type pointerNode string

func (p pointerNode) eval(f Fields) (any, error) {
	v, ok := f.Field(string(p))
	if !ok {
		return nil, nil
	}
	return normalize(v), nil
}

type metadataNode string

func (m metadataNode) eval(f Fields) (any, error) {
	v, ok := f.MetadataValue(string(m))
	if !ok {
		return nil, nil
	}
	return normalize(v), nil
}

type tagsNode []string

func (t tagsNode) eval(f Fields) (any, error) {
	for _, tag := range t {
		if !f.HasTag(tag) {
			return false, nil
		}
	}
	return true, nil
}

type logicNode struct {
	or   bool
	l, r node
}

func (n logicNode) eval(f Fields) (any, error) {
	name := "and"
	if n.or {
		name = "or"
	}
	l, err := evalBool(n.l, f, name)
	if err != nil {
		return nil, err
	}
	if l == n.or { // short circuit: true or …, false and …
		return l, nil
	}
	return evalBool(n.r, f, name)
}

func evalBool(n node, f Fields, op string) (bool, error) {
	v, err := n.eval(f)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s needs booleans, got %s", op, describeValue(v))
	}
	return b, nil
}

type notNode struct{ n node }

func (n notNode) eval(f Fields) (any, error) {
	b, err := evalBool(n.n, f, "not")
	return !b, err
}

type eqNode struct {
	neg  bool
	l, r node
}

func (n eqNode) eval(f Fields) (any, error) {
	l, err := n.l.eval(f)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(f)
	if err != nil {
		return nil, err
	}
	return equal(l, r) != n.neg, nil
}

// equal compares two values: numbers by value (1 == 1.0), strings, booleans
// and null exactly; values of different kinds are never equal.
func equal(l, r any) bool {
	lr, lok := l.(*big.Rat)
	rr, rok := r.(*big.Rat)
	switch {
	case lok && rok:
		return lr.Cmp(rr) == 0
	case lok || rok:
		return false
	}
	return reflect.DeepEqual(l, r)
}

type relNode struct {
	op   string
	l, r node
}

func (n relNode) eval(f Fields) (any, error) {
	l, err := n.l.eval(f)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(f)
	if err != nil {
		return nil, err
	}
	lr, lok := l.(*big.Rat)
	rr, rok := r.(*big.Rat)
	if !lok || !rok {
		return nil, fmt.Errorf("%s needs numbers, got %s and %s", n.op, describeValue(l), describeValue(r))
	}
	c := lr.Cmp(rr)
	switch n.op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

type matchNode struct {
	neg bool
	l   node
	re  *regexp.Regexp
}

func (n matchNode) eval(f Fields) (any, error) {
	v, err := n.l.eval(f)
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("=~ needs a string, got %s", describeValue(v))
	}
	return n.re.MatchString(s) != n.neg, nil
}

type funcNode struct {
	name string
	args []node
}

func (n funcNode) eval(f Fields) (any, error) {
	vals := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(f)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	str := func(i int) (string, error) {
		s, ok := vals[i].(string)
		if !ok {
			return "", fmt.Errorf("%s needs a string, got %s", n.name, describeValue(vals[i]))
		}
		return s, nil
	}
	switch n.name {
	case "length":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		return new(big.Rat).SetInt64(int64(utf8.RuneCountInString(s))), nil
	case "contains", "startsWith":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		sub, err := str(1)
		if err != nil {
			return nil, err
		}
		if n.name == "contains" {
			return strings.Contains(s, sub), nil
		}
		return strings.HasPrefix(s, sub), nil
	}
	return nil, fmt.Errorf("unknown function %s", n.name)
}
