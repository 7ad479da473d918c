package bulk

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// Default templates, as Data Prepper's DynamoDB blueprint sets them. They
// apply to fields the config leaves nil (always the case for stdout / file).
var (
	defaultIndex   = `${getMetadata("table_name")}`
	defaultID      = `${getMetadata("primary_key")}`
	defaultAction  = `${getMetadata("opensearch_action")}`
	defaultVersion = `${getMetadata("document_version")}`
)

// Resolver evaluates a sink's templates for each event. It is immutable and
// safe for concurrent use.
type Resolver struct {
	index, id, routing, action, version, pipeline *expr.Template
	versionType                                   string // "" = internal
	normalize                                     bool
}

// NewResolver builds a resolver from the sink config; nil config or nil
// templates take the defaults (index = table name). It rejects an unknown
// document_version_type and a literal action ddbsync does not support.
func NewResolver(cfg *config.OpenSearch) (*Resolver, error) {
	if cfg == nil {
		cfg = &config.OpenSearch{}
	}
	r := &Resolver{
		index:     orDefault(cfg.Index, defaultIndex),
		id:        orDefault(cfg.DocumentID, defaultID),
		routing:   cfg.Routing,
		action:    orDefault(cfg.Action, defaultAction),
		version:   orDefault(cfg.DocumentVersion, defaultVersion),
		pipeline:  cfg.Pipeline,
		normalize: cfg.NormalizeIndex,
	}
	switch cfg.DocumentVersionType {
	case "", VersionExternal:
		r.versionType = VersionExternal
	case VersionExternalGTE:
		r.versionType = VersionExternalGTE
	case VersionInternal:
		r.versionType = ""
	default:
		return nil, fmt.Errorf("document_version_type %q is not supported (use external, external_gte or internal)", cfg.DocumentVersionType)
	}
	if r.action.IsLiteral() {
		a, _ := r.action.Eval(nil)
		if _, err := parseAction(a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func orDefault(t *expr.Template, def string) *expr.Template {
	if t != nil {
		return t
	}
	return expr.MustParse(def)
}

// IndexTemplate returns the index template (for index management).
func (r *Resolver) IndexTemplate() *expr.Template { return r.index }

// NormalizeIndex applies normalize_index to a literal index name.
func (r *Resolver) NormalizeIndex(name string) string {
	if r.normalize {
		return normalizeIndex(name)
	}
	return name
}

// Resolve evaluates every template for one event. Errors name the template
// and the event's table and key.
func (r *Resolver) Resolve(ev *change.Event) (Item, error) {
	fail := func(field string, err error) (Item, error) {
		return Item{}, fmt.Errorf("table %s item %q: %s: %w", ev.Table, ev.ID, field, err)
	}
	a, err := r.action.Eval(ev)
	if err != nil {
		return fail("action", err)
	}
	act, err := parseAction(a)
	if err != nil {
		return fail("action", err)
	}
	it := Item{Action: act, Event: ev}
	if it.Index, err = r.index.Eval(ev); err != nil {
		return fail("index", err)
	}
	it.Index = r.NormalizeIndex(it.Index)
	if it.Index == "" {
		return fail("index", fmt.Errorf("%q evaluated to an empty name", r.index))
	}
	if it.ID, err = r.id.Eval(ev); err != nil {
		return fail("document_id", err)
	}
	if it.ID == "" {
		return fail("document_id", fmt.Errorf("%q evaluated to an empty _id", r.id))
	}
	if r.routing != nil {
		if it.Routing, err = r.routing.Eval(ev); err != nil {
			return fail("routing", err)
		}
	}
	if r.pipeline != nil && act != ActionDelete {
		if it.Pipeline, err = r.pipeline.Eval(ev); err != nil {
			return fail("pipeline", err)
		}
	}
	// OpenSearch accepts only internal versioning on create.
	if r.versionType != "" && act != ActionCreate {
		v, err := r.version.Eval(ev)
		if err != nil {
			return fail("document_version", err)
		}
		if it.Version, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fail("document_version", fmt.Errorf("%q is not a 64-bit integer", v))
		}
		it.VersionType = r.versionType
	}
	if act != ActionDelete && len(ev.Doc) == 0 {
		return fail("document", fmt.Errorf("%s action without a document", act))
	}
	return it, nil
}

func parseAction(s string) (Action, error) {
	switch Action(s) {
	case ActionIndex, ActionCreate, ActionDelete:
		return Action(s), nil
	case "update", "upsert":
		return "", fmt.Errorf("action %q is not supported (ddbsync writes whole documents: use index, create or delete)", s)
	}
	return "", fmt.Errorf("unknown action %q (use index, create or delete)", s)
}

// normalizeIndex makes an index name acceptable to OpenSearch the way Data
// Prepper's normalize_index does: lower case, no forbidden characters, no
// leading '-', '_' or '+'.
func normalizeIndex(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`\/*?"<>| ,#:`, r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimLeft(s, "-_+")
}
