// Package expr evaluates Data Prepper format strings such as
// `${getMetadata("primary_key")}`, `${/json/pointer}` and the
// `%{yyyy.MM.dd}` date patterns allowed in index names.
package expr

import (
	"fmt"
	"strings"
	"time"
)

// Source is what a template reads from; *change.Event implements it.
type Source interface {
	Metadata(key string) (string, bool)
	Pointer(ptr string) (string, bool)
	Time() time.Time
}

type partKind uint8

const (
	partLiteral partKind = iota
	partMetadata
	partPointer
	partDate
)

type part struct {
	kind partKind
	text string // literal text, metadata key, pointer, or Go time layout
}

// Template is a parsed format string. The zero value evaluates to "".
type Template struct {
	raw   string
	parts []part
}

// Parse parses a format string. It reports the first malformed reference.
func Parse(s string) (*Template, error) {
	t := &Template{raw: s}
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "$%")
		if i < 0 || i+1 >= len(rest) || rest[i+1] != '{' {
			if i < 0 || i+1 >= len(rest) {
				t.lit(rest)
				break
			}
			t.lit(rest[:i+1])
			rest = rest[i+1:]
			continue
		}
		t.lit(rest[:i])
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed %q in %q", rest[i:i+2], s)
		}
		body := strings.TrimSpace(rest[i+2 : i+end])
		var p part
		var err error
		if rest[i] == '%' {
			p, err = parseDate(body)
		} else {
			p, err = parseRef(body)
		}
		if err != nil {
			return nil, fmt.Errorf("%w in %q", err, s)
		}
		t.parts = append(t.parts, p)
		rest = rest[i+end+1:]
	}
	return t, nil
}

// MustParse is Parse for constants known to be valid; it panics otherwise.
func MustParse(s string) *Template {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *Template) lit(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].kind == partLiteral {
		t.parts[n-1].text += s
		return
	}
	t.parts = append(t.parts, part{kind: partLiteral, text: s})
}

func parseRef(body string) (part, error) {
	switch {
	case strings.HasPrefix(body, "/"):
		return part{kind: partPointer, text: body}, nil
	case strings.HasPrefix(body, "getMetadata(") && strings.HasSuffix(body, ")"):
		arg := strings.TrimSpace(body[len("getMetadata(") : len(body)-1])
		if len(arg) < 2 || (arg[0] != '"' && arg[0] != '\'') || arg[len(arg)-1] != arg[0] {
			return part{}, fmt.Errorf("getMetadata needs one quoted key, got %s", arg)
		}
		return part{kind: partMetadata, text: arg[1 : len(arg)-1]}, nil
	}
	return part{}, fmt.Errorf("unsupported expression ${%s} (expected ${getMetadata(\"key\")} or ${/json/pointer})", body)
}

// javaDate maps the Java DateTimeFormatter letters Data Prepper accepts to Go layouts.
var javaDate = []struct{ java, gofmt string }{
	{"yyyy", "2006"}, {"yy", "06"}, {"MM", "01"}, {"dd", "02"}, {"HH", "15"}, {"mm", "04"}, {"ss", "05"},
}

func parseDate(body string) (part, error) {
	if body == "" {
		return part{}, fmt.Errorf("empty date pattern %%{}")
	}
	layout := body
	for _, m := range javaDate {
		layout = strings.ReplaceAll(layout, m.java, m.gofmt)
	}
	for _, r := range layout {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return part{}, fmt.Errorf("unsupported date pattern %%{%s} (use yyyy, yy, MM, dd, HH, mm, ss)", body)
		}
	}
	return part{kind: partDate, text: layout}, nil
}

// String returns the format string as written.
func (t *Template) String() string { return t.raw }

// IsLiteral reports whether the template has no references.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.kind != partLiteral {
			return false
		}
	}
	return true
}

// Eval renders the template for one source. A reference that does not
// resolve is an error naming it.
func (t *Template) Eval(src Source) (string, error) {
	if len(t.parts) == 1 && t.parts[0].kind == partLiteral {
		return t.parts[0].text, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case partLiteral:
			b.WriteString(p.text)
		case partMetadata:
			v, ok := src.Metadata(p.text)
			if !ok {
				return "", fmt.Errorf("metadata %q is not set", p.text)
			}
			b.WriteString(v)
		case partPointer:
			v, ok := src.Pointer(p.text)
			if !ok {
				return "", fmt.Errorf("document has no value at %s", p.text)
			}
			b.WriteString(v)
		case partDate:
			b.WriteString(src.Time().UTC().Format(p.text))
		}
	}
	return b.String(), nil
}
