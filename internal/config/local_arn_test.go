package config

import (
	"strings"
	"testing"
)

// TestLocalARN checks that DynamoDB Local's own table ARNs load: the table
// is addressed by name, the region stays the configured one, and a written
// aws.region never conflicts with "ddblocal".
func TestLocalARN(t *testing.T) {
	tests := []struct {
		name       string
		region     string // aws.region line, "" for none
		arn        string
		wantRegion string
		wantLocal  bool
	}{
		{"local ARN, no region", "", "arn:aws:dynamodb:ddblocal:000000000000:table/people", "", true},
		{"local ARN, aws.region", "us-west-2", "arn:aws:dynamodb:ddblocal:000000000000:table/people", "us-west-2", true},
		{"AWS ARN", "", "arn:aws:dynamodb:eu-west-1:123456789012:table/people", "eu-west-1", false},
		{"AWS ARN with its region", "eu-west-1", "arn:aws:dynamodb:eu-west-1:123456789012:table/people", "eu-west-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aws := ""
			if tt.region != "" {
				aws = "\n      aws: {region: " + tt.region + "}"
			}
			f := mustParse(t, `
p:
  source:
    dynamodb:`+aws+`
      tables:
        - table_arn: `+tt.arn+`
          stream: {}
  sink: [stdout: ]
`, nil)
			p := f.Pipelines[0]
			if got := p.Source.AWS.Region; got != tt.wantRegion {
				t.Errorf("region = %q, want %q", got, tt.wantRegion)
			}
			tb := p.Source.Tables[0]
			if tb.TableName != "people" {
				t.Errorf("table name = %q, want people", tb.TableName)
			}
			if got := tb.LocalARN(); got != tt.wantLocal {
				t.Errorf("LocalARN = %v, want %v", got, tt.wantLocal)
			}
		})
	}
}

// TestLocalARNStillChecked: the local region does not relax the rest of the
// ARN rules, and another region than aws.region is still an error.
func TestLocalARNStillChecked(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:dynamodb:ddblocal:0000:table/people", "not 12 digits"},
		{"arn:aws:dynamodb:ddblocal:000000000000:table/p", "3 to 255"},
		{"arn:aws:dynamodb:us-east-1:000000000000:table/people", "another region"},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(`
p:
  source:
    dynamodb:
      aws: {region: eu-west-1}
      tables:
        - table_arn: `+tt.arn+`
          stream: {}
  sink: [stdout: ]
`), mapEnv(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
