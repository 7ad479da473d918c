package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ddbsync/ddbsync/internal/config"
)

// awsConfig builds an SDK config from the standard chain (environment,
// shared files, instance role; AWS_ENDPOINT_URL_* endpoints included),
// with the pipeline's region and, when set, an assumed role.
func awsConfig(ctx context.Context, a config.AWS) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if a.Region != "" {
		opts = append(opts, awsconfig.WithRegion(a.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if a.STSRoleARN != "" {
		stsClient := sts.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, a.STSRoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "ddbsync"
			if a.STSExternalID != "" {
				o.ExternalID = aws.String(a.STSExternalID)
			}
		}))
	}
	return cfg, nil
}
