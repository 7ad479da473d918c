package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, yaml string, env map[string]string) *File {
	t.Helper()
	f, err := Parse("test.yaml", []byte(yaml), mapEnv(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error = %v (%T), want *Errors", err, err)
	}
	return *errs
}

func TestBlueprintModel(t *testing.T) {
	f, err := Load("testdata/blueprint/pipeline.yaml", mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != "2" || len(f.Pipelines) != 1 {
		t.Fatalf("version %q, %d pipelines", f.Version, len(f.Pipelines))
	}
	p := f.Pipelines[0]
	if p.Name != "dynamodb-pipeline" || p.Line != 4 {
		t.Errorf("pipeline %q at line %d", p.Name, p.Line)
	}
	src := p.Source
	if !src.Acknowledgments || src.ShardAcknowledgmentTimeout != 10*time.Minute || src.S3DataFileAcknowledgmentTimeout != 5*time.Minute {
		t.Errorf("source defaults: %+v", src)
	}
	if src.AWS.Region != "us-east-1" || src.AWS.STSRoleARN != "arn:aws:iam::123456789012:role/Example-Role" {
		t.Errorf("source aws: %+v", src.AWS)
	}
	tb := src.Tables[0]
	if tb.TableName != "orders" || tb.Overlap != DefaultOverlap || tb.Line != 10 {
		t.Errorf("table: %+v", tb)
	}
	if s := tb.Stream; s == nil || s.StartPosition != StartLatest || s.ViewOnRemove != ViewNewImage || s.TTLDeletes != TTLDelete || s.OnGap != OnGapStop {
		t.Errorf("stream: %+v", s)
	}
	if e := tb.Export; e == nil || e.S3Bucket != "my-export-bucket" || e.S3Prefix != "ddb-to-opensearch-export/" || e.Format != FormatDynamoDBJSON || e.Parallelism != 4 {
		t.Errorf("export: %+v", e)
	}
	if tb.Scan != nil {
		t.Errorf("scan: %+v", tb.Scan)
	}
	o := p.Sinks[0].OpenSearch
	if o == nil || p.Sinks[0].Kind() != "opensearch" {
		t.Fatalf("sink: %+v", p.Sinks[0])
	}
	for name, tc := range map[string]struct {
		got  fmt.Stringer
		want string
	}{
		"index":            {o.Index, "table-index"},
		"document_id":      {o.DocumentID, DefaultDocumentID},
		"action":           {o.Action, DefaultAction},
		"document_version": {o.DocumentVersion, DefaultDocumentVersion},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s = %s, want %s", name, tc.got, tc.want)
		}
	}
	if o.DocumentVersionType != VersionTypeExternal || o.IndexType != IndexTypeCustom || o.BulkSizeMiB != 5 ||
		o.FlushTimeout != time.Second || o.MaxRetries != 0 || o.ConnectTimeout != 10*time.Second ||
		o.SocketTimeout != 60*time.Second || o.NumberOfReplicas != -1 || o.TemplateType != TemplateTypeV1 {
		t.Errorf("opensearch defaults: %+v", o)
	}
	if o.AWS == nil || o.AWS.Region != "us-east-1" || o.AWS.Serverless {
		t.Errorf("sink aws: %+v", o.AWS)
	}
}

func TestExplicitZeroWins(t *testing.T) {
	f := mustParse(t, `
p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          overlap: 0s
          scan: {segments: 1}
          stream: {}
  sink:
    - opensearch:
        hosts: [http://localhost:9200]
        index: i
        flush_timeout: 0
        number_of_replicas: 0
        document_version_type: internal
`, nil)
	tb := f.Pipelines[0].Source.Tables[0]
	o := f.Pipelines[0].Sinks[0].OpenSearch
	if tb.Overlap != 0 || tb.Scan.Segments != 1 || tb.Scan.PageSize != DefaultScanPageSize {
		t.Errorf("table: overlap %v, scan %+v", tb.Overlap, tb.Scan)
	}
	if o.FlushTimeout != 0 || o.NumberOfReplicas != 0 || o.DocumentVersion != nil {
		t.Errorf("opensearch: flush %v, replicas %d, version %v", o.FlushTimeout, o.NumberOfReplicas, o.DocumentVersion)
	}
}

func TestRegionFromARN(t *testing.T) {
	f := mustParse(t, `
p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders
          stream: {}
  sink: [stdout: ]
`, nil)
	if got := f.Pipelines[0].Source.AWS.Region; got != "cn-north-1" {
		t.Errorf("region = %q, want cn-north-1", got)
	}
	if s := f.Pipelines[0].Sinks[0]; s.Stdout == nil || s.Kind() != "stdout" {
		t.Errorf("sink = %+v", s)
	}
}

// TestManyErrors checks that one run reports every planted error, each at
// its line.
func TestManyErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/many-errors/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("pipeline.yaml", data, mapEnv(nil))
	got := map[string]int{}
	for _, p := range problems(t, err) {
		got[p.Path] = p.Line
	}
	want := map[string]int{
		"version": 1,
		"dynamodb-pipeline.source.dynamodb.acknowledgments":                 5,
		"dynamodb-pipeline.source.dynamodb.tables[0].table_arn":             7,
		"dynamodb-pipeline.source.dynamodb.tables[0].stream.start_position": 9,
		"dynamodb-pipeline.source.dynamodb.tables[0].export.s3_bucket":      10,
		"dynamodb-pipeline.source.dynamodb.tables[0].scan":                  12,
		"dynamodb-pipeline.source.dynamodb.tables[0].overlap":               13,
		"dynamodb-pipeline.source.dynamodb.aws.sts_role_arn":                15,
		"dynamodb-pipeline.source.dynamodb.aws.regon":                       16,
		"dynamodb-pipeline.sink[0].opensearch.hosts":                        19,
		"dynamodb-pipeline.sink[0].opensearch.index":                        20,
		"dynamodb-pipeline.sink[0].opensearch.username":                     21,
		"dynamodb-pipeline.sink[0].opensearch.document_version_type":        22,
		"dynamodb-pipeline.sink[0].opensearch.flush_timeout":                23,
		"dynamodb-pipeline.sink[0].opensearch.bulk_size":                    24,
	}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("%s: reported at line %d, want line %d", path, got[path], line)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(got), len(want), err)
	}
}

