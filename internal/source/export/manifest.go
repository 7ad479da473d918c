package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// dataFile is one line of manifest-files.json.
type dataFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// manifestSummary is the part of manifest-summary.json ddbsync reads.
type manifestSummary struct {
	ManifestFilesS3Key string `json:"manifestFilesS3Key"`
	ItemCount          int64  `json:"itemCount"`
	OutputFormat       string `json:"outputFormat"`
	ExportType         string `json:"exportType"`
}

// exportManifest is what the manifests say: the data files, their item
// total and the format of their records.
type exportManifest struct {
	files  []dataFile
	total  int64
	format string // formatJSON or formatION
}

// manifest reads the summary, then every line of the files manifest.
func (x *Exporter) manifest(ctx context.Context, bucket, summaryKey string) (exportManifest, error) {
	raw, err := x.getSmall(ctx, bucket, summaryKey)
	if err != nil {
		return exportManifest{}, err
	}
	var sum manifestSummary
	if err := json.Unmarshal(raw, &sum); err != nil {
		return exportManifest{}, fmt.Errorf("s3://%s/%s: bad manifest summary: %w", bucket, summaryKey, err)
	}
	format := sum.OutputFormat
	if format == "" {
		format = formatJSON
	}
	if format != formatJSON && format != formatION {
		return exportManifest{}, fmt.Errorf("s3://%s/%s: export format %s is not supported (want %s or %s)", bucket, summaryKey, sum.OutputFormat, formatJSON, formatION)
	}
	if sum.ManifestFilesS3Key == "" {
		return exportManifest{}, fmt.Errorf("s3://%s/%s: manifest summary has no manifestFilesS3Key", bucket, summaryKey)
	}
	raw, err = x.getSmall(ctx, bucket, sum.ManifestFilesS3Key)
	if err != nil {
		return exportManifest{}, err
	}
	var files []dataFile
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f dataFile
		if err := json.Unmarshal(line, &f); err != nil || f.DataFileS3Key == "" {
			return exportManifest{}, fmt.Errorf("s3://%s/%s line %d: bad manifest entry: %v", bucket, sum.ManifestFilesS3Key, n, err)
		}
		files = append(files, f)
		total += f.ItemCount
	}
	if err := sc.Err(); err != nil {
		return exportManifest{}, fmt.Errorf("read s3://%s/%s: %w", bucket, sum.ManifestFilesS3Key, err)
	}
	return exportManifest{files: files, total: total, format: format}, nil
}

func (x *Exporter) getSmall(ctx context.Context, bucket, key string) ([]byte, error) {
	return retry.Do(ctx, x.log, "get manifest", func() ([]byte, error) {
		out, err := x.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", withHint(fmt.Sprintf("get s3://%s/%s", bucket, key), s3Hint(err)), err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(io.LimitReader(out.Body, 256<<20))
		if err != nil {
			return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
		}
		return b, nil
	})
}
