package opensearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Template types (config template_type).
const (
	templateV1    = config.TemplateTypeV1
	templateIndex = config.TemplateTypeIndexTemplate
)

// indexTemplate is the template Prepare installs: PUT _template/<name> (v1)
// or PUT _index_template/<name> (index-template).
type indexTemplate struct {
	kind    string
	name    string
	body    []byte // JSON, keys sorted
	version int64  // the template's "version", 0 when absent
}

// path is the REST path of the template.
func (t *indexTemplate) path() string {
	if t.kind == templateIndex {
		return "/_index_template/" + t.name
	}
	return "/_template/" + t.name
}

// loadTemplate reads template_file or template_content; nil when neither is
// set or index management is disabled.
func loadTemplate(cfg *config.OpenSearch, res *bulk.Resolver) (*indexTemplate, error) {
	if cfg.IndexType == config.IndexTypeManagementDisabled {
		return nil, nil
	}
	var content []byte
	switch {
	case cfg.TemplateFile != "" && cfg.TemplateContent != "":
		return nil, errors.New("set template_file or template_content, not both")
	case cfg.TemplateContent != "":
		content = []byte(cfg.TemplateContent)
	case cfg.TemplateFile != "":
		var err error
		if content, err = readTemplateFile(cfg.TemplateFile); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	idx := res.IndexTemplate()
	base := indexPrefix(idx.String())
	if idx.IsLiteral() {
		base = res.NormalizeIndex(idx.String())
	}
	return buildTemplate(cfg.TemplateType, content, base, idx.IsLiteral(), cfg.NumberOfShards, cfg.NumberOfReplicas)
}

// indexPrefix is the fixed text of an index format string before its first
// reference: "logs-%{yyyy.MM.dd}" → "logs-".
func indexPrefix(index string) string {
	if i := strings.Index(index, "${"); i >= 0 {
		index = index[:i]
	}
	if i := strings.Index(index, "%{"); i >= 0 {
		index = index[:i]
	}
	return index
}

// buildTemplate derives the template as Data Prepper does: its name is the
// index (or the fixed prefix of a dynamic index) without a trailing '-',
// plus "-index-template"; its index_patterns are the literal index, or the
// prefix followed by '*'; number_of_shards (> 0) and number_of_replicas
// (>= 0) are added to its settings unless the template sets them.
func buildTemplate(kind string, content []byte, base string, literal bool, shards, replicas int) (*indexTemplate, error) {
	switch kind {
	case "":
		kind = templateV1
	case templateV1, templateIndex:
	default:
		return nil, fmt.Errorf("template_type %q is not supported (use v1 or index-template)", kind)
	}
	if base == "" {
		return nil, errors.New("the index starts with a ${...} reference, so the template's name and index_patterns cannot be derived from it; start the index with a fixed prefix")
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("index template is not a JSON object: %v", err)
	}
	t := &indexTemplate{kind: kind, name: strings.TrimSuffix(base, "-") + "-index-template"}
	if v, ok := m["version"].(json.Number); ok {
		n, err := v.Int64()
		if err != nil {
			return nil, fmt.Errorf("index template version %s is not an integer", v)
		}
		t.version = n
	}
	pattern := base
	if !literal {
		pattern += "*"
	}
	m["index_patterns"] = []string{pattern}
	settings := m
	if kind == templateIndex {
		settings = child(m, "template")
	}
	settings = child(settings, "settings")
	if shards > 0 && !hasSetting(settings, "number_of_shards") {
		settings["number_of_shards"] = shards
	}
	if replicas >= 0 && !hasSetting(settings, "number_of_replicas") {
		settings["number_of_replicas"] = replicas
	}
	var err error
	if t.body, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("encode index template: %w", err)
	}
	return t, nil
}

// child returns m[key] as an object, creating it when absent.
func child(m map[string]any, key string) map[string]any {
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	c := map[string]any{}
	m[key] = c
	return c
}

// hasSetting reports whether settings set name in any of its spellings:
// "name", "index.name" or {"index": {"name": ...}}.
func hasSetting(settings map[string]any, name string) bool {
	if _, ok := settings[name]; ok {
		return true
	}
	if _, ok := settings["index."+name]; ok {
		return true
	}
	idx, ok := settings["index"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = idx[name]
	return ok
}

// existingTemplateVersion reads the version from a GET template response;
// ok is false when the response holds no version.
func existingTemplateVersion(kind, name string, body []byte) (v int64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var num json.Number
	if kind == templateIndex {
		var r struct {
			IndexTemplates []struct {
				Name          string `json:"name"`
				IndexTemplate struct {
					Version json.Number `json:"version"`
				} `json:"index_template"`
			} `json:"index_templates"`
		}
		if dec.Decode(&r) != nil {
			return 0, false
		}
		for _, t := range r.IndexTemplates {
			if t.Name == name {
				num = t.IndexTemplate.Version
			}
		}
	} else {
		var r map[string]struct {
			Version json.Number `json:"version"`
		}
		if dec.Decode(&r) != nil {
			return 0, false
		}
		num = r[name].Version
	}
	v, err := num.Int64()
	return v, err == nil
}