// TestSecretsNeverPrinted substitutes secret values into options that are
// valid and into options that are wrong, and checks that no message, no
// summary and no %+v of the model shows them.
func TestSecretsNeverPrinted(t *testing.T) {
	env := map[string]string{
		"PASSWORD":  "pw-Zq8-secret",
		"BOOL":      "bool-Zq8-secret",
		"EXPR":      "${bogus-Zq8-secret}",
		"ARN":       "arn:aws:dynamodb:us-east-1:999-Zq8-secret:table/x",
		"URL":       "ftp://user:url-Zq8-secret@host",
		"ENUM":      "LATESTZq8",
		"DURATION":  "dur-Zq8-secret",
		"INT":       "int-Zq8-secret",
		"BUCKET":    "Bucket_Zq8_secret",
		"EXTERNAL":  "Z",
		"REGION":    "Region-Zq8-secret",
		"INDEX":     "Index-Zq8-secret",
		"ROLE":      "arn:aws:iam::123456789012:user/role-Zq8-secret",
		"EXPORTARN": "arn:aws:dynamodb:us-east-1:123456789012:table/other-Zq8/export/1-a",
	}
	bad := `
p:
  source:
    dynamodb:
      acknowledgments: ${env:BOOL}
      aws: {region: "${env:REGION}", sts_role_arn: "${env:ROLE}", sts_external_id: "${env:EXTERNAL}"}
      tables:
        - table_arn: ${env:ARN}
          overlap: ${env:DURATION}
          stream: {start_position: "${env:ENUM}"}
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/okay
          scan: {segments: "${env:INT}"}
          stream: {}
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/okay2
          export: {s3_bucket: "${env:BUCKET}", export_arn: "${env:EXPORTARN}"}
  sink:
    - opensearch:
        hosts: ["${env:URL}"]
        username: u
        password: ${env:PASSWORD}
        index: "${env:EXPR}"
    - opensearch:
        hosts: [http://localhost:9200]
        index: "${env:INDEX}"
`
	_, err := Parse("bad.yaml", []byte(bad), mapEnv(env))
	ps := problems(t, err)
	if len(ps) < 10 {
		t.Errorf("only %d problems:\n%v", len(ps), err)
	}
	if strings.Contains(err.Error(), "Zq8") {
		t.Errorf("a substituted value leaked into an error:\n%v", err)
	}

	good := `
p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://admin:url-Zq8-secret@localhost:9200"]
        username: admin
        password: ${env:PASSWORD}
        index: orders
        aws: {sts_external_id: "${env:PASSWORD}", sts_header_overrides: {x-secret: "${env:PASSWORD}"}}
`
	f := mustParse(t, good, env)
	o := f.Pipelines[0].Sinks[0].OpenSearch
	if o.Password.Value() != env["PASSWORD"] {
		t.Fatalf("password not substituted")
	}
	shown := f.Summary()
	for _, p := range f.Unsupported() {
		shown += p.String()
	}
	if strings.Contains(shown, "Zq8") {
		t.Errorf("a secret leaked into the summary or Unsupported:\n%s", shown)
	}
	// Printing the model shows hosts as written, but never the password.
	if printed := fmt.Sprintf("%v %+v %#v", o.Password, *o, o.Password); strings.Contains(printed, env["PASSWORD"]) {
		t.Errorf("the password leaked when printing the model:\n%s", printed)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		bare time.Duration
		want time.Duration
		err  bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "100ms", want: 100 * time.Millisecond},
		{in: "10m", want: 10 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "PT10M", want: 10 * time.Minute},
		{in: "pt20.345s", want: 20345 * time.Millisecond},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "P2D", want: 48 * time.Hour},
		{in: "PT1H2M3S", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "0", want: 0},
		{in: "60000", bare: time.Millisecond, want: time.Minute},
		{in: "300", err: true},
		{in: "PT", err: true},
		{in: "P", err: true},
		{in: "P1H", err: true},
		{in: "PT1S2M", err: true},
		{in: "PT1.5M", err: true},
		{in: "-1s", err: true},
		{in: "10 minutes", err: true},
		{in: "", err: true},
		{in: "99999999999999999999", bare: time.Millisecond, err: true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in, tt.bare)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q, %v) = %v, %v; want %v, error %v", tt.in, tt.bare, got, err, tt.want, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"table_arn", "export", "stream", "scan", "overlap"}
	tests := []struct{ in, want string }{
		{"tabel_arn", "table_arn"},
		{"tableArn", "table_arn"},
		{"TABLE-ARN", "table_arn"},
		{"exprot", "export"},
		{"streams", "stream"},
		{"scna", "scan"},
		{"sink", ""},
		{"completely_else", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestARNs(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"table", tableCheck, "arn:aws:dynamodb:us-east-1:123456789012:table/orders", true},
		{"table gov", tableCheck, "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/a.b-c_d", true},
		{"table stream", tableCheck, "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x", false},
		{"table short name", tableCheck, "arn:aws:dynamodb:us-east-1:123456789012:table/ab", false},
		{"table no region", tableCheck, "arn:aws:dynamodb::123456789012:table/orders", false},
		{"table partition", tableCheck, "arn:azure:dynamodb:us-east-1:123456789012:table/orders", false},
		{"role", checkRoleARN, "arn:aws:iam::123456789012:role/Example-Role", true},
		{"role with path", checkRoleARN, "arn:aws:iam::123456789012:role/service-role/My+Role=,.@-_", true},
		{"role user", checkRoleARN, "arn:aws:iam::123456789012:user/bob", false},
		{"role region", checkRoleARN, "arn:aws:iam:us-east-1:123456789012:role/r", false},
		{"role name char", checkRoleARN, "arn:aws:iam::123456789012:role/a b", false},
		{"export", exportCheck, "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01693932329829-5c9e5e1f", true},
		{"export no id", exportCheck, "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/", false},
		{"kms", checkKMSKey, "arn:aws:kms:us-west-2:123456789012:key/0a4bc22f-bb96-4ad3-80ca-63b12b3ec147", true},
		{"kms id only", checkKMSKey, "0a4bc22f-bb96-4ad3-80ca-63b12b3ec147", false},
	}
	for _, tt := range tests {
		if err := tt.check(tt.in); (err == nil) != tt.ok {
			t.Errorf("%s: %q: error %v, want ok=%v", tt.name, tt.in, err, tt.ok)
		}
	}
}

