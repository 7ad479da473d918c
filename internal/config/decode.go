package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// file decodes the document: an optional version and named pipelines.
func (d *decoder) file(doc *yaml.Node) *File {
	f := &File{index: d.idx}
	root := doc
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind == 0 || root.Kind == yaml.DocumentNode || isNull(root) {
		d.add(1, "", "the file is empty (expected one or more named pipelines, each with source and sink)")
		return f
	}
	if root.Kind != yaml.MappingNode {
		d.add(root.Line, "", gotWant("wrong type", d.describe(root, ""), "a mapping of pipeline names to pipelines"))
		return f
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := k.Value
		if first, dup := seen[name]; dup {
			d.add(k.Line, name, fmt.Sprintf("duplicate key (first set at line %d)", first))
			continue
		}
		seen[name] = k.Line
		d.idx.lines[name] = k.Line
		switch name {
		case "version":
			f.Version = d.version(resolve(v))
		case "pipeline_configurations":
			d.add(k.Line, name, "not supported: pipeline_configurations (AWS Secrets Manager); use ${env:NAME} references for secrets")
		default:
			f.Pipelines = append(f.Pipelines, d.pipeline(name, k.Line, v))
		}
	}
	if len(f.Pipelines) == 0 && len(d.probs) == 0 {
		d.add(root.Line, "", "no pipeline defined (expected a named pipeline with source and sink)")
	}
	return f
}

func (d *decoder) version(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || (n.Value != "2" && n.Value != "2.0") {
		d.add(n.Line, "version", gotWant("unsupported version", d.describe(n, "version"), `"2"`))
		return ""
	}
	return "2"
}

func (d *decoder) pipeline(name string, line int, n *yaml.Node) *Pipeline {
	p := &Pipeline{Name: name, Line: line}
	b := d.block(n, name, line, []string{"source", "processor", "sink", "source_coordination"}, retiredKeys{
		"workers": "not supported: workers (ddbsync sizes its own concurrency: one reader per shard, a fixed number of export files at once)",
		"delay":   "not supported: delay (ddbsync has no buffer to poll)",
		"buffer":  "not supported: buffer (batches go from source to sink directly, so that acknowledgments stay end to end)",
		"route":   "not supported: route (conditional routing)",
		"routes":  "not supported: routes (conditional routing)",
	})
	if b == nil {
		return p
	}
	if sn, path, sl := b.child("source"); sn == nil {
		d.missing(path, line, "source: {dynamodb: {tables: [...]}}")
	} else {
		sb := d.block(sn, path, sl, []string{"dynamodb"}, nil)
		if sb != nil {
			if !sb.present("dynamodb") {
				if sb.keys == 0 {
					d.missing(joinPath(path, "dynamodb"), sl, "a dynamodb source")
				}
			} else {
				p.Source = d.dynamodb(sb)
			}
		}
	}
	if b.present("source_coordination") {
		p.Coordination = d.coordination(b, "pipeline "+name)
	}
	p.Processors = d.processors(b)
	if !b.present("sink") {
		d.missing(joinPath(name, "sink"), line, "a list of sinks, e.g. sink: [{opensearch: {...}}]")
	} else {
		p.Sinks = d.sinks(b)
	}
	return p
}

func (d *decoder) dynamodb(parent *block) Source {
	n, path, line := parent.child("dynamodb")
	s := newSource()
	b := d.block(n, path, line, []string{
		"tables", "aws", "acknowledgments", "shard_acknowledgment_timeout", "s3_data_file_acknowledgment_timeout",
	}, retiredKeys{
		"shared_acknowledgement_timeout": "not supported: shared_acknowledgement_timeout (the spelling of Data Prepper's dynamodb page; the key Data Prepper reads is shard_acknowledgment_timeout)",
	})
	if b == nil {
		return s
	}
	b.boolean("acknowledgments", &s.Acknowledgments)
	b.duration("shard_acknowledgment_timeout", &s.ShardAcknowledgmentTimeout, 0)
	b.duration("s3_data_file_acknowledgment_timeout", &s.S3DataFileAcknowledgmentTimeout, 0)
	if b.present("aws") {
		s.AWS = d.aws(b, false)
	}
	tn, tpath, tline := b.child("tables")
	switch {
	case tn == nil || isNull(tn):
		d.missing(tpath, line, "a list of tables, each with table_arn and stream and/or export")
	case tn.Kind != yaml.SequenceNode:
		d.add(tn.Line, tpath, gotWant("wrong type", d.describe(tn, tpath), "a list of tables, each with table_arn"))
	case len(tn.Content) == 0:
		d.add(tline, tpath, gotWant("no tables", "", "at least one table"))
	default:
		for i, item := range tn.Content {
			s.Tables = append(s.Tables, d.table(resolve(item), itemPath(tpath, i)))
		}
	}
	return s
}

