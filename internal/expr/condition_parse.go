package expr

import (
	"fmt"
	"regexp"
	"strings"
)

// node is one part of a parsed condition.
type node interface {
	eval(f Fields) (any, error)
}

type condParser struct {
	toks []token
	i    int
	src  string
}

func (p *condParser) peek() token { return p.toks[p.i] }
func (p *condParser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *condParser) errAt(t token, msg string) error {
	return fmt.Errorf("%s at position %d in %q", msg, t.pos+1, p.src)
}

func (p *condParser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.text == w
}

// Precedence, loosest first: or, and, equality (== != =~ !~),
// relational (< <= > >=), not, primary — Data Prepper's order.
func (p *condParser) or() (node, error) {
	l, err := p.and()
	for err == nil && p.isWord("or") {
		p.next()
		var r node
		if r, err = p.and(); err == nil {
			l = logicNode{or: true, l: l, r: r}
		}
	}
	return l, err
}

func (p *condParser) and() (node, error) {
	l, err := p.equality()
	for err == nil && p.isWord("and") {
		p.next()
		var r node
		if r, err = p.equality(); err == nil {
			l = logicNode{l: l, r: r}
		}
	}
	return l, err
}

func (p *condParser) equality() (node, error) {
	l, err := p.relational()
	for err == nil && p.peek().kind == tokOp {
		op := p.peek()
		switch op.text {
		case "==", "!=":
			p.next()
			var r node
			if r, err = p.relational(); err == nil {
				l = eqNode{neg: op.text == "!=", l: l, r: r}
			}
		case "=~", "!~":
			p.next()
			t := p.next()
			if t.kind != tokString {
				return nil, p.errAt(t, op.text+" needs a regular expression in double quotes, not "+t.describe())
			}
			re, rerr := regexp.Compile(t.text)
			if rerr != nil {
				return nil, p.errAt(t, "invalid regular expression: "+rerr.Error())
			}
			l = matchNode{neg: op.text == "!~", l: l, re: re}
		default:
			return l, nil
		}
	}
	return l, err
}

func (p *condParser) relational() (node, error) {
	l, err := p.unary()
	for err == nil && p.peek().kind == tokOp {
		op := p.peek().text
		if op != "<" && op != "<=" && op != ">" && op != ">=" {
			break
		}
		p.next()
		var r node
		if r, err = p.unary(); err == nil {
			l = relNode{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *condParser) unary() (node, error) {
	if p.isWord("not") {
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errAt(c, `expected ")", got `+c.describe())
		}
		return n, nil
	case tokPointer:
		if t.text == "/" || strings.HasSuffix(t.text, "/") && len(t.text) > 1 {
			return nil, p.errAt(t, "incomplete JSON pointer "+t.describe())
		}
		return pointerNode(t.text), nil
	case tokString:
		return literal{t.text}, nil
	case tokNumber:
		n, _ := parseNumber(t.text)
		return literal{n}, nil
	case tokIdent:
		switch t.text {
		case "true":
			return literal{true}, nil
		case "false":
			return literal{false}, nil
		case "null":
			return literal{nil}, nil
		}
		if p.peek().kind == tokLParen {
			return p.call(t)
		}
		return nil, p.errAt(t, "unknown word "+t.describe()+" (strings need double quotes; pointers start with /)")
	}
	return nil, p.errAt(t, "expected a value, got "+t.describe())
}

// call parses a function call after its name.
func (p *condParser) call(name token) (node, error) {
	p.next() // (
	var args []node
	if p.peek().kind != tokRParen {
		for {
			a, err := p.or()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if c := p.next(); c.kind != tokRParen {
		return nil, p.errAt(c, `expected ")" after the arguments of `+name.text+", got "+c.describe())
	}
	want := map[string][2]int{"getMetadata": {1, 1}, "hasTags": {1, 100}, "length": {1, 1}, "contains": {2, 2}, "startsWith": {2, 2}}
	n, ok := want[name.text]
	if !ok {
		return nil, p.errAt(name, "unknown function "+name.text+" (expected getMetadata, hasTags, length, contains or startsWith)")
	}
	if len(args) < n[0] || len(args) > n[1] {
		return nil, p.errAt(name, fmt.Sprintf("%s takes %d argument(s), got %d", name.text, n[0], len(args)))
	}
	switch name.text {
	case "getMetadata", "hasTags":
		var keys []string
		for _, a := range args {
			l, ok := a.(literal)
			s, isStr := l.v.(string)
			if !ok || !isStr {
				return nil, p.errAt(name, name.text+" needs quoted string arguments")
			}
			keys = append(keys, s)
		}
		if name.text == "getMetadata" {
			return metadataNode(keys[0]), nil
		}
		return tagsNode(keys), nil
	}
	return funcNode{name: name.text, args: args}, nil
}