func tableCheck(s string) error  { _, err := parseTableARN(s); return err }
func exportCheck(s string) error { _, err := parseExportARN(s); return err }

func TestErrorsFormat(t *testing.T) {
	errs := Errors{
		{Line: 3, Path: "p.sink", Msg: "b"},
		{Line: 0, Path: "", Msg: "whole file"},
	}
	want := "line 3: p.sink: b\nwhole file"
	if got := errs.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pw@host:9200/x", "https://user:******@host:9200/x"},
		{"https://user@host", "https://user@host"},
		{"https://host:9200", "https://host:9200"},
		{"user:pw@host:bad port", "user:******@host:bad port"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml", nil)
	var errs *Errors
	if err == nil || errors.As(err, &errs) {
		t.Errorf("Load of a missing file: %v (want a plain error)", err)
	}
}

// TestSecretThroughAlias checks that a substituted value reached through a
// YAML alias is not printed either.
func TestSecretThroughAlias(t *testing.T) {
	_, err := Parse("alias.yaml", []byte(`
p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: [http://localhost:9200]
        index: i
        username: u
        password: &pw ${env:PW}
        insecure: *pw
`), mapEnv(map[string]string{"PW": "pw-Zq8-secret"}))
	if err == nil || strings.Contains(err.Error(), "Zq8") || !strings.Contains(err.Error(), "insecure") {
		t.Errorf("error = %v; want a problem on insecure without the value", err)
	}
}

// TestMissingEnvReportedOnce checks that an unset variable is the only
// problem reported for the option it feeds.
func TestMissingEnvReportedOnce(t *testing.T) {
	_, err := Parse("env.yaml", []byte(`
p:
  source:
    dynamodb:
      tables:
        - table_arn: ${env:TABLE_ARN}
          stream: {}
  sink:
    - opensearch:
        hosts: ["${env:OPENSEARCH_URL}"]
        index: i
        username: u
        password: ${env:PASSWORD}
`), mapEnv(nil))
	ps := problems(t, err)
	if len(ps) != 3 {
		t.Fatalf("%d problems, want 3 (one per variable):\n%v", len(ps), err)
	}
	for i, name := range []string{"TABLE_ARN", "OPENSEARCH_URL", "PASSWORD"} {
		if !strings.Contains(ps[i].Msg, "environment variable "+name+" is not set") {
			t.Errorf("problem %d = %s, want one about %s", i, ps[i], name)
		}
	}
}
