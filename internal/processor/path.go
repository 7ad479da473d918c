package processor

import (
	"fmt"
	"strconv"
	"strings"
)

// key is a parsed event key. Data Prepper accepts a JSON pointer (/a/b)
// or the same path without the leading slash (a/b); both address the
// nested field b of a. ~1 and ~0 escape '/' and '~'.
type key struct {
	raw  string
	toks []string
}

func parseKey(s string) (key, error) {
	k := key{raw: s}
	rest := strings.TrimPrefix(s, "/")
	if rest == "" {
		return k, fmt.Errorf("empty key %q", s)
	}
	for _, t := range strings.Split(rest, "/") {
		if t == "" {
			return k, fmt.Errorf("key %q has an empty segment", s)
		}
		k.toks = append(k.toks, strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~"))
	}
	return k, nil
}

func (k key) String() string { return k.raw }

// pointer returns the key as a JSON pointer.
func (k key) pointer() string {
	var b strings.Builder
	for _, t := range k.toks {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// last is the key's final segment.
func (k key) last() string { return k.toks[len(k.toks)-1] }

// get returns the value at k; lists are indexed by number.
func get(doc map[string]any, k key) (any, bool) {
	var cur any = doc
	for _, t := range k.toks {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[t]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// set stores v at k, creating missing objects on the way. A segment that
// holds something other than an object is an error.
func set(doc map[string]any, k key, v any) error {
	cur := doc
	for i, t := range k.toks[:len(k.toks)-1] {
		next, ok := cur[t]
		if !ok || next == nil {
			m := map[string]any{}
			cur[t] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot set %s: /%s is not an object", k.raw, strings.Join(k.toks[:i+1], "/"))
		}
		cur = m
	}
	cur[k.last()] = v
	return nil
}

// del removes the value at k and reports whether there was one.
func del(doc map[string]any, k key) bool {
	cur := doc
	for _, t := range k.toks[:len(k.toks)-1] {
		m, ok := cur[t].(map[string]any)
		if !ok {
			return false
		}
		cur = m
	}
	if _, ok := cur[k.last()]; !ok {
		return false
	}
	delete(cur, k.last())
	return true
}
