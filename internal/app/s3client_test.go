package app

import (
	"testing"

	"github.com/ddbsync/ddbsync/internal/config"
)

// TestDLQS3AWS: dlq.s3's own region and role win; else the sink's aws
// block; else nothing (the environment and the standard chain).
func TestDLQS3AWS(t *testing.T) {
	const sinkRole, dlqRole = "arn:aws:iam::123456789012:role/sink", "arn:aws:iam::123456789012:role/dlq"
	sinkAWS := &config.AWS{Region: "us-east-1", STSRoleARN: sinkRole, STSExternalID: "ext"}
	tests := []struct {
		name string
		o    config.OpenSearch
		want config.AWS
	}{
		{"own region and role", config.OpenSearch{AWS: sinkAWS, DLQS3: &config.DLQS3{Region: "eu-west-1", STSRoleARN: dlqRole}},
			config.AWS{Region: "eu-west-1", STSRoleARN: dlqRole}},
		{"sink's region and role", config.OpenSearch{AWS: sinkAWS, DLQS3: &config.DLQS3{}}, *sinkAWS},
		{"own role, sink's region", config.OpenSearch{AWS: sinkAWS, DLQS3: &config.DLQS3{STSRoleARN: dlqRole}},
			config.AWS{Region: "us-east-1", STSRoleARN: dlqRole}},
		{"no aws block", config.OpenSearch{DLQS3: &config.DLQS3{}}, config.AWS{}},
		{"no aws block, own region", config.OpenSearch{DLQS3: &config.DLQS3{Region: "us-west-2"}}, config.AWS{Region: "us-west-2"}},
		{"no dlq.s3 (redrive --dlq s3://...)", config.OpenSearch{AWS: sinkAWS}, *sinkAWS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dlqS3AWS(&tc.o)
			if got.Region != tc.want.Region || got.STSRoleARN != tc.want.STSRoleARN || got.STSExternalID != tc.want.STSExternalID {
				t.Errorf("dlqS3AWS = %+v, want %+v", got, tc.want)
			}
		})
	}
}
