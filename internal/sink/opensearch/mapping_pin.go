package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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
		return m[1], map[string]any{"type": "text", "fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}, true
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
	path := "/" + url.PathEscape(index) + "/_mapping/field/" + url.PathEscape(field)
	status, body, err := s.do(ctx, http.MethodGet, path, nil)
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

// fieldMapped reports whether a GET _mapping/field answer holds field.
func fieldMapped(body []byte, field string) bool {
	var r map[string]struct {
		Mappings map[string]json.RawMessage `json:"mappings"`
	}
	if json.NewDecoder(bytes.NewReader(body)).Decode(&r) != nil {
		return true // unreadable: leave the mapping alone
	}
	for _, idx := range r {
		if _, ok := idx.Mappings[field]; ok {
			return true
		}
	}
	return false
}
