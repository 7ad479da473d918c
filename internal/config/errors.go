package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong in a pipeline file, located by line and YAML path.
type Problem struct {
	Line int    // 1-based line in the file; 0 when unknown
	Path string // e.g. dynamodb-pipeline.source.dynamodb.tables[0].table_arn; "" for the whole file
	Msg  string // what is wrong, usually "… (got X; expected Y)"
}

// String renders the problem as `line N: path.to.key: what is wrong`.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem found in a pipeline file, sorted by line. Parse and
// Load return it (as *Errors) when the file is invalid.
type Errors []Problem

// Error renders one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(*e))
	for i, p := range *e {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by line, then path, keeping the order of
// problems reported for the same key.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Path < ps[j].Path
	})
}

// gotWant formats the usual tail of a message: "what (got X; expected Y)".
func gotWant(what, got, want string) string {
	switch {
	case got != "" && want != "":
		return fmt.Sprintf("%s (got %s; expected %s)", what, got, want)
	case got != "":
		return fmt.Sprintf("%s (got %s)", what, got)
	case want != "":
		return fmt.Sprintf("%s (expected %s)", what, want)
	}
	return what
}
