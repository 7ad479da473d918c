package config

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// serverKeys are data-prepper-config.yaml's keys that configure Data
// Prepper's own server; ddbsync reads only source_coordination and accepts
// these so that the same file serves both.
var serverKeys = []string{
	"ssl", "keyStoreFilePath", "keyStorePassword", "privateKeyPassword", "serverPort", "authentication",
	"metricRegistries", "metric_tags", "metric_tag_filters", "peer_forwarder", "circuit_breakers",
	"processor_shutdown_timeout", "sink_shutdown_timeout", "extensions", "pipeline_shutdown",
	"event", "experimental", "logging",
}

// LoadServer reads the source_coordination block of a Data Prepper
// data-prepper-config.yaml (`ddbsync run -c`). A file without the block
// gives a local store. Problems come as *Errors, with line and path, like
// Load's.
func LoadServer(path string, env func(string) (string, bool)) (*Coordination, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read data prepper config: %w", err)
	}
	doc, prob := parseYAML(data)
	if prob != nil {
		return nil, &Errors{*prob}
	}
	idx := newIndex()
	probs := substituteEnv(doc, env, idx)
	d := &decoder{idx: idx}
	root := doc
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	c := &Coordination{Store: StoreLocal, LeaseTimeout: DefaultLeaseTimeout, From: path}
	if b := d.block(root, "", 1, append([]string{"source_coordination"}, serverKeys...), nil); b != nil && b.present("source_coordination") {
		c = d.coordination(b, path)
	}
	probs = append(probs, d.probs...)
	v := &validator{idx: idx}
	v.coordination(c)
	probs = append(probs, v.probs...)
	if len(probs) > 0 {
		sortProblems(probs)
		errs := Errors(probs)
		return nil, &errs
	}
	return c, nil
}
