//go:build integration

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Pipeline is the pipeline file a scenario runs: one DynamoDB table (its
// ARN from the harness) into one OpenSearch index.
type Pipeline struct {
	Name       string // pipeline name (default "e2e")
	Table      string // the table the pipeline names (default the harness's table)
	TableBlock string // YAML of the table entry after table_arn (default: stream from TRIM_HORIZON)
	Host       string // the sink's host (default the stack's OpenSearch)
	Index      string // the sink's index (default the harness's index)
	SinkExtra  string // YAML added to the opensearch sink
}

// WritePipeline writes p to the harness directory and makes it the
// pipeline Start runs. The sink sets no mapping: the index gets none.
func (h *Harness) WritePipeline(p Pipeline) string {
	h.TB.Helper()
	if p.Name == "" {
		p.Name = "e2e"
	}
	if p.TableBlock == "" {
		p.TableBlock = "stream:\n  start_position: TRIM_HORIZON"
	}
	if p.Table == "" {
		p.Table = h.Table
	}
	if p.Host == "" {
		p.Host = h.OpenSearch
	}
	if p.Index == "" {
		p.Index = h.Index
	}
	y := fmt.Sprintf(`version: "2"
%s:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:%s:000000000000:table/%s"
%s
      aws:
        region: %s
  sink:
    - opensearch:
        hosts: ["%s"]
        index: "%s"
        flush_timeout: 1s
%s
`, p.Name, h.NS.Region, p.Table, Indent(p.TableBlock, 10), h.NS.Region, p.Host, p.Index, Indent(p.SinkExtra, 8))
	h.PipelinePath = filepath.Join(h.Dir, "pipeline.yaml")
	if err := os.WriteFile(h.PipelinePath, []byte(y), 0o644); err != nil {
		h.TB.Fatal(err)
	}
	return h.PipelinePath
}

// Indent indents every line of s by n spaces.
func Indent(s string, n int) string {
	if s == "" {
		return ""
	}
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}
