package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/config"
)

// newS3Client is the one way ddbsync builds an S3 client (export reader,
// dead letters, redrive): cfg's credentials and endpoints, region instead
// of cfg's when set, and path-style addressing when AWS_ENDPOINT_URL_S3 is
// set (local S3 servers have no virtual-hosted buckets).
func newS3Client(cfg aws.Config, region string, getenv func(string) string) *s3.Client {
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if region != "" {
			so.Region = region
		}
		so.UsePathStyle = getenv("AWS_ENDPOINT_URL_S3") != ""
	})
}

// dlqS3AWS is the account and region an opensearch sink's dlq.s3 block
// writes with: its own region, else the sink's aws.region, else the
// environment's; its own sts_role_arn, else the sink's aws role (with its
// external id), else the standard credential chain.
func dlqS3AWS(o *config.OpenSearch) config.AWS {
	var a config.AWS
	if o.AWS != nil {
		a = config.AWS{Region: o.AWS.Region, STSRoleARN: o.AWS.STSRoleARN, STSExternalID: o.AWS.STSExternalID}
	}
	if d := o.DLQS3; d != nil {
		if d.Region != "" {
			a.Region = d.Region
		}
		if d.STSRoleARN != "" {
			a.STSRoleARN, a.STSExternalID = d.STSRoleARN, ""
		}
	}
	return a
}

// DLQS3Client builds the S3 client for an opensearch sink's dead letters
// (dlq.s3: run writes them, redrive reads them) with dlqS3AWS's region and
// role. For a sink without dlq.s3 it uses the sink's aws block, else the
// environment (redrive --dlq s3://... of such a sink).
func DLQS3Client(ctx context.Context, o *config.OpenSearch, getenv func(string) string) (*s3.Client, error) {
	a := dlqS3AWS(o)
	cfg, err := awsConfig(ctx, a)
	if err != nil {
		return nil, err
	}
	return newS3Client(cfg, "", getenv), nil
}
