package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/ddbsync/ddbsync/internal/expr"
)

func (v *validator) sinks(p *Pipeline) {
	for i, s := range p.Sinks {
		if v.bad(itemPath(p.Name+".sink", i)) {
			continue
		}
		sp := sinkPath(p, i, s)
		if v.bad(sp) {
			continue
		}
		switch {
		case s.OpenSearch != nil:
			v.opensearch(sp, s.OpenSearch)
		case s.File != nil:
			v.required(sp+".path", s.File.Path, "a file path")
		}
	}
}

func (v *validator) opensearch(sp string, o *OpenSearch) {
	hp := sp + ".hosts"
	if len(o.Hosts) == 0 && !v.bad(hp) {
		if v.idx.has(hp) {
			v.add(hp, gotWant("no hosts", "", "at least one URL"))
		} else {
			v.add(hp, gotWant("missing required key", "", `a list of URLs, e.g. ["https://localhost:9200"]`))
		}
	}
	for i, h := range o.Hosts {
		if err := checkHost(h); err != nil {
			ip := itemPath(hp, i)
			what := "invalid host URL"
			if !v.fromEnv(ip) {
				what += ": " + err.Error()
			}
			got := v.idx.got(ip, redactURL(h))
			v.add(ip, gotWant(what, got, "http://host:port or https://host:port"))
		}
	}

	switch {
	case o.Username != "" && o.Password == "" && !v.bad(sp+".password"):
		v.add(sp+".username", gotWant("username without password", "", "password as well, e.g. password: \"${env:OPENSEARCH_PASSWORD}\""))
	case o.Password != "" && o.Username == "" && !v.bad(sp+".username"):
		v.add(sp+".password", gotWant("password without username", "", "username as well"))
	}
	if o.Insecure && o.Cert != "" {
		v.conflict(sp+".insecure", "cert", "cert verifies the server's certificate; insecure skips verification")
	}
	if o.TemplateFile != "" && o.TemplateContent != "" {
		v.conflict(sp+".template_content", "template_file", "give the index template once")
	}
	if o.NumberMapping == NumberMappingDouble && v.idx.has(sp+".number_mapping") {
		switch {
		case o.TemplateFile != "" || o.TemplateContent != "":
			v.conflict(sp+".number_mapping", "your index template", "your template decides the mapping; remove number_mapping (or set it to none)")
		case o.IndexType == IndexTypeManagementDisabled:
			v.conflict(sp+".number_mapping", "index_type management_disabled", "ddbsync manages no index or template; remove number_mapping (or set it to none)")
		}
	}
	if o.TemplateContent != "" && !json.Valid([]byte(o.TemplateContent)) {
		v.add(sp+".template_content", gotWant("not valid JSON", "", "an index template as a JSON object"))
	}

	if o.Index == nil && !v.bad(sp+".index") && (o.IndexType == IndexTypeCustom || o.IndexType == IndexTypeManagementDisabled) {
		v.add(sp+".index", gotWant("missing required key", "", `an index name or format string, e.g. "my-table" or "my-table-%{yyyy.MM}"`))
	}
	if o.Index != nil && o.Index.IsLiteral() && !o.NormalizeIndex {
		if err := checkIndexName(o.Index.String()); err != nil {
			v.invalid(sp+".index", o.Index.String(), "invalid index name", err, "lowercase, without \\ / * ? \" < > | , # : or spaces, not starting with - _ +")
		}
	}
	if o.Action != nil && o.Action.IsLiteral() {
		switch a := o.Action.String(); a {
		case "index", "create", "update", "upsert", "delete":
		default:
			v.invalid(sp+".action", a, "invalid action", nil, `index | create | update | upsert | delete, or a format string such as ${getMetadata("opensearch_action")}`)
		}
	}
	external := o.DocumentVersionType == VersionTypeExternal || o.DocumentVersionType == VersionTypeExternalGTE
	if o.Serverless() {
		v.serverless(sp, o)
	}
	if !external && o.DocumentVersion != nil {
		v.conflict(sp+".document_version", "document_version_type internal", "OpenSearch assigns internal versions itself; remove document_version or use external")
	}
	if o.DLQS3 != nil && o.DLQFile != "" {
		v.conflict(sp+".dlq", "dlq_file", "choose one dead-letter queue")
	}
	if d := o.DLQS3; d != nil && !v.bad(sp+".dlq.s3") {
		dp := sp + ".dlq.s3"
		if v.required(dp+".bucket", d.Bucket, "an S3 bucket name") {
			if err := checkBucket(d.Bucket); err != nil {
				v.invalid(dp+".bucket", d.Bucket, "invalid S3 bucket name", err, "3 to 63 of a-z 0-9 . -")
			}
		}
		v.keyPathPrefix(dp+".key_path_prefix", d.KeyPathPrefix)
		if d.BucketOwner != "" && !validAccount(d.BucketOwner) {
			v.invalid(dp+".bucket_owner", d.BucketOwner, "invalid account ID", nil, "a 12-digit AWS account ID")
		}
		v.aws(dp, AWS{Region: d.Region, STSRoleARN: d.STSRoleARN})
	}
	if o.AWS != nil {
		v.aws(sp+".aws", *o.AWS)
	}
	if o.Proxy != "" {
		if _, err := ProxyURL(o.Proxy); err != nil {
			v.invalid(sp+".proxy", o.Proxy, "invalid proxy", err, `"host:port" or "http://host:port"`)
		}
	}

	v.positive(sp+".bulk_size", o.BulkSizeMiB > 0, fmt.Sprint(o.BulkSizeMiB), "a positive number of MiB")
	v.positive(sp+".max_retries", o.MaxRetries >= 0, fmt.Sprint(o.MaxRetries), "0 (retry until success) or more")
	v.positive(sp+".connect_timeout", o.ConnectTimeout > 0, o.ConnectTimeout.String(), "a positive duration")
	v.positive(sp+".socket_timeout", o.SocketTimeout > 0, o.SocketTimeout.String(), "a positive duration")
	v.positive(sp+".number_of_shards", o.NumberOfShards >= 0, fmt.Sprint(o.NumberOfShards), "0 (OpenSearch's default) or more")
	v.positive(sp+".number_of_replicas", o.NumberOfReplicas >= 0, fmt.Sprint(o.NumberOfReplicas), "0 or more")
}

