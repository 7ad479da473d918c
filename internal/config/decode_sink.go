package config

import (
	"gopkg.in/yaml.v3"
)

// sinks decodes `sink`: a list of single-key mappings naming the plugin.
func (d *decoder) sinks(parent *block) []Sink {
	n, path, line := parent.child("sink")
	switch {
	case n == nil || isNull(n):
		d.missing(path, line, "a list of sinks, e.g. [{opensearch: {...}}]")
		return nil
	case n.Kind != yaml.SequenceNode:
		d.add(n.Line, path, gotWant("wrong type", d.describe(n, path), "a list of sinks, e.g. [{opensearch: {...}}]"))
		return nil
	case len(n.Content) == 0:
		d.add(line, path, gotWant("no sinks", "", "at least one sink"))
		return nil
	}
	known := []string{"opensearch", "stdout", "file"}
	var out []Sink
	for i, item := range n.Content {
		item = resolve(item)
		ip := itemPath(path, i)
		d.idx.lines[ip] = item.Line
		s := Sink{Line: item.Line}
		name, val, ok := d.plugin(item, ip, "a sink such as opensearch: {...}")
		if ok && !contains(known, name) {
			d.unknown(item.Line, joinPath(ip, name), name, known, nil)
			ok = false
		}
		if ok {
			pp := joinPath(ip, name)
			d.idx.lines[pp] = item.Line
			switch name {
			case "opensearch":
				s.OpenSearch = d.opensearch(val, pp, item.Line)
			case "stdout":
				s.Stdout = &Stdout{}
				d.block(val, pp, item.Line, nil, nil)
			case "file":
				s.File = &FileSink{}
				if b := d.block(val, pp, item.Line, []string{"path"}, nil); b != nil {
					b.str("path", &s.File.Path)
				}
			}
		} else {
			d.idx.bad[ip] = true
		}
		out = append(out, s)
	}
	return out
}

// plugin reads a single-key mapping {name: options}, as sinks and processors
// are written.
func (d *decoder) plugin(n *yaml.Node, path, want string) (name string, val *yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		d.add(n.Line, path, gotWant("wrong type", d.describe(n, path), want))
		return "", nil, false
	}
	if len(n.Content) > 2 {
		d.add(n.Content[2].Line, path, gotWant("one plugin per list item", "keys "+quoteKeys(n), "one key, with a '-' before each plugin"))
		return "", nil, false
	}
	return n.Content[0].Value, n.Content[1], true
}

func quoteKeys(n *yaml.Node) string {
	s := ""
	for i := 0; i < len(n.Content); i += 2 {
		if s != "" {
			s += ", "
		}
		s += `"` + n.Content[i].Value + `"`
	}
	return s
}

func (d *decoder) opensearch(n *yaml.Node, path string, line int) *OpenSearch {
	o := newOpenSearch()
	o.Line = line
	b := d.block(n, path, line, []string{
		"hosts", "username", "password", "aws", "cert", "insecure", "connect_timeout", "socket_timeout",
		"index", "index_type", "document_id", "routing", "action", "document_version", "document_version_type", "pipeline",
		"bulk_size", "flush_timeout", "max_retries", "dlq_file", "dlq",
		"template_type", "template_file", "template_content", "number_of_shards", "number_of_replicas", "normalize_index",
		"number_mapping", "proxy", "enable_request_compression", "distribution_version",
		"serverless", "serverless_options",
		// Documented by Data Prepper, parsed, refused by Unsupported.
		"actions", "document_root_key", "ism_policy_file", "routes", "tags_target_key", "include_keys", "exclude_keys",
	}, retiredKeys{
		"aws_sigv4":                "not supported: aws_sigv4 (deprecated in Data Prepper); use an aws block: aws: {region: ...}",
		"aws_region":               "not supported: aws_region (deprecated in Data Prepper); use aws: {region: ...}",
		"aws_sts_role_arn":         "not supported: aws_sts_role_arn (deprecated in Data Prepper); use aws: {sts_role_arn: ...}",
		"aws_sts_external_id":      "not supported: aws_sts_external_id (deprecated in Data Prepper); use aws: {sts_external_id: ...}",
		"aws_sts_header_overrides": "not supported: aws_sts_header_overrides (deprecated in Data Prepper); use aws: {sts_header_overrides: ...}",
		"document_id_field":        "not supported: document_id_field (deprecated in Data Prepper); use document_id: \"${/field}\"",
		"routing_field":            "not supported: routing_field (deprecated in Data Prepper); use routing: \"${/field}\"",
	})
	if b == nil {
		return o
	}
	b.strList("hosts", &o.Hosts, `a list of URLs, e.g. ["https://localhost:9200"]`)
	b.str("username", &o.Username)
	b.secret("password", &o.Password)
	if b.present("aws") {
		a := d.aws(b, true)
		o.AWS = &a
	}
	b.str("cert", &o.Cert)
	b.boolean("insecure", &o.Insecure)
	b.duration("connect_timeout", &o.ConnectTimeout, openSearchBareUnit)
	b.duration("socket_timeout", &o.SocketTimeout, openSearchBareUnit)

	b.template("index", &o.Index)
	b.enum("index_type", &o.IndexType, indexTypes()...)
	b.template("document_id", &o.DocumentID)
	b.template("routing", &o.Routing)
	b.template("action", &o.Action)
	b.template("document_version", &o.DocumentVersion)
	b.enum("document_version_type", &o.DocumentVersionType, VersionTypeInternal, VersionTypeExternal, VersionTypeExternalGTE)
	b.template("pipeline", &o.Pipeline)

	b.number("bulk_size", &o.BulkSizeMiB)
	b.duration("flush_timeout", &o.FlushTimeout, openSearchBareUnit)
	b.integer("max_retries", &o.MaxRetries)

	b.str("dlq_file", &o.DLQFile)
	if b.present("dlq") {
		o.DLQS3 = d.dlq(b)
	}

	b.enum("template_type", &o.TemplateType, TemplateTypeV1, TemplateTypeIndexTemplate)
	b.str("template_file", &o.TemplateFile)
	b.str("template_content", &o.TemplateContent)
	b.integer("number_of_shards", &o.NumberOfShards)
	b.integer("number_of_replicas", &o.NumberOfReplicas)
	b.boolean("normalize_index", &o.NormalizeIndex)
	b.enum("number_mapping", &o.NumberMapping, NumberMappingDouble, NumberMappingNone)
	b.str("proxy", &o.Proxy)
	b.boolean("enable_request_compression", &o.RequestCompression)
	b.enum("distribution_version", &o.DistributionVersion, DistributionDefault, DistributionES6)
	d.serverlessTopLevel(b, o, path)
	for _, k := range notRunSinkKeys {
		if b.present(k) {
			o.notRun = append(o.notRun, k)
		}
	}
	return o
}

