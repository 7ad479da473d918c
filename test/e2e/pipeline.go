//go:build integration

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbsync/ddbsync/internal/config"
)

// Pipeline is one pipeline a scenario runs: one DynamoDB table (its ARN
// from the harness) into one OpenSearch index, or several tables.
type Pipeline struct {
	Name  string // pipeline name (default "e2e")
	Table string // the table the pipeline reads (default the harness's table)
	// MoreTables are further tables the pipeline reads, each with
	// TableBlock, in the harness's namespace (the harnesses of other
	// tables made with the same Namespace). With several tables, Index is
	// usually ${getMetadata("table_name")}: each harness compares its own.
	MoreTables []string
	TableBlock string // YAML of the table entry after table_arn (default: stream from TRIM_HORIZON)
	Host       string // the sink's host (default the stack's OpenSearch)
	Index      string // the sink's index (default the harness's index)
	DocumentID string // the sink's document_id ("" = not set)
	Routing    string // the sink's routing ("" = not set)
	SinkExtra  string // YAML added to the opensearch sink
	// Coordination is the YAML inside the pipeline's source_coordination
	// block ("" = none: the local state directory).
	Coordination string
	// Processor is the YAML of the pipeline's processor list ("" = none);
	// WritePipeline loads it into Harness.Processing for the comparison.
	Processor string
}

// WritePipeline writes a pipeline file holding p to the harness directory
// and makes it the pipeline Start runs. The sink sets no mapping: the
// index gets none.
func (h *Harness) WritePipeline(p Pipeline) string {
	h.TB.Helper()
	path := h.WritePipelineFile(h.PipelineEntry(p))
	h.Processing = nil
	if p.Processor != "" {
		f, err := config.Load(path, func(string) (string, bool) { return "", false })
		if err != nil {
			h.TB.Fatalf("pipeline with processors: %v", err)
		}
		h.Processing = f.Pipelines[0].Processing
	}
	return path
}

// PipelineEntry is the YAML of p as one pipeline of a pipeline file,
// reading h's table (WritePipelineFile puts several, from the harnesses of
// several tables, into one file).
func (h *Harness) PipelineEntry(p Pipeline) string {
	if p.Name == "" {
		p.Name = "e2e"
	}
	if p.Table == "" {
		p.Table = h.Table
	}
	if p.TableBlock == "" {
		p.TableBlock = "stream:\n  start_position: TRIM_HORIZON"
	}
	if p.Host == "" {
		p.Host = h.OpenSearch
	}
	if p.Index == "" {
		p.Index = h.Index
	}
	sink := "index: " + yamlQuote(p.Index)
	if p.DocumentID != "" {
		sink += "\ndocument_id: " + yamlQuote(p.DocumentID)
	}
	if p.Routing != "" {
		sink += "\nrouting: " + yamlQuote(p.Routing)
	}
	sink += "\nflush_timeout: 1s"
	if p.SinkExtra != "" {
		sink += "\n" + p.SinkExtra
	}
	coord := ""
	if p.Coordination != "" {
		coord = "  source_coordination:\n" + Indent(p.Coordination, 4) + "\n"
	}
	processors := ""
	if p.Processor != "" {
		processors = "  processor:\n" + Indent(p.Processor, 4) + "\n"
	}
	tables := ""
	for _, t := range append([]string{p.Table}, p.MoreTables...) {
		tables += fmt.Sprintf("        - table_arn: \"arn:aws:dynamodb:%s:000000000000:table/%s\"\n%s\n", h.NS.Region, t, Indent(p.TableBlock, 10))
	}
	return fmt.Sprintf(`%s:
%s  source:
    dynamodb:
      tables:
%s      aws:
        region: %s
%s  sink:
    - opensearch:
        hosts: ["%s"]
%s
`, p.Name, coord, tables, h.NS.Region, processors, p.Host, Indent(sink, 8))
}

// WritePipelineFile writes a pipeline file of entries (PipelineEntry) to
// the harness directory and makes it the pipeline Start runs.
func (h *Harness) WritePipelineFile(entries ...string) string {
	h.TB.Helper()
	y := "version: \"2\"\n" + strings.Join(entries, "")
	h.PipelinePath = filepath.Join(h.Dir, "pipeline.yaml")
	if err := os.WriteFile(h.PipelinePath, []byte(y), 0o644); err != nil {
		h.TB.Fatal(err)
	}
	return h.PipelinePath
}

// yamlQuote is s as a single-quoted YAML scalar (taken literally: ${...},
// %{...} and double quotes need no escapes).
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

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
