package config

import (
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/processor"
)

// unsupportedOption is one option that ddbsync parses but does not run yet.
// A later issue that implements an option deletes its row.
type unsupportedOption struct {
	what string                     // the option, as the user wrote it
	why  string                     // what to do instead
	find func(p *Pipeline) []string // paths where this pipeline uses it
}

// unsupportedOptions is the one table of parsed-but-not-run options.
func unsupportedOptions() []unsupportedOption {
	return []unsupportedOption{
		{"acknowledgments: false", "ddbsync always acknowledges end to end; remove the key or set true",
			func(p *Pipeline) []string {
				return when(!p.Source.Acknowledgments, sourcePath(p)+".acknowledgments")
			}},
		{"this processor", "the supported processors are " + strings.Join(processor.Names(), ", "),
			func(p *Pipeline) []string {
				var out []string
				for i, pr := range p.Processors {
					if !processor.Supported(pr.Name) {
						out = append(out, processorPath(p, i, pr))
					}
				}
				return out
			}},
		{"distribution_version: es6", "ddbsync writes to OpenSearch 1.x and later and Elasticsearch 7.x (no mapping types); remove the key or set default",
			eachOpenSearch(func(o *OpenSearch) bool { return o.DistributionVersion == DistributionES6 }, "distribution_version")},
		{"actions", "use action with a format string, e.g. action: ${getMetadata(\"opensearch_action\")} (the DynamoDB default)",
			notRun("actions")},
		{"document_root_key", "the document is the whole item; shape it with processors (select_entries, delete_entries)",
			notRun("document_root_key")},
		{"ism_policy_file", "ddbsync manages no Index State Management policy; attach one to the index yourself",
			notRun("ism_policy_file")},
		{"routes", "conditional routing: every event of the pipeline goes to every sink",
			notRun("routes")},
		{"tags_target_key", "ddbsync events carry no tags",
			notRun("tags_target_key")},
		{"include_keys", "use the select_entries processor (it runs on every path, so verify expects the same document)",
			notRun("include_keys")},
		{"exclude_keys", "use the delete_entries processor (it runs on every path, so verify expects the same document)",
			notRun("exclude_keys")},
		{"index_type other than custom or management_disabled", "ddbsync writes DynamoDB items, not traces, logs or metrics",
			eachOpenSearch(func(o *OpenSearch) bool {
				return o.IndexType != IndexTypeCustom && o.IndexType != IndexTypeManagementDisabled
			}, "index_type")},
	}
}

// Unsupported lists the options in f that are parsed but not run by the
// engine yet. `ddbsync run` refuses a file that uses any of them;
// `ddbsync validate` shows them. Each problem reads "not supported yet: …".
func (f *File) Unsupported() []Problem {
	var out []Problem
	for _, p := range f.Pipelines {
		for _, u := range unsupportedOptions() {
			for _, path := range u.find(p) {
				out = append(out, Problem{
					Line: f.index.line(path),
					Path: path,
					Msg:  fmt.Sprintf("not supported yet: %s; %s", u.what, u.why),
				})
			}
		}
	}
	sortProblems(out)
	return out
}

func when(cond bool, path string) []string {
	if cond {
		return []string{path}
	}
	return nil
}

// eachOpenSearch finds the opensearch sinks for which use is true and names
// key in each.
func eachOpenSearch(use func(*OpenSearch) bool, key string) func(*Pipeline) []string {
	return func(p *Pipeline) []string {
		var out []string
		for i, s := range p.Sinks {
			if s.OpenSearch != nil && use(s.OpenSearch) {
				out = append(out, joinPath(sinkPath(p, i, s), key))
			}
		}
		return out
	}
}

// notRun finds the opensearch sinks that wrote key, one of the documented
// options ddbsync parses but does not run.
func notRun(key string) func(*Pipeline) []string {
	return eachOpenSearch(func(o *OpenSearch) bool { return contains(o.notRun, key) }, key)
}

// eachTable finds the tables for which use is true and names key in each.
func eachTable(use func(*Table) bool, key string) func(*Pipeline) []string {
	return func(p *Pipeline) []string {
		var out []string
		for i := range p.Source.Tables {
			if use(&p.Source.Tables[i]) {
				out = append(out, joinPath(itemPath(sourcePath(p)+".tables", i), key))
			}
		}
		return out
	}
}
