package opensearch

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// numberMappings is the mapping ddbsync gives the indices it creates under
// number_mapping: double (the default).
//
// OpenSearch's dynamic mapping maps a field from its first value: an
// integer as long (so a later 38-digit N, or 9.99E+125 written out in full,
// fails to parse), a fraction as float; and parallel first writes race
// ("mapper [x] cannot be changed from type [long] to [float]"). DynamoDB's N
// has one type, so every JSON number maps to double whichever shape it has:
// a double holds every N's magnitude (1E-130 … 9.99E+125) to 15–17
// significant digits for search and sorting, while _source keeps the exact
// digits. ignore_malformed keeps a document whose attribute is N in one item
// and S in another (the string is kept in _source, not indexed in that
// field). DynamoDB has no date type, so date_detection is off: a string that
// looks like a date would otherwise map the field as date and fail every
// later free-text value.
//
// A BOOL maps as text with a .keyword sub-field, exactly as a string does:
// OpenSearch's boolean type has no ignore_malformed, so a field first mapped
// boolean would refuse every later S, N or B value of the attribute (an
// attribute has no fixed type across items, nor inside a list), and a
// string and a boolean racing to map a new field would conflict. A text
// field indexes true/false as their text; `term: {flag: true}` still
// matches.
func numberMappings() map[string]any {
	asDouble := map[string]any{"type": "double", "ignore_malformed": true}
	return map[string]any{
		"date_detection": false,
		"dynamic_templates": []any{
			map[string]any{"ddbsync_integers": map[string]any{"match_mapping_type": "long", "mapping": asDouble}},
			map[string]any{"ddbsync_fractions": map[string]any{"match_mapping_type": "double", "mapping": asDouble}},
			map[string]any{"ddbsync_booleans": map[string]any{"match_mapping_type": "boolean", "mapping": textMapping()}},
			map[string]any{"ddbsync_strings": map[string]any{"match_mapping_type": "string", "mapping": textMapping()}},
		},
	}
}

// textMapping is OpenSearch's default mapping of a string: text with a
// .keyword sub-field for exact match, sorting and aggregations.
func textMapping() map[string]any {
	return map[string]any{"type": "text", "fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}
}

// mappingDepthLimit is index.mapping.depth.limit on the indices whose mapping
// ddbsync owns. DynamoDB nests maps and lists up to 32 levels; OpenSearch's
// default limit of 20 object levels refuses such a legal item for good.
const mappingDepthLimit = 64

// mappingSettings are the index settings that go with numberMappings.
func mappingSettings() map[string]any {
	return map[string]any{"index.mapping.depth.limit": mappingDepthLimit}
}

// numberTemplateOrder is the legacy template's order: below every user
// template (order 0 and up), whose settings and mappings win where they
// overlap; a composable _index_template matching the index replaces it
// altogether.
const numberTemplateOrder = -1

// numberTemplate is the legacy index template that carries numberMappings to
// the indices OpenSearch creates on a bulk write: the indices of a %{...}
// or ${...} index pattern, and a literal index deleted under a running
// pipeline. It is nil when ddbsync does not own the mapping (number_mapping:
// none, a user template, index_type management_disabled) or when the index
// starts with a reference, so no pattern can be derived (the literal index
// then still gets the mapping when ddbsync creates it).
func numberTemplate(cfg *config.OpenSearch, res *bulk.Resolver) (*indexTemplate, error) {
	if !ownsNumberMapping(cfg) {
		return nil, nil
	}
	idx := res.IndexTemplate()
	base, pattern := indexPrefix(idx.String()), indexGlob(idx.String())
	if idx.IsLiteral() {
		base = res.NormalizeIndex(idx.String())
		pattern = base
	}
	if base == "" {
		return nil, nil
	}
	body := map[string]any{
		"index_patterns": []string{pattern},
		"order":          numberTemplateOrder,
		"settings":       mappingSettings(),
		"mappings":       numberMappings(),
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode number mapping template: %w", err)
	}
	return &indexTemplate{kind: templateV1, name: strings.TrimSuffix(base, "-") + "-ddbsync-numbers", body: b}, nil
}

// ownsNumberMapping reports whether ddbsync installs numberMappings: only
// when number_mapping is double and the user gives no template of their own
// and lets ddbsync manage the index.
func ownsNumberMapping(cfg *config.OpenSearch) bool {
	return cfg.NumberMapping != config.NumberMappingNone &&
		cfg.IndexType != config.IndexTypeManagementDisabled &&
		cfg.TemplateFile == "" && cfg.TemplateContent == ""
}

// indexGlob is the index pattern of an index format string: every ${...}
// and %{...} reference becomes '*' ("orders-%{yyyy.MM}-v2" → "orders-*-v2"),
// so the template matches the pipeline's indices and as few others as
// possible.
func indexGlob(index string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(index, "$%")
		if i < 0 || i+1 >= len(index) || index[i+1] != '{' {
			if i < 0 {
				b.WriteString(index)
				break
			}
			b.WriteString(index[:i+1])
			index = index[i+1:]
			continue
		}
		b.WriteString(index[:i])
		end := strings.IndexByte(index[i:], '}')
		if end < 0 {
			b.WriteString("*")
			break
		}
		if !strings.HasSuffix(b.String(), "*") {
			b.WriteString("*")
		}
		index = index[i+end+1:]
	}
	return b.String()
}
