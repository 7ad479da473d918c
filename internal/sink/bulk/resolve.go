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

// Resolve evaluates every template for one event and returns its main
// operation. Errors name the template and the event's table and key. A
// delete is placed (index, _id, routing) by the old image when the event
// has one, so that pointers on attributes a REMOVE's keys lack resolve.
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
	var at expr.Source = ev
	if old := ev.Old(); old != nil && act == ActionDelete {
		at = old
	}
	if field, err := r.place(&it, at); err != nil {
		return fail(field, err)
	}
	if r.pipeline != nil && act != ActionDelete {
		if it.Pipeline, err = r.pipeline.Eval(ev); err != nil {
			return fail("pipeline", err)
		}
	}
	// OpenSearch accepts only internal versioning on create.
	if r.versionType != "" && act != ActionCreate {
		if it.Version, err = r.evalVersion(ev); err != nil {
			return fail("document_version", err)
		}
		it.VersionType = r.versionType
	}
	if act != ActionDelete && len(ev.Doc) == 0 {
		return fail("document", fmt.Errorf("%s action without a document", act))
	}
	return it, nil
}

// place evaluates index, _id and routing against src; on error it returns
// the field that failed.
func (r *Resolver) place(it *Item, src expr.Source) (string, error) {
	var err error
	if it.Index, err = r.index.Eval(src); err != nil {
		return "index", err
	}
	it.Index = r.NormalizeIndex(it.Index)
	if it.Index == "" {
		return "index", fmt.Errorf("%q evaluated to an empty name", r.index)
	}
	if it.ID, err = r.id.Eval(src); err != nil {
		return "document_id", err
	}
	if it.ID == "" {
		return "document_id", fmt.Errorf("%q evaluated to an empty _id", r.id)
	}
	if r.routing != nil {
		if it.Routing, err = r.routing.Eval(src); err != nil {
			return "routing", err
		}
	}
	return "", nil
}

func (r *Resolver) evalVersion(ev *change.Event) (int64, error) {
	v, err := r.version.Eval(ev)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a 64-bit integer", v)
	}
	return n, nil
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
