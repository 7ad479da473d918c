package config

import (
	"time"

	"github.com/ddbsync/ddbsync/internal/expr"
)

// Defaults. The decoder starts every block from one of the constructors
// below and overwrites what the file sets, so a value written in the file
// (even a zero) always wins; applyDefaults then fills what depends on other
// options.
const (
	// DefaultOverlap is how far before a backfill's time stream records are
	// replayed (DESIGN §2.3).
	DefaultOverlap = 5 * time.Minute

	// DefaultPollInterval is stream.poll_interval: the start-to-start gap
	// between GetRecords calls on an idle shard. 250ms is Lambda's 4 calls/s
	// per shard; it keeps the low-traffic p99 under 300ms (README,
	// Benchmarks). MinPollInterval is DynamoDB Streams' limit of 5 calls/s
	// per shard; MaxPollInterval stays well below the liveness probe's
	// silence bound.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultTableDeletedWait is stream.table_deleted_wait: long enough for
	// a re-create by infrastructure code (a replaced CloudFormation or
	// Terraform resource), short enough that a table deleted for good is
	// reported within minutes.
	DefaultTableDeletedWait = 5 * time.Minute
	MinPollInterval         = 200 * time.Millisecond
	MaxPollInterval         = time.Minute

	// DefaultShardAcknowledgmentTimeout and DefaultS3DataFileAcknowledgmentTimeout
	// are Data Prepper's.
	DefaultShardAcknowledgmentTimeout      = 10 * time.Minute
	DefaultS3DataFileAcknowledgmentTimeout = 5 * time.Minute

	DefaultScanSegments      = 4    // parallel Scan segments
	DefaultScanPageSize      = 1000 // Limit per Scan call
	DefaultExportParallelism = 4    // export data files loaded at once

	// DefaultBulkSizeMiB is Data Prepper's bulk_size.
	DefaultBulkSizeMiB = 5
	// DefaultFlushTimeout differs from Data Prepper's 60s on purpose: Data
	// Prepper buffers events and waits up to flush_timeout to fill a bulk,
	// trading latency for larger requests. ddbsync writes each source batch
	// as soon as it arrives (a stream GetRecords page, an export chunk), so
	// flush_timeout only bounds how long a partial bulk may accumulate.
	DefaultFlushTimeout = time.Second
	// DefaultMaxRetries 0 means "retry until success": a failed bulk item is
	// retried with capped backoff for ever (or dead-lettered when it can never
	// succeed), because dropping it would leave the index different from the
	// table. Data Prepper's default is likewise effectively unbounded.
	DefaultMaxRetries     = 0
	DefaultConnectTimeout = 10 * time.Second
	DefaultSocketTimeout  = 60 * time.Second

	// Default format strings: Data Prepper's DynamoDB blueprint values.
	DefaultDocumentID      = `${getMetadata("primary_key")}`
	DefaultAction          = `${getMetadata("opensearch_action")}`
	DefaultDocumentVersion = `${getMetadata("document_version")}`
)

func newSource() Source {
	return Source{
		// ddbsync always acknowledges end to end; `acknowledgments: false`
		// is accepted and refused by Unsupported.
		Acknowledgments:                 true,
		ShardAcknowledgmentTimeout:      DefaultShardAcknowledgmentTimeout,
		S3DataFileAcknowledgmentTimeout: DefaultS3DataFileAcknowledgmentTimeout,
	}
}

func newTable() Table { return Table{Overlap: DefaultOverlap} }

func newStream() *Stream {
	return &Stream{StartPosition: StartLatest, ViewOnRemove: ViewNewImage, TTLDeletes: TTLDelete, OnGap: OnGapStop, PollInterval: DefaultPollInterval, TableDeletedWait: DefaultTableDeletedWait}
}

func newScan() *Scan { return &Scan{Segments: DefaultScanSegments, PageSize: DefaultScanPageSize} }

func newExport() *Export {
	return &Export{Format: FormatDynamoDBJSON, Parallelism: DefaultExportParallelism}
}

func newOpenSearch() *OpenSearch {
	return &OpenSearch{
		IndexType:           IndexTypeCustom,
		DocumentVersionType: VersionTypeExternal,
		TemplateType:        TemplateTypeV1,
		BulkSizeMiB:         DefaultBulkSizeMiB,
		FlushTimeout:        DefaultFlushTimeout,
		MaxRetries:          DefaultMaxRetries,
		ConnectTimeout:      DefaultConnectTimeout,
		SocketTimeout:       DefaultSocketTimeout,
		NumberOfReplicas:    -1,
		NumberMapping:       NumberMappingDouble,
		DistributionVersion: DistributionDefault,
	}
}

// applyDefaults fills the defaults that depend on other options: the table
// name and region from the table ARN, and the opensearch format strings.
func applyDefaults(f *File) {
	for _, p := range f.Pipelines {
		for i := range p.Source.Tables {
			t := &p.Source.Tables[i]
			a, err := parseTableARN(t.TableARN)
			if err != nil {
				continue
			}
			t.TableName = a.resource
			if p.Source.AWS.Region == "" && a.region != LocalRegion {
				p.Source.AWS.Region = a.region
			}
		}
		for _, s := range p.Sinks {
			if o := s.OpenSearch; o != nil {
				defaultTemplates(o)
			}
		}
	}
}

func defaultTemplates(o *OpenSearch) {
	serverlessVersions(o)
	if o.DocumentID == nil {
		o.DocumentID = expr.MustParse(DefaultDocumentID)
	}
	if o.Action == nil {
		o.Action = expr.MustParse(DefaultAction)
	}
	// With internal versioning OpenSearch assigns versions; sending one is an error.
	if o.DocumentVersion == nil && o.DocumentVersionType != VersionTypeInternal {
		o.DocumentVersion = expr.MustParse(DefaultDocumentVersion)
	}
}

// serverlessVersions turns a serverless sink's versioning to internal: AWS
// documents no version parameters for Serverless collections, so ddbsync
// sends none there and keeps per-key order by the order of its writes
// (README: OpenSearch Serverless). What the file wrote is kept for Warnings.
func serverlessVersions(o *OpenSearch) {
	if !o.Serverless() {
		return
	}
	switch {
	case o.DocumentVersionType != VersionTypeInternal:
		o.droppedVersionType = "document_version_type " + o.DocumentVersionType
	case o.DocumentVersion != nil:
		o.droppedVersionType = "document_version"
	}
	o.DocumentVersionType = VersionTypeInternal
	o.DocumentVersion = nil
}
