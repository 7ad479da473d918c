package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Secrets written literally in the pipeline file (not through ${env:...})
// never appear in what validate prints: the summary, the list of options
// run would refuse, or any problem of an invalid file (DESIGN §3, STYLE 6).

// biSecret is distinctive, and holds the URL delimiters '/', '#' and '?'
// that generated passwords often contain.
const biSecret = "L1teral/pw#S3cr3t?XYZ"

// biLeaks reports which forms of the secret text contains: as is, URL-escaped
// (as in a host URL), or inside a basic auth header.
func biLeaks(text string) []string {
	var found []string
	for _, form := range []string{biSecret, "L1teral", "S3cr3t?XYZ", "L1teral%2Fpw%23S3cr3t%3FXYZ"} {
		if strings.Contains(text, form) {
			found = append(found, form)
		}
	}
	return found
}

func biValidPipeline(host string) string {
	return fmt.Sprintf(`version: "2"
p:
  source:
    dynamodb:
      aws:
        region: us-east-1
        sts_role_arn: arn:aws:iam::123456789012:role/replicator
        sts_external_id: "%[1]s"
        sts_header_overrides:
          X-Secret: "%[1]s"
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["%[2]s"]
        username: admin
        password: "%[1]s"
        index: orders
`, biSecret, host)
}

func TestBadInputLiteralSecretNeverInSummary(t *testing.T) {
	for _, host := range []string{
		"https://search.example.com:9200",
		"https://admin:" + strings.NewReplacer("/", "%2F", "#", "%23", "?", "%3F").Replace(biSecret) + "@search.example.com:9200",
	} {
		f, err := Parse("p.yaml", []byte(biValidPipeline(host)), nil)
		if err != nil {
			t.Fatalf("host %s: %v", host, err)
		}
		if f.Pipelines[0].Sinks[0].OpenSearch.Password.Value() != biSecret {
			t.Fatal("the password was not read")
		}
		var unsupported strings.Builder
		for _, p := range f.Unsupported() {
			unsupported.WriteString(p.String() + "\n")
		}
		for what, text := range map[string]string{
			"Summary":     f.Summary(),
			"Unsupported": unsupported.String(),
			"%v":          fmt.Sprintf("%v", f.Pipelines[0].Sinks[0].OpenSearch),
			"%+v":         fmt.Sprintf("%+v", f.Pipelines[0].Sinks[0].OpenSearch),
			"%#v":         fmt.Sprintf("%#v", f.Pipelines[0].Sinks[0].OpenSearch),
			"%s":          fmt.Sprintf("%s", f.Pipelines[0].Sinks[0].OpenSearch.Password),
		} {
			// A password inside a host URL is a plain string in the model:
			// only the summary must hide that one.
			if what != "Summary" && what != "Unsupported" && strings.Contains(host, "@") {
				continue
			}
			if l := biLeaks(text); len(l) > 0 {
				t.Errorf("host %s: %s prints the secret (%q):\n%s", host, what, l, text)
			}
		}
	}
}

// TestBadInputSecretInLogsAsJSON: a Secret passed to a JSON logger or to
// encoding/json stays redacted (run --log-format json).
func TestBadInputSecretInLogsAsJSON(t *testing.T) {
	sec := Secret(biSecret)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "password", sec)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "password", sec)
	b, _ := json.Marshal(struct{ Password Secret }{sec})
	buf.Write(b)
	if l := biLeaks(buf.String()); len(l) > 0 {
		t.Errorf("a Secret prints itself through slog / encoding/json (%q):\n%s", l, buf.String())
	}
}

func TestBadInputLiteralSecretNeverInProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
	}{
		{"password in an unparsable host URL", `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://admin:` + biSecret + `@search.example.com:9200"]
        index: orders
`},
		{"password with an unescaped ? in a host URL", `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://admin:S3cr3t?XYZ@search.example.com:9200"]
        index: orders
`},
		{"password without username", `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://search.example.com:9200"]
        password: "` + biSecret + `"
        index: orders
`},
		{"misspelt password key", `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://search.example.com:9200"]
        username: admin
        pasword: "` + biSecret + `"
        index: orders
`},
		{"password of the wrong type", `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://search.example.com:9200"]
        username: admin
        password: ["` + biSecret + `"]
        index: orders
`},
		{"password under the source", `p:
  source:
    dynamodb:
      password: "` + biSecret + `"
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://search.example.com:9200"]
        index: orders
`},
		{"external ID out of range", `p:
  source:
    dynamodb:
      aws:
        sts_role_arn: arn:aws:iam::123456789012:role/replicator
        sts_external_id: "` + strings.Repeat(biSecret, 60) + `"
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["https://search.example.com:9200"]
        index: orders
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.yaml), nil)
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want problems, got %v", err)
			}
			if l := biLeaks(errs.Error()); len(l) > 0 {
				t.Errorf("a problem prints the secret (%q):\n%s", l, errs.Error())
			}
		})
	}
}
