package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// A DynamoDB list may mix kinds: [1, "a"], [1, {"y": 2}]. On a field that
// has no mapping yet, OpenSearch's dynamic mapping then refuses the whole
// document however often it is sent ("mapper [l] cannot be changed from
// type [double] to [text]", "can't merge a non object mapping [l] with an
// object mapping"): the first element maps the field one way, the next
// another, in the same document. Retrying cannot help, since the failed
// document leaves no mapping behind. So when ddbsync owns the mapping
// (number_mapping: double), it pins such a field once, with a type that
// accepts both kinds:
//
//   - text (with a .keyword sub-field, as OpenSearch maps strings) when one
//     side is a string: numbers and booleans are indexed as their text;
//   - double with ignore_malformed when numbers meet booleans;
//   - an object with enabled: false when one side is an object (or any
//     other pair): kept in _source, not searchable.
//
// A field that already has a mapping is never touched: the conflict was a
// race between writers, and the next attempt parses against the winner's
// mapping (ignore_malformed keeps a string in a double field).

var (
	changedType   = regexp.MustCompile(`mapper \[([^\]]+)\] cannot be changed from type \[([^\]]+)\] to \[([^\]]+)\]`)
	differentType = regexp.MustCompile(`mapper \[([^\]]+)\] of different type, current_type \[([^\]]+)\], merged_type \[([^\]]+)\]`)
	nonObject     = regexp.MustCompile(`can't merge a non[ -](?:object|nested) mapping \[([^\]]+)\] with an? (?:object|nested) mapping`)
)

// conflictPin is the field and the mapping a conflict reason asks for; ok
// is false when the reason names no field.
func conflictPin(reason string) (field string, mapping map[string]any, ok bool) {
	if m := nonObject.FindStringSubmatch(reason); m != nil {
		return m[1], disabledObject(), true
	}
	m := changedType.FindStringSubmatch(reason)
	if m == nil {
		m = differentType.FindStringSubmatch(reason)
	}
	if m == nil {
		return "", nil, false
	}
	kinds := map[string]bool{kindOf(m[2]): true, kindOf(m[3]): true}
	switch {
	case kinds["object"]:
		return m[1], disabledObject(), true
	case kinds["string"]:
		return m[1], textMapping(), true
	case kinds["number"] && kinds["boolean"]:
		return m[1], map[string]any{"type": "double", "ignore_malformed": true}, true
	}
	return m[1], disabledObject(), true
}

func disabledObject() map[string]any { return map[string]any{"type": "object", "enabled": false} }

// kindOf groups OpenSearch field types by the JSON they come from.
func kindOf(typ string) string {
	switch typ {
	case "text", "keyword", "match_only_text", "wildcard":
		return "string"
	case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
		return "number"
	case "boolean":
		return "boolean"
	case "object", "nested":
		return "object"
	}
	return typ
}

// pinConflict pins the field an in-document mapping conflict names, when
// ddbsync owns the mapping and the field has none yet. Best effort: a
// failure is logged and the item is simply sent again (and dead-lettered
// after its last attempt).
func (s *Sink) pinConflict(ctx context.Context, index, reason string) {
	if !ownsNumberMapping(s.cfg) {
		return
	}
	field, mapping, ok := conflictPin(reason)
	if !ok {
		return
	}
	// One at a time: writers that hit the same conflict together then see
	// the first one's pin and leave it.
	s.pinMu.Lock()
	defer s.pinMu.Unlock()
	// The whole mapping, not _mapping/field: that one leaves out object
	// fields, such as an earlier pin.
	status, body, err := s.do(ctx, http.MethodGet, "/"+url.PathEscape(index)+"/_mapping", nil)
	if err != nil || status != http.StatusOK || fieldMapped(body, field) {
		return
	}
	put, _ := json.Marshal(map[string]any{"properties": map[string]any{field: mapping}}) // strings and bools always encode
	status, body, err = s.do(ctx, http.MethodPut, "/"+url.PathEscape(index)+"/_mapping", put)
	attrs := []slog.Attr{slog.String(keyIndex, index), slog.String("field", field), slog.String("mapping", string(put))}
	switch {
	case err != nil:
		s.log.LogAttrs(ctx, slog.LevelWarn, "pin mapping of a mixed-kind field", append(attrs, slog.String("error", err.Error()))...)
	case status != http.StatusOK:
		s.log.LogAttrs(ctx, slog.LevelWarn, "pin mapping of a mixed-kind field", append(attrs, slog.String("error", explainStatus(status, body)))...)
	default:
		s.log.LogAttrs(ctx, slog.LevelInfo, "a list mixes kinds in a field without a mapping: field mapping pinned", attrs...)
	}
}

// fieldMapped reports whether a GET <index>/_mapping answer maps the
// dotted path field (in any of its indices, for an alias).
func fieldMapped(body []byte, field string) bool {
	type props struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var r map[string]struct {
		Mappings props `json:"mappings"`
	}
	if json.NewDecoder(bytes.NewReader(body)).Decode(&r) != nil {
		return true // unreadable: leave the mapping alone
	}
	for _, idx := range r {
		p := idx.Mappings
		parts := strings.Split(field, ".")
		for i, name := range parts {
			raw, ok := p.Properties[name]
			if !ok {
				break
			}
			if i == len(parts)-1 {
				return true
			}
			p = props{}
			if json.Unmarshal(raw, &p) != nil {
				break
			}
		}
	}
	return false
}
