package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the pipeline file at path. env looks up environment
// variables for ${env:NAME} references (os.LookupEnv in main). An invalid
// file gives an *Errors listing every problem; a file that cannot be read
// gives a plain error.
func Load(path string, env func(string) (string, bool)) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	return Parse(path, data, env)
}

// Parse parses a pipeline file's contents: YAML (with line numbers) →
// ${env:NAME} substitution → decode into the model → defaults → validate.
// name is kept in File.Name. A nil env resolves no variable. When anything is wrong, Parse returns a nil *File and an *Errors
// with every problem found, sorted by line.
func Parse(name string, data []byte, env func(string) (string, bool)) (*File, error) {
	doc, prob := parseYAML(data)
	if prob != nil {
		return nil, &Errors{*prob}
	}
	idx := newIndex()
	probs := substituteEnv(doc, env, idx)
	d := &decoder{idx: idx}
	f := d.file(doc)
	probs = append(probs, d.probs...)
	applyDefaults(f)
	probs = append(probs, validate(f)...)
	if len(probs) > 0 {
		sortProblems(probs)
		errs := Errors(probs)
		return nil, &errs
	}
	f.Name = name
	return f, nil
}

// parseYAML reads exactly one YAML document.
func parseYAML(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &doc, nil // empty file: reported by the decoder
		}
		return nil, yamlProblem(data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Problem{Line: extra.Line, Msg: "a second YAML document (---) is not supported (expected one document with every pipeline)"}
	case !errors.Is(err, io.EOF):
		return nil, yamlProblem(data, err)
	}
	return &doc, nil
}

// yamlProblem turns a yaml.v3 syntax error ("yaml: line 7: did not find
// expected key") into a Problem. yaml.v3 reports the line where the broken
// construct's context starts (0-based), not the line at fault; the first
// prefix of the file that fails with the same message is that line, so it
// is located by re-parsing growing prefixes (pipeline files are small).
func yamlProblem(data []byte, err error) *Problem {
	line, msg := splitYAMLError(err)
	if at := firstFailingLine(data, msg); at > 0 {
		line = at
	} else if line > 0 {
		line++
	}
	return &Problem{Line: line, Msg: "invalid YAML: " + msg}
}

// splitYAMLError separates yaml.v3's "line N: " from its message.
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return n, tail
			}
		}
	}
	return 0, msg
}

// maxPrefixLines bounds the prefix search.
const maxPrefixLines = 2000

// firstFailingLine returns the 1-based number of the first line whose
// prefix fails to parse with msg, or 0.
func firstFailingLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxPrefixLines {
		return 0
	}
	var prefix []byte
	for i, l := range lines {
		prefix = append(prefix, l...)
		var n yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(prefix)).Decode(&n)
		if err == nil || errors.Is(err, io.EOF) {
			continue
		}
		if _, m := splitYAMLError(err); m == msg {
			return i + 1
		}
	}
	return 0
}
