package processor

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// compileFormat parses a Data Prepper format string ("${/a}-${b}" or
// "${getMetadata(\"k\")}"). Data Prepper reads ${b} as the key b, so a
// reference without a leading slash is made a JSON pointer first.
func compileFormat(s string) (*expr.Template, error) {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			b.WriteString(rest)
			break
		}
		body := strings.TrimSpace(rest[i+2 : i+end])
		b.WriteString(rest[:i])
		if body != "" && !strings.HasPrefix(body, "/") && !strings.HasPrefix(body, "getMetadata(") {
			body = "/" + body
		}
		b.WriteString("${" + body + "}")
		rest = rest[i+end+1:]
	}
	return expr.Parse(b.String())
}

// formatSource lets a format string read the document being processed.
type formatSource struct{ r *record }

func (f formatSource) Metadata(k string) (string, bool) { return f.r.ev.Metadata(k) }
func (f formatSource) Time() time.Time                  { return f.r.ev.Time() }
func (f formatSource) Pointer(ptr string) (string, bool) {
	v, ok := f.r.Field(ptr)
	if !ok || v == nil {
		return "", false
	}
	return textOf(v)
}

// textOf renders a value as text: strings as they are, numbers with their
// digits, booleans, and objects or lists as JSON.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case nil:
		return "null", true
	}
	b, err := appendJSON(nil, v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// eval renders a format string against r.
func evalFormat(t *expr.Template, r *record) (string, error) {
	s, err := t.Eval(formatSource{r})
	if err != nil {
		return "", fmt.Errorf("format %q: %w", t.String(), err)
	}
	return s, nil
}
