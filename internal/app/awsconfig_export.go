package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbsync/ddbsync/internal/config"
)

// AWSConfig builds an SDK config the way run does: the standard chain
// (environment, shared files, instance role; AWS_ENDPOINT_URL_* endpoints
// included) with the block's region and, when set, its assumed role. Other
// subcommands (verify) use it so that they reach the same account.
func AWSConfig(ctx context.Context, a config.AWS) (aws.Config, error) {
	return awsConfig(ctx, a)
}
