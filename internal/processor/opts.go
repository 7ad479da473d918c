package processor

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// condition is a compiled *_when expression.
type condition = *expr.Condition

// opts reads one processor's (or one entry's) options and collects
// problems with their paths.
type opts struct {
	m      map[string]any
	prefix string // path of this block inside the processor ("entries[0]")
	probs  []Problem
	parent *opts // problems go to the root
}

func (o *opts) root() *opts {
	for o.parent != nil {
		o = o.parent
	}
	return o
}

func (o *opts) path(k string) string {
	if o.prefix == "" {
		return k
	}
	if k == "" {
		return o.prefix
	}
	return o.prefix + "." + k
}

func (o *opts) add(k, msg string) {
	r := o.root()
	r.probs = append(r.probs, Problem{Path: o.path(k), Msg: msg})
}

func (o *opts) has(k string) bool { _, ok := o.m[k]; return ok && o.m[k] != nil }

// known reports every option not in keys, and options that Data Prepper
// has but ddbsync does not run (unsupported: key → why).
func (o *opts) known(keys []string, unsupported map[string]string) {
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	var names []string
	for k := range o.m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case allowed[k]:
		case unsupported[k] != "":
			o.add(k, "not supported: "+unsupported[k])
		default:
			o.add(k, fmt.Sprintf("unknown option (expected one of: %s)", strings.Join(keys, ", ")))
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64, json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func (o *opts) str(k string, required bool) string {
	v, ok := o.m[k]
	if !ok || v == nil {
		if required {
			o.add(k, "missing required option")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.add(k, fmt.Sprintf("wrong type (got %s; expected a string)", typeName(v)))
		return ""
	}
	if s == "" && required {
		o.add(k, "must not be empty")
	}
	return s
}

func (o *opts) boolean(k string, def bool) bool {
	v, ok := o.m[k]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		o.add(k, fmt.Sprintf("wrong type (got %s; expected true or false)", typeName(v)))
		return def
	}
	return b
}

// keyOpt reads a key option (a JSON pointer or a/b path).
func (o *opts) keyOpt(k string, required bool) (key, bool) {
	s := o.str(k, required)
	if s == "" {
		return key{}, false
	}
	kk, err := parseKey(s)
	if err != nil {
		o.add(k, err.Error())
		return key{}, false
	}
	return kk, true
}

// keyList reads a list of keys.
func (o *opts) keyList(k string, required bool) []key {
	v, ok := o.m[k]
	if !ok || v == nil {
		if required {
			o.add(k, "missing required option (expected a list of keys)")
		}
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		o.add(k, fmt.Sprintf("wrong type (got %s; expected a list of keys)", typeName(v)))
		return nil
	}
	if len(l) == 0 && required {
		o.add(k, "must not be empty (expected a list of keys)")
	}
	var out []key
	for i, e := range l {
		p := fmt.Sprintf("%s[%d]", k, i)
		s, ok := e.(string)
		if !ok {
			o.add(p, fmt.Sprintf("wrong type (got %s; expected a key)", typeName(e)))
			continue
		}
		kk, err := parseKey(s)
		if err != nil {
			o.add(p, err.Error())
			continue
		}
		out = append(out, kk)
	}
	return out
}

// cond reads an optional conditional expression.
func (o *opts) cond(k string, required bool) condition {
	s := o.str(k, required)
	if s == "" {
		return nil
	}
	c, err := expr.ParseCondition(s)
	if err != nil {
		o.add(k, "invalid expression: "+err.Error())
		return nil
	}
	return c
}

// entries reads a required list of mappings, each read by one.
func (o *opts) entries(k string, one func(e *opts)) {
	v, ok := o.m[k]
	if !ok || v == nil {
		o.add(k, "missing required option (expected a list of entries)")
		return
	}
	l, ok := v.([]any)
	if !ok {
		o.add(k, fmt.Sprintf("wrong type (got %s; expected a list of entries)", typeName(v)))
		return
	}
	if len(l) == 0 {
		o.add(k, "must not be empty (expected a list of entries)")
	}
	for i, e := range l {
		p := fmt.Sprintf("%s[%d]", o.path(k), i)
		m, ok := e.(map[string]any)
		if !ok {
			o.root().probs = append(o.root().probs, Problem{Path: p, Msg: fmt.Sprintf("wrong type (got %s; expected a mapping)", typeName(e))})
			continue
		}
		one(&opts{m: m, prefix: p, parent: o})
	}
}
