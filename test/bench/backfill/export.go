package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// exportTable turns PITR on, starts a full DYNAMODB_JSON export to
// s3://bucket/prefix and waits until it is COMPLETED.
func tableARN(table string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table }

func exportTable(ctx context.Context, db *dynamodb.Client, table, bucket, prefix string) (*types.ExportDescription, error) {
	if _, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		return nil, fmt.Errorf("enable PITR on %s: %w", table, err)
	}
	// The ARN ddbsync's pipeline names (DynamoDB Local's own ARNs say
	// region "ddblocal"); the export ARN starts with it.
	out, err := db.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(tableARN(table)), S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix),
		ExportFormat: types.ExportFormatDynamodbJson, ClientToken: aws.String(prefix),
	})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	arn := aws.ToString(out.ExportDescription.ExportArn)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := db.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn)})
		if err != nil {
			return nil, fmt.Errorf("describe export %s: %w", arn, err)
		}
		switch e := d.ExportDescription; e.ExportStatus {
		case types.ExportStatusCompleted:
			return e, nil
		case types.ExportStatusFailed:
			return nil, fmt.Errorf("export %s failed: %s: %s", arn, aws.ToString(e.FailureCode), aws.ToString(e.FailureMessage))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// dataFile is one line of manifest-files.json.
type dataFile struct {
	ItemCount     int64  `json:"itemCount"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// readExport reads every item of a DYNAMODB_JSON export: manifest-summary →
// manifest-files → data files, all files at once. fn is called for each
// item with the index of its data file; calls for one file are sequential,
// calls for different files concurrent. It returns the number of files.
func readExport(ctx context.Context, s3c *s3.Client, bucket, summaryKey string, fn func(file int, item map[string]types.AttributeValue) error) (int, error) {
	raw, err := getObject(ctx, s3c, bucket, summaryKey)
	if err != nil {
		return 0, err
	}
	var sum struct {
		ManifestFilesS3Key string `json:"manifestFilesS3Key"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		return 0, fmt.Errorf("%s: %w", summaryKey, err)
	}
	if raw, err = getObject(ctx, s3c, bucket, sum.ManifestFilesS3Key); err != nil {
		return 0, err
	}
	var files []dataFile
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var f dataFile
		if err := json.Unmarshal(line, &f); err != nil {
			return 0, fmt.Errorf("%s: %w", sum.ManifestFilesS3Key, err)
		}
		files = append(files, f)
	}
	g, ctx := errgroup.WithContext(ctx)
	for i, f := range files {
		g.Go(func() error {
			n, err := readDataFile(ctx, s3c, bucket, f.DataFileS3Key, func(item map[string]types.AttributeValue) error { return fn(i, item) })
			if err != nil {
				return err
			}
			if n != f.ItemCount {
				return fmt.Errorf("%s: %d items, manifest says %d", f.DataFileS3Key, n, f.ItemCount)
			}
			return nil
		})
	}
	return len(files), g.Wait()
}

// readDataFile streams one gzip NDJSON data file into fn and returns how
// many items it held.
func readDataFile(ctx context.Context, s3c *s3.Client, bucket, key string, fn func(map[string]types.AttributeValue) error) (int64, error) {
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	zr, err := gzip.NewReader(obj.Body)
	if errors.Is(err, io.EOF) {
		return 0, nil // an empty object: no items
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	var n int64
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		n++
		l, err := ddbjson.DecodeExportLine(sc.Bytes())
		if err != nil {
			return n, fmt.Errorf("%s line %d: %w", key, n, err)
		}
		if err := fn(l.Item); err != nil {
			return n, fmt.Errorf("%s line %d: %w", key, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

func getObject(ctx context.Context, s3c *s3.Client, bucket, key string) ([]byte, error) {
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Body.Close()
	return io.ReadAll(obj.Body)
}

// deletePrefix removes every object under prefix (the bench's export).
func deletePrefix(ctx context.Context, s3c *s3.Client, bucket, prefix string) error {
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]s3types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = s3types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return err
		}
	}
	return nil
}
