package config

import (
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestEveryDocumentedOption loads testdata/documented-options, which writes
// every option Data Prepper documents for the dynamodb source and the
// opensearch sink, and checks that each is accepted or refused by
// Unsupported with "not supported yet" — never an unknown key — and that
// the refused ones are exactly those the README's option table lists as
// refused.
func TestEveryDocumentedOption(t *testing.T) {
	data, err := os.ReadFile("testdata/documented-options/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("pipeline.yaml", data, noEnv)
	if err != nil {
		t.Fatalf("a documented option does not parse:\n%v", err)
	}
	refused := map[string]bool{}
	for _, p := range f.Unsupported() {
		if !strings.Contains(p.Msg, "not supported yet") {
			t.Errorf("%s: refused without \"not supported yet\": %s", p.Path, p.Msg)
		}
		refused[p.Path] = true
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var keys []string
	walkKeys(root.Content[0], "", &keys)
	accepted := 0
	for _, k := range keys {
		if !refused[k] {
			accepted++
		}
	}
	want := []string{
		"p.sink[0].opensearch.actions", "p.sink[0].opensearch.document_root_key", "p.sink[0].opensearch.exclude_keys",
		"p.sink[0].opensearch.include_keys", "p.sink[0].opensearch.ism_policy_file", "p.sink[0].opensearch.routes",
		"p.sink[0].opensearch.tags_target_key", "p.sink[2].opensearch.distribution_version",
	}
	var got []string
	for k := range refused {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refused options\n got %q\nwant %q", got, want)
	}
	if accepted < 80 {
		t.Errorf("only %d accepted keys walked: the walk missed the file", accepted)
	}
}

// walkKeys appends the path of every mapping key under n, in the
// validator's spelling (a.b[0].c); list items that are plugins add their
// name as a key.
func walkKeys(n *yaml.Node, path string, out *[]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			if p != "version" {
				*out = append(*out, p)
			}
			walkKeys(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			walkKeys(item, itemPath(path, i), out)
		}
	}
}

// TestDeprecatedDocumentedOptions: the spellings Data Prepper documents as
// deprecated (and two misspellings of its dynamodb page) are refused with
// what to write instead, never as unknown keys.
func TestDeprecatedDocumentedOptions(t *testing.T) {
	tests := []struct {
		name, source, sink, want string
	}{
		{"aws_sigv4", "", "aws_sigv4: true", "use an aws block"},
		{"aws_region", "", "aws_region: us-east-1", "use aws: {region"},
		{"aws_sts_role_arn", "", `aws_sts_role_arn: "arn:aws:iam::123456789012:role/R"`, "use aws: {sts_role_arn"},
		{"aws_sts_external_id", "", "aws_sts_external_id: x1", "use aws: {sts_external_id"},
		{"aws_sts_header_overrides", "", "aws_sts_header_overrides: {a: b}", "use aws: {sts_header_overrides"},
		{"document_id_field", "", "document_id_field: pk", `use document_id: "${/field}"`},
		{"routing_field", "", "routing_field: tenant", `use routing: "${/field}"`},
		{"dynamodb page: shared_acknowledgement_timeout", "shared_acknowledgement_timeout: 10m", "", "shard_acknowledgment_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yml := "p:\n  source:\n    dynamodb:\n      " + tc.source + "\n      tables:\n        - table_arn: \"arn:aws:dynamodb:us-east-1:123456789012:table/orders\"\n          stream: {}\n" +
				"  sink:\n    - opensearch:\n        hosts: [\"http://localhost:9200\"]\n        index: orders\n        " + tc.sink + "\n"
			_, err := Parse("pipeline.yaml", []byte(yml), noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); strings.Contains(msg, "unknown key") || !strings.Contains(msg, "not supported") || !strings.Contains(msg, tc.want) {
				t.Errorf("got %s\nwant \"not supported\" and %q, no unknown key", msg, tc.want)
			}
		})
	}
	yml := "p:\n  source:\n    dynamodb:\n      aws: {aws_sts_header_overrides: {a: b}}\n      tables:\n        - table_arn: \"arn:aws:dynamodb:us-east-1:123456789012:table/orders\"\n          stream: {}\n  sink:\n    - stdout:\n"
	if _, err := Parse("pipeline.yaml", []byte(yml), noEnv); err == nil || !strings.Contains(err.Error(), "the key Data Prepper reads is sts_header_overrides") {
		t.Errorf("source aws.aws_sts_header_overrides: %v", err)
	}
}

// noEnv is an environment without variables.
func noEnv(string) (string, bool) { return "", false }
