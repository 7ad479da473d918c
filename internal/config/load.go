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
		return nil, yamlProblem(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Problem{Line: extra.Line, Msg: "a second YAML document (---) is not supported (expected one document with every pipeline)"}
	case !errors.Is(err, io.EOF):
		return nil, yamlProblem(err)
	}
	return &doc, nil
}

// yamlProblem turns a yaml.v3 syntax error ("yaml: line 7: did not find
// expected key") into a Problem at that line.
func yamlProblem(err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	return &Problem{Line: line, Msg: "invalid YAML: " + msg}
}