// notRunSinkKeys are the opensearch sink options Data Prepper documents
// that ddbsync parses but does not run; Unsupported says why for each.
var notRunSinkKeys = []string{"actions", "document_root_key", "ism_policy_file", "routes", "tags_target_key", "include_keys", "exclude_keys"}

// serverlessTopLevel reads the sink-level `serverless` and
// `serverless_options` (deprecated in Data Prepper in favour of the aws
// block, and what the OpenSearch Ingestion blueprint writes) into the aws
// block. Serverless takes only SigV4-signed requests, so they need one.
func (d *decoder) serverlessTopLevel(b *block, o *OpenSearch, path string) {
	var on bool
	b.boolean("serverless", &on)
	var opts *ServerlessOptions
	if b.present("serverless_options") {
		opts = d.serverlessOptions(b)
	}
	if !on && opts == nil {
		return
	}
	if o.AWS == nil {
		key := "serverless"
		if !on {
			key = "serverless_options"
		}
		d.add(d.idx.lines[joinPath(path, key)], joinPath(path, key), gotWant("needs an aws block", "", `aws: {region: ..., sts_role_arn: ...} beside it: Serverless takes only SigV4-signed requests`))
		return
	}
	o.AWS.Serverless = o.AWS.Serverless || on
	if opts != nil {
		if o.AWS.ServerlessOptions != nil {
			d.add(opts.Line, joinPath(path, "serverless_options"), "set twice: here and in the aws block (keep the one in aws)")
			return
		}
		o.AWS.ServerlessOptions = opts
	}
}

// dlq decodes `dlq: {s3: {...}}`. It returns nil when there is no s3 block
// (already reported).
func (d *decoder) dlq(parent *block) *DLQS3 {
	n, path, line := parent.child("dlq")
	b := d.block(n, path, line, []string{"s3"}, nil)
	if b == nil {
		return nil
	}
	sn, spath, sline := b.child("s3")
	if sn == nil {
		d.missing(spath, line, "s3: {bucket: ..., key_path_prefix: ..., region: ...}")
		return nil
	}
	s := &DLQS3{Line: sline}
	sb := d.block(sn, spath, sline, []string{"bucket", "key_path_prefix", "region", "sts_role_arn", "bucket_owner"}, nil)
	if sb == nil {
		return s
	}
	sb.str("bucket", &s.Bucket)
	sb.str("key_path_prefix", &s.KeyPathPrefix)
	sb.str("region", &s.Region)
	sb.str("sts_role_arn", &s.STSRoleARN)
	sb.str("bucket_owner", &s.BucketOwner)
	return s
}

// processors decodes `processor`: a list of single-key mappings. Their
// options are kept as decoded YAML, and the line of every option is
// indexed so that validation (processor.Compile) can point at it.
func (d *decoder) processors(parent *block) []Processor {
	n, path, _ := parent.child("processor")
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, path, gotWant("wrong type", d.describe(n, path), "a list of processors, e.g. [{date: {...}}]"))
		return nil
	}
	var out []Processor
	for i, item := range n.Content {
		item = resolve(item)
		ip := itemPath(path, i)
		d.idx.lines[ip] = item.Line
		name, val, ok := d.plugin(item, ip, "a processor such as date: {...}")
		if !ok {
			continue
		}
		pp := joinPath(ip, name)
		d.idx.lines[pp] = item.Line
		p := Processor{Name: name, Line: item.Line}
		val = resolve(val)
		switch {
		case isNull(val):
		case val.Kind == yaml.MappingNode:
			d.indexLines(val, pp)
			if err := val.Decode(&p.Options); err != nil {
				d.add(val.Line, pp, "cannot read processor options: "+err.Error())
			}
		default:
			d.add(val.Line, pp, gotWant("wrong type", d.describe(val, pp), "a mapping of processor options"))
		}
		out = append(out, p)
	}
	return out
}

// indexLines records the line of every key and list item under n, with
// paths written as validation writes them (a.b[0].c).
func (d *decoder) indexLines(n *yaml.Node, path string) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			d.idx.lines[p] = n.Content[i].Line
			d.indexLines(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := itemPath(path, i)
			d.idx.lines[p] = resolve(item).Line
			d.indexLines(item, p)
		}
	}
}
