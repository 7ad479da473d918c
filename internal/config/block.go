package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// decoder turns the YAML node tree into the model, collecting every problem
// instead of stopping at the first.
type decoder struct {
	idx   *index
	probs []Problem
}

// add reports a problem and marks its path bad, so that validation does not
// report the same key again (as missing, say).
func (d *decoder) add(line int, path, msg string) {
	d.probs = append(d.probs, Problem{Line: line, Path: path, Msg: msg})
	d.idx.bad[path] = true
}

// missing reports a required key that is absent.
func (d *decoder) missing(path string, line int, want string) {
	d.add(line, path, gotWant("missing required key", "", want))
}

// block is one YAML mapping decoded against a fixed set of keys.
type block struct {
	d    *decoder
	path string
	line int // line of the key that opened the block
	vals map[string]*yaml.Node
	keys int // keys written, known or not
}

// retiredKeys maps keys that Data Prepper knows but ddbsync does not take to
// the reason, so that they get a better message than "unknown key".
type retiredKeys map[string]string

// block checks that n is a mapping (a null value counts as an empty one),
// records the line of every key, and reports duplicate and unknown keys.
// It returns nil when n is not a mapping (already reported).
func (d *decoder) block(n *yaml.Node, path string, line int, known []string, retired retiredKeys) *block {
	n = resolve(n)
	b := &block{d: d, path: path, line: line, vals: map[string]*yaml.Node{}}
	if n == nil || isNull(n) {
		return b
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, gotWant("wrong type", d.describe(n, path), "a mapping of keys"))
		return nil
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.add(k.Line, kp, fmt.Sprintf("duplicate key (first set at line %d)", first))
			continue
		}
		seen[key] = k.Line
		b.keys++
		d.idx.lines[kp] = k.Line
		if !contains(known, key) {
			d.unknown(k.Line, kp, key, known, retired)
			continue
		}
		b.vals[key] = v
	}
	return b
}

// unknown reports a key that is not part of the block.
func (d *decoder) unknown(line int, path, key string, known []string, retired retiredKeys) {
	if why, ok := retired[key]; ok {
		d.add(line, path, why)
		return
	}
	if len(known) == 0 {
		d.add(line, path, "unknown key (this block takes no options)")
		return
	}
	if s := suggest(key, known); s != "" {
		d.add(line, path, fmt.Sprintf("unknown key (did you mean %q?)", s))
		return
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	d.add(line, path, gotWant("unknown key", "", "one of "+strings.Join(sorted, ", ")))
}

// child returns the value node of key, its path and the line of the key; n
// is nil when the key is absent.
func (b *block) child(key string) (n *yaml.Node, path string, line int) {
	path = joinPath(b.path, key)
	n = resolve(b.vals[key])
	if n == nil {
		return nil, path, 0
	}
	return n, path, b.d.idx.lines[path]
}

// present reports whether key is written at all (even as null).
func (b *block) present(key string) bool { _, ok := b.vals[key]; return ok }

// scalar returns the text of a scalar option. ok is false when the key is
// absent, null, unresolvable (already reported) or not a scalar (reported).
func (b *block) scalar(key, want string) (v string, path string, ok bool) {
	n, path, _ := b.child(key)
	if n == nil || isNull(n) || b.d.idx.isBad(path) {
		return "", path, false
	}
	if n.Kind != yaml.ScalarNode {
		b.d.add(n.Line, path, gotWant("wrong type", b.d.describe(n, path), want))
		return "", path, false
	}
	if _, fromEnv := b.d.idx.env[path]; !fromEnv {
		if ref := bareEnvRef(n.Value); ref != "" {
			b.d.add(n.Line, path, gotWant("environment references are written ${env:NAME}", strconv.Quote(ref), strconv.Quote("${env:"+ref[2:])))
			return "", path, false
		}
	}
	return n.Value, path, true
}

// valueLine is the line of a key's value (where a bad value is written).
func (b *block) valueLine(key string) int {
	if n := resolve(b.vals[key]); n != nil {
		return n.Line
	}
	return b.line
}

func (b *block) fail(key, what, got, want string) {
	b.d.add(b.valueLine(key), joinPath(b.path, key), gotWant(what, got, want))
}

func (b *block) str(key string, dst *string) {
	if v, _, ok := b.scalar(key, "a string"); ok {
		*dst = v
	}
}

func (b *block) secret(key string, dst *Secret) {
	var s string
	b.str(key, &s)
	*dst = Secret(s)
}

func (b *block) boolean(key string, dst *bool) {
	v, path, ok := b.scalar(key, "true or false")
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		b.fail(key, "not a boolean", b.d.idx.got(path, v), "true or false")
	}
}

