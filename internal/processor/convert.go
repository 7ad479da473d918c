package processor

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// convertEntry is convert_entry_type: convert the values of key (or keys)
// to type; a list's elements are converted one by one.
type convertEntry struct {
	keys  []key
	typ   string
	nulls map[string]bool
	when  condition
}

var convertTypes = []string{"integer", "long", "double", "boolean", "string", "big_decimal"}

func buildConvert(o *opts) processor {
	o.known([]string{"key", "keys", "type", "null_values", "convert_when"}, map[string]string{
		"tags_on_failure": "ddbsync's events carry no tags; a value that cannot be converted goes to the dead-letter queue",
		"scale":           "big_decimal keeps every digit", "iterate_on": "convert list elements by naming the list's key"})
	p := &convertEntry{typ: "integer", when: o.cond("convert_when", false), nulls: map[string]bool{}}
	switch {
	case o.has("key") && o.has("keys"):
		o.add("keys", "conflicts with key (set one of them)")
	case o.has("key"):
		if k, ok := o.keyOpt("key", true); ok {
			p.keys = []key{k}
		}
	default:
		if !o.has("keys") {
			o.add("", "needs key or keys")
		} else {
			p.keys = o.keyList("keys", true)
		}
	}
	if o.has("type") {
		p.typ = o.str("type", true)
		ok := false
		for _, t := range convertTypes {
			ok = ok || t == p.typ
		}
		if !ok {
			o.add("type", fmt.Sprintf("unsupported type %q (expected one of: %s)", p.typ, strings.Join(convertTypes, ", ")))
		}
	}
	for _, k := range o.keyListRaw("null_values") {
		p.nulls[k] = true
	}
	return p
}

// keyListRaw reads an optional list of strings.
func (o *opts) keyListRaw(k string) []string {
	v, ok := o.m[k]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		o.add(k, fmt.Sprintf("wrong type (got %s; expected a list of strings)", typeName(v)))
		return nil
	}
	var out []string
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			o.add(fmt.Sprintf("%s[%d]", k, i), fmt.Sprintf("wrong type (got %s; expected a string)", typeName(e)))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *convertEntry) process(r *record) (bool, error) {
	ok, err := r.when(p.when)
	if err != nil || !ok {
		return false, wrapWhen("convert_when", err)
	}
	for _, k := range p.keys {
		v, ok := get(r.doc, k)
		if !ok || v == nil {
			continue
		}
		var out any
		if l, isList := v.([]any); isList {
			conv := make([]any, len(l))
			for i, e := range l {
				if conv[i], err = p.convert(e); err != nil {
					return false, fmt.Errorf("%s[%d]: %w", k, i, err)
				}
			}
			out = conv
		} else if out, err = p.convert(v); err != nil {
			return false, fmt.Errorf("%s: %w", k, err)
		}
		if err := set(r.doc, k, out); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (p *convertEntry) convert(v any) (any, error) {
	if s, ok := v.(string); ok && p.nulls[s] {
		return nil, nil
	}
	if v == nil {
		return nil, nil
	}
	switch p.typ {
	case "string":
		s, _ := textOf(v)
		return s, nil
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		case json.Number:
			r, ok := new(big.Rat).SetString(x.String())
			if ok {
				return r.Sign() != 0, nil
			}
		}
	case "integer", "long":
		return toInteger(v, p.typ)
	case "double":
		var f float64
		var err error
		switch x := v.(type) {
		case json.Number:
			f, err = strconv.ParseFloat(x.String(), 64)
		case string:
			f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		case bool:
			return nil, fmt.Errorf("cannot convert boolean %v to double", x)
		default:
			err = fmt.Errorf("not a number")
		}
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("cannot convert %s to double", describe(v))
		}
		return json.Number(formatDouble(f)), nil
	case "big_decimal":
		s, _ := textOf(v)
		if _, ok := new(big.Rat).SetString(strings.TrimSpace(s)); ok && !strings.ContainsAny(s, "/") {
			return json.Number(strings.TrimSpace(s)), nil
		}
	}
	return nil, fmt.Errorf("cannot convert %s to %s", describe(v), p.typ)
}

// toInteger converts to a 32-bit (integer) or 64-bit (long) integer. A
// fractional number is truncated toward zero, as Java's casts do; a string
// must hold an integer.
func toInteger(v any, typ string) (any, error) {
	bits := 32
	if typ == "long" {
		bits = 64
	}
	var n *big.Int
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(x.String())
		if !ok {
			return nil, fmt.Errorf("cannot convert %s to %s", describe(v), typ)
		}
		n = new(big.Int).Quo(r.Num(), r.Denom())
	case string:
		var ok bool
		if n, ok = new(big.Int).SetString(strings.TrimSpace(x), 10); !ok {
			return nil, fmt.Errorf("cannot convert %s to %s", describe(v), typ)
		}
	case bool:
		if x {
			return json.Number("1"), nil
		}
		return json.Number("0"), nil
	default:
		return nil, fmt.Errorf("cannot convert %s to %s", describe(v), typ)
	}
	if n.BitLen() >= bits && !(n.Sign() < 0 && n.BitLen() == bits && n.TrailingZeroBits() == uint(bits-1)) {
		return nil, fmt.Errorf("%s is out of range for %s", n, typ)
	}
	return json.Number(n.String()), nil
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "string " + strconv.Quote(x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return "boolean " + strconv.FormatBool(x)
	}
	return typeName(v)
}
