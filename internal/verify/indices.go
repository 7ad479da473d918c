package verify

import (
	"sort"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// indexNames is what to read to see every document the sink may have
// written for the table: the literal index; or the index when it depends on
// the table name only; or `prefix*` for a format string with a fixed prefix
// (date patterns, JSON pointers), plus any resolved name outside it; or
// else the names the items resolved to (a document in another index is not
// seen).
func indexNames(res *bulk.Resolver, table string, resolved map[string]bool) []string {
	tmpl := res.IndexTemplate()
	if tmpl.IsLiteral() {
		return []string{res.NormalizeIndex(tmpl.String())}
	}
	if name, ok := constantIndex(res, table); ok {
		return []string{name}
	}
	var out []string
	prefix := indexPrefix(tmpl.String())
	if prefix != "" {
		prefix = res.NormalizeIndex(prefix)
		out = append(out, prefix+"*")
	}
	for name := range resolved {
		if prefix == "" || !strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// constantIndex evaluates the index template for two unrelated probe events
// of the table: the same name from both means it depends on the table only.
func constantIndex(res *bulk.Resolver, table string) (string, bool) {
	probe := func(id string, at time.Time) (string, bool) {
		ev := &change.Event{Table: table, ID: id, PartitionKey: id, Doc: []byte(`{}`), Timestamp: at, Version: at.Unix()}
		name, err := res.IndexTemplate().Eval(ev)
		return res.NormalizeIndex(name), err == nil && name != ""
	}
	a, okA := probe("verify-probe-a", time.Date(2001, 1, 1, 1, 1, 1, 0, time.UTC))
	b, okB := probe("verify-probe-b", time.Date(2032, 12, 31, 23, 59, 59, 0, time.UTC))
	return a, okA && okB && a == b
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