func (b *block) integer(key string, dst *int) {
	v, path, ok := b.scalar(key, "an integer")
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.fail(key, "not an integer", b.d.idx.got(path, v), "a whole number")
		return
	}
	*dst = n
}

func (b *block) number(key string, dst *float64) {
	v, path, ok := b.scalar(key, "a number")
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f { // f != f: NaN
		b.fail(key, "not a number", b.d.idx.got(path, v), "a number such as 5 or 2.5")
		return
	}
	*dst = f
}

// duration decodes a duration option; bare is the unit of a bare number (0:
// none allowed). See parseDuration for the rule.
func (b *block) duration(key string, dst *time.Duration, bare time.Duration) {
	v, path, ok := b.scalar(key, durationWant(bare))
	if !ok {
		return
	}
	d, err := parseDuration(v, bare)
	if err != nil {
		b.fail(key, "invalid duration: "+err.Error(), b.d.idx.got(path, v), durationWant(bare))
		return
	}
	*dst = d
}

// enum decodes one of allowed, matched without regard to case and stored as
// written in allowed.
func (b *block) enum(key string, dst *string, allowed ...string) {
	v, path, ok := b.scalar(key, strings.Join(allowed, " | "))
	if !ok {
		return
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			*dst = a
			return
		}
	}
	what := "invalid value"
	// No suggestion for a value from the environment: it would hint at the value.
	if _, fromEnv := b.d.idx.env[path]; !fromEnv {
		if s := suggest(v, allowed); s != "" {
			what = fmt.Sprintf("invalid value; did you mean %q?", s)
		}
	}
	b.fail(key, what, b.d.idx.got(path, v), strings.Join(allowed, " | "))
}

// template decodes a Data Prepper format string with expr.Parse.
func (b *block) template(key string, dst **expr.Template) {
	v, path, ok := b.scalar(key, "a format string")
	if !ok {
		return
	}
	t, err := expr.Parse(v)
	if err != nil {
		if _, fromEnv := b.d.idx.env[path]; fromEnv {
			// expr's message quotes the text, which may be a secret.
			b.fail(key, "invalid format string", b.d.idx.got(path, v), `${getMetadata("key")}, ${/json/pointer} or %{yyyy.MM.dd}`)
			return
		}
		b.d.add(b.valueLine(key), path, "invalid format string: "+err.Error())
		return
	}
	*dst = t
}

// strList decodes a list of strings.
func (b *block) strList(key string, dst *[]string, want string) {
	n, path, _ := b.child(key)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		b.d.add(n.Line, path, gotWant("wrong type", b.d.describe(n, path), want))
		return
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		ip := itemPath(path, i)
		b.d.idx.lines[ip] = c.Line
		if b.d.idx.isBad(ip) {
			b.d.idx.bad[path] = true // already reported: the list is not "empty"
			continue
		}
		if c.Kind != yaml.ScalarNode || isNull(c) {
			b.d.add(c.Line, ip, gotWant("wrong type", b.d.describe(c, ip), "a string"))
			continue
		}
		out = append(out, c.Value)
	}
	*dst = out
}

// strMap decodes a mapping of strings to strings.
func (b *block) strMap(key string, dst *map[string]string) {
	n, path, _ := b.child(key)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		b.d.add(n.Line, path, gotWant("wrong type", b.d.describe(n, path), "a mapping of header names to values"))
		return
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		kp := joinPath(path, k.Value)
		b.d.idx.lines[kp] = k.Line
		if b.d.idx.isBad(kp) {
			continue
		}
		if v.Kind != yaml.ScalarNode {
			b.d.add(v.Line, kp, gotWant("wrong type", b.d.describe(v, kp), "a string"))
			continue
		}
		out[k.Value] = v.Value
	}
	*dst = out
}

// describe names what a node is, for "got ..." — never a substituted value.
func (d *decoder) describe(n *yaml.Node, path string) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return d.idx.got(path, n.Value)
	}
	return "an alias"
}

// resolve follows YAML aliases to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