// maxDLQPrefix leaves room in S3's 1024-byte keys for the object name
// (dlq-v1-<pipeline>-opensearch-<time>-<random>.jsonl).
const maxDLQPrefix = 700

// keyPathPrefix checks dlq.s3.key_path_prefix: literal text and %{...}
// date patterns, no ${...} references (an object holds many documents).
func (v *validator) keyPathPrefix(path, s string) {
	if s == "" || v.bad(path) {
		return
	}
	const want = `a folder such as "dlq/" or "dlq/%{yyyy}/%{MM}/%{dd}/"`
	t, err := expr.Parse(s)
	switch {
	case err != nil:
		v.invalid(path, s, "invalid key_path_prefix", err, want)
	case len(t.Pointers()) > 0 || len(t.Metadata()) > 0:
		v.invalid(path, s, "invalid key_path_prefix", fmt.Errorf("${...} references are not allowed: one object holds many documents"), want)
	case strings.HasPrefix(s, "/"):
		v.invalid(path, s, "invalid key_path_prefix", fmt.Errorf("starts with '/'"), want)
	case len(s) > maxDLQPrefix:
		v.add(path, gotWant("too long", plural(len(s), "byte"), fmt.Sprintf("at most %d bytes", maxDLQPrefix)))
	}
}

// checkHost accepts an http or https URL with a host and nothing after the path.
func checkHost(h string) error {
	u, err := url.Parse(h)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("no host")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("has a query or fragment")
	}
	return nil
}

// redactURL hides the password in a URL's user information ("user:pass@"),
// by text so that it works on URLs that do not parse. The user information
// ends at the last '@' (an unescaped password may hold '/', '?', '#' or '@'),
// so a path holding '@' is over-redacted, which is the safe side.
func redactURL(h string) string {
	start := strings.Index(h, "://")
	if start < 0 {
		start = 0
	} else {
		start += 3
	}
	at := strings.LastIndexByte(h[start:], '@')
	if at < 0 {
		return h
	}
	at += start
	colon := strings.IndexByte(h[start:at], ':')
	if colon < 0 {
		return h
	}
	return h[:start+colon+1] + "******" + h[at:]
}

// checkIndexName applies OpenSearch's index naming rules to a literal name.
func checkIndexName(s string) error {
	switch {
	case s == "." || s == "..":
		return fmt.Errorf("%q is reserved", s)
	case len(s) > 255:
		return fmt.Errorf("%d bytes (at most 255)", len(s))
	case strings.ToLower(s) != s:
		return fmt.Errorf("has uppercase letters")
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "_") || strings.HasPrefix(s, "+"):
		return fmt.Errorf("starts with %q", s[:1])
	}
	if i := strings.IndexAny(s, "\\/*?\"<>| ,#:"); i >= 0 {
		return fmt.Errorf("has %q", s[i:i+1])
	}
	return nil
}

// serverless checks what an OpenSearch Serverless collection refuses: the
// legacy _template API and index shard settings (Serverless manages
// shards), and serverless_options without its documented keys.
func (v *validator) serverless(sp string, o *OpenSearch) {
	if (o.TemplateFile != "" || o.TemplateContent != "") && o.TemplateType == TemplateTypeV1 {
		path := sp + ".template_type"
		if !v.idx.has(path) {
			path = sp + ".template_file"
			if o.TemplateContent != "" {
				path = sp + ".template_content"
			}
		}
		v.add(path, gotWant("OpenSearch Serverless has no legacy _template API", "template_type "+TemplateTypeV1+" (the default)",
			"template_type: index-template, with a composable template ({\"template\": {\"mappings\": ...}})"))
	}
	for _, k := range []string{"number_of_shards", "number_of_replicas"} {
		if v.idx.has(sp + "." + k) {
			v.add(sp+"."+k, "OpenSearch Serverless manages shards and replicas itself and refuses index settings that set them; remove "+k)
		}
	}
	if so := o.AWS.ServerlessOptions; so != nil {
		path := sp + ".aws.serverless_options"
		if !v.idx.has(path) {
			path = sp + ".serverless_options"
		}
		v.required(path+".network_policy_name", so.NetworkPolicyName, "the name of the collection's network policy")
		v.required(path+".collection_name", so.CollectionName, "the collection's name")
		v.required(path+".vpce_id", so.VPCEID, "the VPC endpoint ID, e.g. vpce-0123456789abcdef0")
	}
}

// ProxyURL parses `proxy` as Data Prepper takes it: "host:port" (http) or
// a URL with a scheme; the port is required.
func ProxyURL(s string) (*url.URL, error) {
	raw := s
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("not a host:port or URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Hostname() == "":
		return nil, fmt.Errorf("no host")
	case u.Port() == "":
		return nil, fmt.Errorf("no port")
	}
	return u, nil
}