func (d *decoder) table(n *yaml.Node, path string) Table {
	d.idx.lines[path] = n.Line
	t := newTable()
	t.Line = n.Line
	b := d.block(n, path, n.Line, []string{"table_arn", "export", "stream", "scan", "overlap"}, nil)
	if b == nil {
		return t
	}
	b.str("table_arn", &t.TableARN)
	b.duration("overlap", &t.Overlap, 0)
	if b.present("export") {
		t.Export = d.export(b)
	}
	if b.present("scan") {
		t.Scan = d.scan(b)
	}
	if b.present("stream") {
		t.Stream = d.stream(b)
	}
	return t
}

func (d *decoder) export(parent *block) *Export {
	n, path, line := parent.child("export")
	e := newExport()
	e.Line = line
	b := d.block(n, path, line, []string{
		"s3_bucket", "s3_prefix", "s3_region", "s3_sse_kms_key_id", "s3_bucket_owner",
		"export_arn", "format", "parallelism",
	}, nil)
	if b == nil {
		return e
	}
	b.str("s3_bucket", &e.S3Bucket)
	b.str("s3_prefix", &e.S3Prefix)
	b.str("s3_region", &e.S3Region)
	b.str("s3_sse_kms_key_id", &e.S3SSEKMSKeyID)
	b.str("s3_bucket_owner", &e.S3BucketOwner)
	b.str("export_arn", &e.ExportARN)
	b.enum("format", &e.Format, FormatDynamoDBJSON, FormatION)
	b.integer("parallelism", &e.Parallelism)
	return e
}

func (d *decoder) scan(parent *block) *Scan {
	n, path, line := parent.child("scan")
	s := newScan()
	s.Line = line
	b := d.block(n, path, line, []string{"segments", "page_size", "rate_limit"}, nil)
	if b == nil {
		return s
	}
	b.integer("segments", &s.Segments)
	b.integer("page_size", &s.PageSize)
	b.number("rate_limit", &s.RateLimit)
	return s
}

func (d *decoder) stream(parent *block) *Stream {
	n, path, line := parent.child("stream")
	s := newStream()
	s.Line = line
	b := d.block(n, path, line, []string{"start_position", "view_on_remove", "ttl_deletes", "on_gap", "poll_interval", "table_deleted_wait"}, nil)
	if b == nil {
		return s
	}
	b.enum("start_position", &s.StartPosition, StartLatest, StartTrimHorizon)
	b.enum("view_on_remove", &s.ViewOnRemove, ViewNewImage, ViewOldImage)
	b.enum("ttl_deletes", &s.TTLDeletes, TTLDelete, TTLKeep)
	b.enum("on_gap", &s.OnGap, OnGapStop, OnGapRebackfill)
	b.duration("poll_interval", &s.PollInterval, 0)
	b.duration("table_deleted_wait", &s.TableDeletedWait, 0)
	return s
}

// aws decodes an `aws` block; serverless and serverless_options are keys of
// the sink's block only.
func (d *decoder) aws(parent *block, sink bool) AWS {
	n, path, line := parent.child("aws")
	a := AWS{Line: line}
	known := []string{"region", "sts_role_arn", "sts_external_id", "sts_header_overrides"}
	if sink {
		known = append(known, "serverless", "serverless_options")
	}
	b := d.block(n, path, line, known, retiredKeys{
		"serverless":               "serverless is an option of the opensearch sink's aws block, not of the source",
		"serverless_options":       "serverless_options is an option of the opensearch sink's aws block, not of the source",
		"aws_sts_header_overrides": "not supported: aws_sts_header_overrides (the spelling of Data Prepper's dynamodb page; the key Data Prepper reads is sts_header_overrides)",
	})
	if b == nil {
		return a
	}
	b.str("region", &a.Region)
	b.str("sts_role_arn", &a.STSRoleARN)
	b.str("sts_external_id", &a.STSExternalID)
	b.strMap("sts_header_overrides", &a.STSHeaderOverrides)
	b.boolean("serverless", &a.Serverless)
	if b.present("serverless_options") {
		a.ServerlessOptions = d.serverlessOptions(b)
	}
	return a
}

// serverlessOptions decodes `serverless_options`.
func (d *decoder) serverlessOptions(parent *block) *ServerlessOptions {
	n, path, line := parent.child("serverless_options")
	o := &ServerlessOptions{Line: line}
	b := d.block(n, path, line, []string{"network_policy_name", "collection_name", "vpce_id"}, nil)
	if b == nil {
		return o
	}
	b.str("network_policy_name", &o.NetworkPolicyName)
	b.str("collection_name", &o.CollectionName)
	b.str("vpce_id", &o.VPCEID)
	return o
}

// openSearchBareUnit is the unit of a bare number in the opensearch sink's
// timeouts, which Data Prepper types as integer milliseconds.
const openSearchBareUnit = time.Millisecond
