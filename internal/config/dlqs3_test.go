package config

import (
	"os"
	"strings"
	"testing"
)

// TestBlueprintWithDLQS3: the OpenSearch Ingestion blueprint with its dlq
// block uncommented loads, validates and runs (nothing unsupported).
func TestBlueprintWithDLQS3(t *testing.T) {
	data, err := os.ReadFile("testdata/blueprint/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	uncommented := 0
	inDLQ := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "# dlq:" {
			inDLQ = true
		}
		if inDLQ && strings.HasPrefix(trimmed, "# ") {
			line = strings.Replace(line, "# ", "", 1)
			uncommented++
		} else {
			inDLQ = false
		}
		b.WriteString(line)
	}
	if uncommented != 6 {
		t.Fatalf("uncommented %d lines of the dlq block, want 6:\n%s", uncommented, b.String())
	}
	f, err := Parse("pipeline.yaml", []byte(b.String()), mapEnv(nil))
	if err != nil {
		t.Fatalf("blueprint with dlq.s3: %v", err)
	}
	if u := f.Unsupported(); len(u) != 0 {
		t.Errorf("unsupported: %v", u)
	}
	d := f.Pipelines[0].Sinks[0].OpenSearch.DLQS3
	want := DLQS3{Bucket: "your-dlq-bucket-name", KeyPathPrefix: "dynamodb-pipeline/dlq", Region: "us-east-1",
		STSRoleARN: "arn:aws:iam::123456789012:role/Example-Role", Line: 37}
	if d == nil || *d != want {
		t.Errorf("dlq.s3 = %+v, want %+v", d, want)
	}
	if s := f.Summary(); !strings.Contains(s, "dead letters to s3://your-dlq-bucket-name/dynamodb-pipeline/dlq") {
		t.Errorf("summary lacks the dead-letter bucket:\n%s", s)
	}
}
