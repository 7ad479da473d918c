// Package config loads a Data Prepper / OpenSearch Ingestion pipeline file:
// load (YAML with line numbers, ${env:NAME} references) → default → validate
// (every problem at once, each with its YAML path and line).
package config

import (
	"encoding/json"
	"github.com/ddbsync/ddbsync/internal/processor"
	"log/slog"
	"time"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// File is a whole pipeline file: one or more named pipelines. Build it with
// Load or Parse: they apply the defaults and validate.
type File struct {
	Name      string      // the file's name, as given to Load or Parse
	Version   string      // "2" when the file says so, else ""
	Pipelines []*Pipeline // in file order

	index *index // where each key is written; nil for a File built in code
}

// Pipeline is one named pipeline: a dynamodb source, optional processors, sinks.
type Pipeline struct {
	Name       string
	Source     Source
	Processors []Processor
	// Processing is the compiled processor list (nil without processors,
	// or when one of them is not supported: Unsupported reports it).
	Processing *processor.Chain
	Sinks      []Sink
	// Coordination is the pipeline's source_coordination block; nil when
	// absent (then a -c data-prepper-config.yaml, or the local state dir).
	Coordination *Coordination
	Line         int // line of the pipeline's name in the file
}

// Source is the `source.dynamodb` block.
type Source struct {
	Tables []Table
	// AWS is the source's aws block; its Region defaults to the first
	// table ARN's region.
	AWS AWS
	// Acknowledgments defaults to true: ddbsync always acknowledges end to
	// end, and lists an explicit false in File.Unsupported.
	Acknowledgments                 bool
	ShardAcknowledgmentTimeout      time.Duration // default 10m
	S3DataFileAcknowledgmentTimeout time.Duration // default 5m
}

// Table is one entry of `tables`. Several tables per pipeline are allowed
// (Data Prepper allows one).
type Table struct {
	TableARN string
	// TableName is the name part of TableARN (DynamoDB Local wants the name).
	TableName string
	Export    *Export // nil when absent; an empty `export:` is present
	Scan      *Scan   // nil when absent; ddbsync extension; at most one of Export and Scan
	Stream    *Stream // nil when absent
	// Overlap is how far before the backfill time stream records are replayed
	// (ddbsync extension `overlap`, default 5m).
	Overlap time.Duration
	Line    int
}

// Export is `tables[].export`.
type Export struct {
	S3Bucket      string // required unless ExportARN is set
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
	// PollInterval is the idle shard's GetRecords period (default
	// DefaultPollInterval); a shard that just returned records is read again
	// at once (at most 5 calls/s). ddbsync extension.
	PollInterval time.Duration
	// TableDeletedWait is how long a deleted table is waited for to be
	// created again (then its new stream is a replaced stream, handled by
	// OnGap) before the table stops (default DefaultTableDeletedWait).
	// ddbsync extension.
	TableDeletedWait time.Duration
	Line             int
}

// AWS is an `aws` block (source or sink).
type AWS struct {
	Region             string
	STSRoleARN         string
	STSExternalID      string
	STSHeaderOverrides map[string]string
	// Serverless (sink only) says the hosts are an OpenSearch Serverless
	// collection: SigV4 for service aoss, and only the APIs Serverless
	// documents (see the README's Serverless section). The sink's
	// deprecated top-level `serverless: true` sets it too.
	Serverless bool
	// ServerlessOptions (sink only) is `serverless_options`, in the aws block
	// or (deprecated in Data Prepper) at the sink's top level; nil when absent.
	ServerlessOptions *ServerlessOptions
	Line              int
}

// ServerlessOptions is Data Prepper's `serverless_options`: the network
// policy OpenSearch Ingestion adds a VPC endpoint to. ddbsync parses and
// checks it but manages no network policy (Warnings says so): the policy
// must already let ddbsync's network reach the collection.
type ServerlessOptions struct {
	NetworkPolicyName string
	CollectionName    string
	VPCEID            string
	Line              int
}

// Processor is one entry of `processor`. Validation compiles the supported
// ones into Pipeline.Processing (every bad option is a problem with its
// path); Unsupported refuses the others.
type Processor struct {
	Name    string
	Options map[string]any // nil when the processor has no options
	Line    int
}

// Sink is one entry of `sink`; exactly one of the pointers is set.
type Sink struct {
	OpenSearch *OpenSearch
	Stdout     *Stdout
	File       *FileSink
	Line       int
}

// Kind names the sink's plugin: "opensearch", "stdout" or "file" ("" when
// none is set).
func (s Sink) Kind() string {
	switch {
	case s.OpenSearch != nil:
		return "opensearch"
	case s.Stdout != nil:
		return "stdout"
	case s.File != nil:
		return "file"
	}
	return ""
}

// Stdout is the `stdout` sink: NDJSON bulk actions on standard output.
type Stdout struct{}

// FileSink is the `file` sink: NDJSON bulk actions appended to Path.
type FileSink struct {
	Path string
}

// OpenSearch is the `opensearch` sink. The format strings (Index,
// DocumentID, Routing, Action, DocumentVersion, Pipeline) are parsed with
// expr.Parse.
type OpenSearch struct {
	Hosts          []string // required, at least one http(s) URL
	Username       string
	Password       Secret // required with Username
	AWS            *AWS   // nil when absent; SigV4 signing when set
	Cert           string // CA certificate file; conflicts with Insecure
	Insecure       bool
	ConnectTimeout time.Duration // default 10s; a bare number is milliseconds
	SocketTimeout  time.Duration // default 60s; a bare number is milliseconds

	Index               *expr.Template // required for index_type custom and management_disabled
	IndexType           string         // custom (default) | management_disabled | Data Prepper's others (not supported yet)
	DocumentID          *expr.Template // default ${getMetadata("primary_key")}
	Routing             *expr.Template // nil when unset
	Action              *expr.Template // default ${getMetadata("opensearch_action")}
	DocumentVersion     *expr.Template // default ${getMetadata("document_version")}; nil with internal
	DocumentVersionType string         // external (default) | external_gte | internal
	Pipeline            *expr.Template // ingest pipeline; nil when unset

	BulkSizeMiB  float64       // bulk_size, MiB, default 5
	FlushTimeout time.Duration // default 1s (Data Prepper: 60s; see DefaultFlushTimeout); a bare number is milliseconds
	MaxRetries   int           // 0 (default) = retry until success

	DLQFile string
	DLQS3   *DLQS3 // `dlq.s3`; conflicts with DLQFile

	TemplateType     string // v1 (default) | index-template
	TemplateFile     string
	TemplateContent  string
	NumberOfShards   int // 0 = leave to OpenSearch
	NumberOfReplicas int // -1 = leave to OpenSearch
	NormalizeIndex   bool
	// NumberMapping is number_mapping: double (default) installs ddbsync's
	// mapping for indices it creates (every JSON number a double with
	// ignore_malformed, no date detection); none leaves numbers to
	// OpenSearch's dynamic mapping. A template_file / template_content or
	// index_type management_disabled always wins over it.
	NumberMapping string
	// Proxy is `proxy`: a forward HTTP proxy, "host:port" or a URL; "" uses
	// the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy string
	// RequestCompression is `enable_request_compression`: gzip request
	// bodies. Default false (Data Prepper's default is true).
	RequestCompression bool
	// DistributionVersion is `distribution_version`: default (the only one
	// ddbsync runs) | es6 (refused by Unsupported).
	DistributionVersion string
	Line                int

	// notRun lists the documented options the file wrote that ddbsync does
	// not run (notRunSinkKeys); Unsupported refuses each.
	notRun []string

	// droppedVersionType is the document_version_type (or "document_version")
	// the file wrote for a serverless sink, which applyDefaults replaced by
	// internal (Warnings reports it); "" when nothing was dropped.
	droppedVersionType string
}

// Serverless reports whether the sink writes to an OpenSearch Serverless
// collection.
func (o *OpenSearch) Serverless() bool { return o.AWS != nil && o.AWS.Serverless }

// DLQS3 is `dlq.s3`: dead letters as S3 objects of JSON lines.
type DLQS3 struct {
	Bucket string // required
	// KeyPathPrefix is the folder of the objects; it may hold %{yyyy}-style
	// date patterns (UTC, evaluated when an object is written).
	KeyPathPrefix string
	Region        string // default: the sink's aws.region, else the environment's
	STSRoleARN    string // default: the sink's aws.sts_role_arn, else none
	// BucketOwner is the account expected to own the bucket (S3 refuses
	// the write otherwise); "" checks nothing.
	BucketOwner string
	Line        int
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

// LogValue redacts the value in slog output (text and JSON handlers).
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the value in JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }
