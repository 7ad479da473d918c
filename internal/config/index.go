package config

import (
	"fmt"
	"strconv"
	"strings"
)

// index remembers, for one parsed file, where each key was written and which
// values came from the environment, so that validation and Unsupported can
// point at lines and never print a substituted value.
type index struct {
	lines map[string]int    // path → line of the key (or list item)
	env   map[string]string // path → scalar text before ${env:...} substitution
	bad   map[string]bool   // path whose value could not be resolved (already reported)
}

func newIndex() *index {
	return &index{lines: map[string]int{}, env: map[string]string{}, bad: map[string]bool{}}
}

// line returns the line of path, or of its nearest written ancestor (the
// block a missing key belongs in). A nil index knows no lines.
func (x *index) line(path string) int {
	if x == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if n, ok := x.lines[p]; ok {
			return n
		}
	}
	return 0
}

// has reports whether path was written in the file.
func (x *index) has(path string) bool {
	if x == nil {
		return false
	}
	_, ok := x.lines[path]
	return ok
}

// isBad reports whether path's value failed to resolve (a problem is already
// reported), so later checks stay quiet about it.
func (x *index) isBad(path string) bool { return x != nil && x.bad[path] }

// got renders a value for a message: quoted, or — when it came from the
// environment — the reference it came from, never the value itself.
func (x *index) got(path, value string) string {
	if x != nil {
		if raw, ok := x.env[path]; ok {
			return "the value of " + strconv.Quote(raw)
		}
	}
	return strconv.Quote(value)
}

// joinPath appends a mapping key to a path.
func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	if key == "" {
		return parent
	}
	return parent + "." + key
}

// itemPath appends a list index to a path.
func itemPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// parentPath drops the last key or list index of a path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i > 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Paths of the model's blocks, shared by decode, validate, Unsupported and
// Summary so that they name keys identically.

func sourcePath(p *Pipeline) string       { return p.Name + ".source.dynamodb" }
func tablePath(p *Pipeline, i int) string { return itemPath(sourcePath(p)+".tables", i) }
func sinkPath(p *Pipeline, i int, s Sink) string {
	return joinPath(itemPath(p.Name+".sink", i), s.Kind())
}
