// Package config loads a Data Prepper / OpenSearch Ingestion pipeline file:
// load (YAML with line numbers, ${env:NAME} references) → default → validate
// (every problem at once, each with its YAML path and line).
package config

import (
	"time"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// File is a whole pipeline file: one or more named pipelines.
type File struct {
	Version   string
	Pipelines []*Pipeline // in file order
}

// Pipeline is one named pipeline: a dynamodb source, optional processors, sinks.
type Pipeline struct {
	Name       string
	Source     Source
	Processors []Processor
	Sinks      []Sink
	Line       int // line of the pipeline's name in the file
}

// Source is the `source.dynamodb` block.
type Source struct {
	Tables                          []Table
	AWS                             AWS
	Acknowledgments                 bool
	ShardAcknowledgmentTimeout      time.Duration // default 10m
	S3DataFileAcknowledgmentTimeout time.Duration // default 5m
}

// Table is one entry of `tables`.
type Table struct {
	TableARN string
	// TableName is the name part of TableARN (DynamoDB Local wants the name).
	TableName string
	Export    *Export // nil when absent
	Scan      *Scan   // nil when absent; ddbsync extension
	Stream    *Stream // nil when absent
	// Overlap is how far before the backfill time stream records are replayed
	// (ddbsync extension `overlap`, default 5m).
	Overlap time.Duration
	Line    int
}

// Export is `tables[].export`.
type Export struct {
	S3Bucket      string
	S3Prefix      string
	S3Region      string
	S3SSEKMSKeyID string
	S3BucketOwner string
	ExportARN     string // ddbsync extension: load an existing export
	Format        string // DYNAMODB_JSON (default) | ION; ddbsync extension
	Parallelism   int    // ddbsync extension: data files loaded at once (default 4)
	Line          int
}

// Scan is `tables[].scan` (ddbsync extension): a parallel Scan backfill.
type Scan struct {
	Segments  int     // default 4
	PageSize  int     // default 1000 (Limit per Scan call)
	RateLimit float64 // items per second; 0 = unlimited
	Line      int
}

// Stream is `tables[].stream`.
type Stream struct {
	StartPosition string // LATEST (default) | TRIM_HORIZON
	ViewOnRemove  string // NEW_IMAGE (default) | OLD_IMAGE
	TTLDeletes    string // delete (default) | keep; ddbsync extension
	// OnGap is what happens when the stream has a gap (trimmed data, lost shard):
	// "stop" (default) or "rebackfill". ddbsync extension.
	OnGap string
	Line  int
}

// AWS is an `aws` block (source or sink).
type AWS struct {
	Region             string
	STSRoleARN         string
	STSExternalID      string
	STSHeaderOverrides map[string]string
	Serverless         bool // sink only
	Line               int
}

// Processor is one entry of `processor`. ddbsync parses the name and options
// so that it can refuse clearly the processors it does not implement.
type Processor struct {
	Name    string
	Options map[string]any
	Line    int
}

// Sink is one entry of `sink`; exactly one of the pointers is set.
type Sink struct {
	OpenSearch *OpenSearch
	Stdout     *Stdout
	File       *FileSink
	Line       int
}

// Stdout is the `stdout` sink: NDJSON bulk actions on standard output.
type Stdout struct{}

// FileSink is the `file` sink: NDJSON bulk actions appended to Path.
type FileSink struct {
	Path string
}

// OpenSearch is the `opensearch` sink.
type OpenSearch struct {
	Hosts          []string
	Username       string
	Password       Secret
	AWS            *AWS
	Cert           string // CA certificate file
	Insecure       bool
	ConnectTimeout time.Duration // default 10s
	SocketTimeout  time.Duration // default 60s

	Index               *expr.Template // default "${getMetadata(\"table_name\")}"? see defaults.go
	IndexType           string         // custom (default) | management_disabled | ...
	DocumentID          *expr.Template // default ${getMetadata("primary_key")}
	Routing             *expr.Template // nil when unset
	Action              *expr.Template // default ${getMetadata("opensearch_action")}
	DocumentVersion     *expr.Template // default ${getMetadata("document_version")}
	DocumentVersionType string         // external (default) | external_gte | internal
	Pipeline            *expr.Template // ingest pipeline; nil when unset

	BulkSizeMiB  float64       // bulk_size, MiB, default 5
	FlushTimeout time.Duration // default 60s in Data Prepper; ddbsync default 1s? see defaults.go
	MaxRetries   int           // 0 = retry forever (Data Prepper default)

	DLQFile string
	DLQS3   *DLQS3

	TemplateType     string // v1 (default) | index-template
	TemplateFile     string
	TemplateContent  string
	NumberOfShards   int // 0 = leave to OpenSearch
	NumberOfReplicas int // -1 = leave to OpenSearch
	NormalizeIndex   bool
	Line             int
}

// DLQS3 is `dlq.s3`.
type DLQS3 struct {
	Bucket        string
	KeyPathPrefix string
	Region        string
	STSRoleARN    string
}

// Secret is a string that never prints itself.
type Secret string

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "******"
}

// GoString redacts the value in %#v.
func (s Secret) GoString() string { return s.String() }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }
