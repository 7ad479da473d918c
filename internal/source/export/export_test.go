package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// fakeAWS answers the export calls and serves objects from memory.
type fakeAWS struct {
	mu       sync.Mutex
	pitr     bool
	exports  int
	polls    int
	objects  map[string][]byte
	exportAt time.Time
	format   types.ExportFormat // of the last ExportTableToPointInTime
}

func (f *fakeAWS) DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	st := types.PointInTimeRecoveryStatusDisabled
	if f.pitr {
		st = types.PointInTimeRecoveryStatusEnabled
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: st}}}, nil
}

func (f *fakeAWS) ExportTableToPointInTime(_ context.Context, in *dynamodb.ExportTableToPointInTimeInput, _ ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exports++
	f.format = in.ExportFormat
	return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: &types.ExportDescription{ExportArn: aws.String("arn:export/1")}}, nil
}

func (f *fakeAWS) DescribeExport(context.Context, *dynamodb.DescribeExportInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	d := &types.ExportDescription{ExportStatus: types.ExportStatusInProgress}
	if f.polls > 1 {
		d = &types.ExportDescription{ExportStatus: types.ExportStatusCompleted, ExportTime: aws.Time(f.exportAt),
			ExportManifest: aws.String("p/AWSDynamoDB/1/manifest-summary.json"), S3Bucket: aws.String("b")}
	}
	return &dynamodb.DescribeExportOutput{ExportDescription: d}, nil
}

func (f *fakeAWS) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, fmt.Errorf("NoSuchKey %s", aws.ToString(in.Key))
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func gz(lines ...string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	for _, l := range lines {
		w.Write([]byte(l + "\n"))
	}
	w.Close()
	return buf.Bytes()
}

func md5b64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

// newFake builds an export with two data files (3 items and 0 items).
func newFake(t *testing.T) *fakeAWS {
	f := &fakeAWS{pitr: true, objects: map[string][]byte{}, exportAt: time.Unix(10_000, 500_000_000)}
	d1 := gz(`{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}}`, `{"Item":{"pk":{"S":"b"}}}`, `{"Item":{"pk":{"S":"c"}}}`)
	d2 := gz()
	f.objects["p/AWSDynamoDB/1/data/one.json.gz"] = d1
	f.objects["p/AWSDynamoDB/1/data/two.json.gz"] = d2
	f.objects["p/AWSDynamoDB/1/manifest-summary.json"] = []byte(`{"manifestFilesS3Key":"p/AWSDynamoDB/1/manifest-files.json","itemCount":3,"outputFormat":"DYNAMODB_JSON"}`)
	f.objects["p/AWSDynamoDB/1/manifest-files.json"] = []byte(
		fmt.Sprintf(`{"itemCount":3,"md5Checksum":"%s","dataFileS3Key":"p/AWSDynamoDB/1/data/one.json.gz"}`+"\n", md5b64(d1)) +
			fmt.Sprintf(`{"itemCount":0,"md5Checksum":"%s","dataFileS3Key":"p/AWSDynamoDB/1/data/two.json.gz"}`+"\n", md5b64(d2)))
	return f
}

func newExporter(t *testing.T, f *fakeAWS, store checkpoint.Store) *Exporter {
	bt := backfill.Table{Name: "t", Key: ddbjson.Key{Partition: "pk"}, Overlap: 5 * time.Minute}
	return New(f, f, store, bt, "arn:aws:dynamodb:us-east-1:000000000000:table/t", config.Export{S3Bucket: "b", S3Prefix: "p"},
		slog.New(slog.DiscardHandler), Options{PollMin: time.Millisecond, PollMax: time.Millisecond, BatchItems: 2, TempDir: t.TempDir()})
}

type collect struct {
	mu     sync.Mutex
	events []change.Event
	failAt int // fail the Nth call (1-based); 0 never
	calls  int
}

func (c *collect) write(_ context.Context, evs []change.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == c.failAt {
		return errors.New("sink down")
	}
	c.events = append(c.events, evs...)
	return nil
}

func store(t *testing.T) *checkpoint.FileStore {
	s, err := checkpoint.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestExportLoadsEveryItemWithBackfillVersion(t *testing.T) {
	f := newFake(t)
	st := store(t)
	c := &collect{}
	cutoff, err := newExporter(t, f, st).Run(context.Background(), c.write)
	if err != nil {
		t.Fatal(err)
	}
	// Export time 10000.5 rounds up to 10001; cutoff = 10001 − 300.
	if cutoff != 10_001-300 {
		t.Fatalf("cutoff %d", cutoff)
	}
	if len(c.events) != 3 {
		t.Fatalf("%d events", len(c.events))
	}
	for _, ev := range c.events {
		if ev.Version != cutoff*change.PerSecond-1 {
			t.Fatalf("version %d", ev.Version)
		}
	}
	if string(c.events[0].Doc) != `{"n":1.5,"pk":"a"}` {
		t.Fatalf("doc %s", c.events[0].Doc)
	}
	// A second run neither exports again nor reloads.
	c2 := &collect{}
	if _, err := newExporter(t, f, st).Run(context.Background(), c2.write); err != nil {
		t.Fatal(err)
	}
	if f.exports != 1 || len(c2.events) != 0 {
		t.Fatalf("second run: exports=%d events=%d", f.exports, len(c2.events))
	}
}

func TestExportResumesMidFileAndReusesExport(t *testing.T) {
	f := newFake(t)
	st := store(t)
	c := &collect{failAt: 2} // the second batch (line 3) fails
	if _, err := newExporter(t, f, st).Run(context.Background(), c.write); err == nil {
		t.Fatal("want the sink error")
	}
	p, _, _ := st.Get(context.Background(), "backfill/t/export/p/AWSDynamoDB/1/data/one.json.gz")
	if p.Lines != 2 || p.Done {
		t.Fatalf("file checkpoint after failure: %+v", p)
	}
	c2 := &collect{}
	if _, err := newExporter(t, f, st).Run(context.Background(), c2.write); err != nil {
		t.Fatal(err)
	}
	if len(c2.events) != 1 || c2.events[0].ID != "c" {
		t.Fatalf("resume delivered %+v", c2.events)
	}
	if f.exports != 1 {
		t.Fatalf("a restart started another export: %d", f.exports)
	}
}

func TestCorruptFilesNameTheKeyAndAckNothing(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(f *fakeAWS)
		want    string
	}{
		{"md5 mismatch", func(f *fakeAWS) { f.objects["p/AWSDynamoDB/1/data/one.json.gz"] = gz(`{"Item":{"pk":{"S":"x"}}}`) }, "md5"},
		{"broken gzip", func(f *fakeAWS) {
			bad := []byte("this is not gzip")
			f.objects["p/AWSDynamoDB/1/data/one.json.gz"] = bad
			f.objects["p/AWSDynamoDB/1/manifest-files.json"] = []byte(fmt.Sprintf(`{"itemCount":3,"md5Checksum":"%s","dataFileS3Key":"p/AWSDynamoDB/1/data/one.json.gz"}`, md5b64(bad)))
		}, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			tt.corrupt(f)
			st := store(t)
			c := &collect{}
			_, err := newExporter(t, f, st).Run(context.Background(), c.write)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "s3://b/p/AWSDynamoDB/1/data/one.json.gz") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v", err)
			}
			if len(c.events) != 0 {
				t.Fatalf("acknowledged %d events from a corrupt file", len(c.events))
			}
			p, _, _ := st.Get(context.Background(), "backfill/t/export/p/AWSDynamoDB/1/data/one.json.gz")
			if p.Done || p.Lines != 0 {
				t.Fatalf("checkpoint moved: %+v", p)
			}
			meta, _, _ := st.Get(context.Background(), backfill.MetaKey("t"))
			if meta.Done {
				t.Fatal("backfill marked done")
			}
		})
	}
}

func TestPITRDisabledSaysHowToFix(t *testing.T) {
	f := newFake(t)
	f.pitr = false
	_, err := newExporter(t, f, store(t)).Run(context.Background(), (&collect{}).write)
	if err == nil || !strings.Contains(err.Error(), "point-in-time recovery is disabled") || !strings.Contains(err.Error(), "update-continuous-backups") {
		t.Fatalf("err = %v", err)
	}
}
