package export

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// ensureExport returns the ARN of the export to load: the configured one,
// the one saved in the checkpoint, or a new one. A new export's client token
// is saved before the call and its ARN right after, so a restart at any
// point reuses the same export instead of starting a second.
func (x *Exporter) ensureExport(ctx context.Context, meta *checkpoint.Progress) (string, error) {
	if x.cfg.ExportARN != "" {
		return x.cfg.ExportARN, nil
	}
	if arn := meta.Meta[backfill.MetaExportARN]; arn != "" {
		x.log.Info("reusing export from checkpoint", "export", arn)
		return arn, nil
	}
	pitr, err := retry.Do(ctx, x.log, "describe continuous backups", func() (*dynamodb.DescribeContinuousBackupsOutput, error) {
		return x.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(x.tableNameOrARN())})
	})
	if err != nil {
		return "", fmt.Errorf("describe continuous backups of table %s: %w", x.table.Name, err)
	}
	if d := pitr.ContinuousBackupsDescription; d == nil || d.PointInTimeRecoveryDescription == nil ||
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		return "", fmt.Errorf("point-in-time recovery is disabled, and an export needs it: enable it (aws dynamodb update-continuous-backups --table-name %s --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true), or use a scan backfill (tables[].scan) instead of export", x.table.Name)
	}
	token := meta.Meta[backfill.MetaToken]
	if token == "" {
		b := make([]byte, 16)
		if _, err := cryptoRead(b); err != nil {
			return "", err
		}
		token = hex.EncodeToString(b)
		meta.Meta[backfill.MetaToken] = token
		if err := x.store.Save(ctx, backfill.MetaKey(x.table.Name), *meta); err != nil {
			return "", err
		}
	}
	in := &dynamodb.ExportTableToPointInTimeInput{
		TableArn:     aws.String(x.cfg.TableARN),
		S3Bucket:     aws.String(x.cfg.S3Bucket),
		ExportFormat: exportFormat(x.cfg.Format),
		ClientToken:  aws.String(token),
	}
	if x.cfg.S3Prefix != "" {
		in.S3Prefix = aws.String(x.cfg.S3Prefix)
	}
	if x.cfg.S3BucketOwner != "" {
		in.S3BucketOwner = aws.String(x.cfg.S3BucketOwner)
	}
	if x.cfg.S3SSEKMSKeyID != "" {
		in.S3SseAlgorithm = types.S3SseAlgorithmKms
		in.S3SseKmsKeyId = aws.String(x.cfg.S3SSEKMSKeyID)
	} else {
		in.S3SseAlgorithm = types.S3SseAlgorithmAes256
	}
	// The client token makes a retried call return the same export.
	out, err := retry.Do(ctx, x.log, "export table", func() (*dynamodb.ExportTableToPointInTimeOutput, error) {
		return x.ddb.ExportTableToPointInTime(ctx, in)
	})
	if err != nil {
		return "", fmt.Errorf("start export of table %s to s3://%s/%s: %w", x.table.Name, x.cfg.S3Bucket, x.cfg.S3Prefix, err)
	}
	arn := aws.ToString(out.ExportDescription.ExportArn)
	meta.Meta[backfill.MetaExportARN] = arn
	if err := x.store.Save(ctx, backfill.MetaKey(x.table.Name), *meta); err != nil {
		return "", err
	}
	x.log.Info("started export", "export", arn)
	return arn, nil
}

// waitExport polls DescribeExport with backoff until the export completes.
func (x *Exporter) waitExport(ctx context.Context, arn string) (*types.ExportDescription, error) {
	delay := x.opts.PollMin
	for {
		out, err := retry.Do(ctx, x.log, "describe export", func() (*dynamodb.DescribeExportOutput, error) {
			return x.ddb.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn)})
		})
		if err != nil {
			return nil, fmt.Errorf("describe export %s: %w", arn, err)
		}
		d := out.ExportDescription
		switch d.ExportStatus {
		case types.ExportStatusCompleted:
			if d.ExportTime == nil {
				return nil, fmt.Errorf("export %s has no ExportTime", arn)
			}
			return d, nil
		case types.ExportStatusFailed:
			code, msg := aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage)
			return nil, fmt.Errorf("%s", withHint(fmt.Sprintf("export %s to s3://%s/%s FAILED: %s: %s", arn, x.cfg.S3Bucket, x.cfg.S3Prefix, code, msg), failureHint(code, msg)))
		}
		x.log.Info("waiting for export", "export", arn, "status", d.ExportStatus, "next_check", delay)
		t := time.NewTimer(delay + time.Duration(rand.Int64N(int64(delay/4)+1)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, x.opts.PollMax)
	}
}

// exportFormat is the ExportFormat to request for the configured
// export.format (DYNAMODB_JSON unless ION).
func exportFormat(configured string) types.ExportFormat {
	if configured == config.FormatION {
		return types.ExportFormatIon
	}
	return types.ExportFormatDynamodbJson
}

func (x *Exporter) tableNameOrARN() string {
	if x.opts.ByName {
		return x.table.Name
	}
	return x.cfg.TableARN
}

// cryptoRead is crypto/rand.Read, named to keep math/rand/v2 importable.
func cryptoRead(b []byte) (int, error) {
	n, err := crand.Read(b)
	if err != nil {
		return n, errors.New("no randomness for the export client token")
	}
	return n, nil
}
