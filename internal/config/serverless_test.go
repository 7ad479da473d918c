package config

import (
	"strings"
	"testing"
)

// serverlessFile is a pipeline with one opensearch sink whose extra keys
// are sink (at the sink's level) and awsExtra (in its aws block).
func serverlessFile(sink, awsExtra string) string {
	return "p:\n  source:\n    dynamodb:\n      tables:\n        - table_arn: \"arn:aws:dynamodb:us-east-1:123456789012:table/orders\"\n          stream: {}\n" +
		"  sink:\n    - opensearch:\n        hosts: [\"https://collection.test\"]\n        index: orders\n" + sink +
		"        aws:\n          region: us-east-1\n" + awsExtra
}

func TestServerlessValidation(t *testing.T) {
	tests := []struct {
		name, sink, aws string
		err             string // "" = valid
		warn            string // a warning that must be printed
	}{
		{"aws.serverless", "", "          serverless: true\n", "", ""},
		{"blueprint's sink-level serverless", "        serverless: true\n", "", "", ""},
		{"sink-level serverless without aws",
			"", "", "", ""}, // replaced below
		{"v1 template refused", "        template_content: '{\"mappings\": {}}'\n", "          serverless: true\n",
			"OpenSearch Serverless has no legacy _template API", ""},
		{"index-template accepted", "        template_type: index-template\n        template_content: '{\"template\": {}}'\n", "          serverless: true\n", "", ""},
		{"shards refused", "        number_of_shards: 2\n        number_of_replicas: 0\n", "          serverless: true\n",
			"manages shards and replicas itself", ""},
		{"blueprint version lines ignored", "        document_version: \"${getMetadata(\\\"document_version\\\")}\"\n        document_version_type: external\n",
			"          serverless: true\n", "", "ignored for OpenSearch Serverless (document_version_type external)"},
		{"serverless_options", "", "          serverless: true\n          serverless_options: {network_policy_name: n, collection_name: c, vpce_id: vpce-1}\n",
			"", "creates and changes no network policy"},
		{"serverless_options incomplete", "", "          serverless: true\n          serverless_options: {network_policy_name: n}\n",
			"serverless_options.vpce_id: missing required key", ""},
		{"proxy without port", "        proxy: proxy.test\n", "          serverless: true\n", "invalid proxy", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yml := serverlessFile(tc.sink, tc.aws)
			if tc.name == "sink-level serverless without aws" {
				yml = strings.Replace(serverlessFile("        serverless: true\n", ""), "        aws:\n          region: us-east-1\n", "", 1)
				tc.err = "needs an aws block"
			}
			f, err := Parse("pipeline.yaml", []byte(yml), noEnv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u := f.Unsupported(); len(u) > 0 {
				t.Fatalf("refused: %v", u)
			}
			o := f.Pipelines[0].Sinks[0].OpenSearch
			if !o.Serverless() || o.DocumentVersionType != VersionTypeInternal || o.DocumentVersion != nil {
				t.Errorf("serverless %v, versions %q %v", o.Serverless(), o.DocumentVersionType, o.DocumentVersion)
			}
			if !strings.Contains(f.Summary(), "OpenSearch Serverless (SigV4 aoss") {
				t.Errorf("summary does not show serverless mode:\n%s", f.Summary())
			}
			var warns []string
			for _, w := range f.Warnings() {
				warns = append(warns, w.String())
			}
			if tc.warn != "" && !strings.Contains(strings.Join(warns, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", warns, tc.warn)
			}
			if tc.warn == "" && len(warns) > 0 {
				t.Errorf("unexpected warnings %q", warns)
			}
		})
	}
}
