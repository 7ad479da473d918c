//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// The export emulator (test/exportemu) behind AWS_ENDPOINT_URL_DYNAMODB: PITR, exports in the AWS
// layout in S3, idempotent ClientToken, fault injection. These tests read the export themselves
// (no ddbsync binary), so a layout mistake shows here rather than as a backfill bug. Each test
// has its own access key (its own DynamoDB Local database), as clients of one emulator may.

// emuTable is one test's table, its clients and the export bucket.
type emuTable struct {
	t      *testing.T
	ddb    *dynamodb.Client
	s3     *s3.Client
	name   string
	arn    string
	bucket string
}

func newEmuTable(t *testing.T) *emuTable {
	t.Helper()
	e := &emuTable{t: t, ddb: dynamoDBClient(isolatedAWSConfig(t)), s3: s3Client(stackAWSConfig(t)),
		name: uniqueName(t, "emu"), bucket: stackEnv(t, "DDBSYNC_EXPORT_BUCKET")}
	createStreamTable(t, e.ddb, e.name)
	out, err := e.ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(e.name)})
	if err != nil {
		t.Fatal(err)
	}
	e.arn = aws.ToString(out.Table.TableArn)
	return e
}

func (e *emuTable) put(item map[string]types.AttributeValue) {
	e.t.Helper()
	if _, err := e.ddb.PutItem(e.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(e.name), Item: item}); err != nil {
		e.t.Fatalf("put: %v", err)
	}
}

func (e *emuTable) del(pk string) {
	e.t.Helper()
	if _, err := e.ddb.DeleteItem(e.t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(e.name), Key: emuKey(pk)}); err != nil {
		e.t.Fatalf("delete: %v", err)
	}
}

func emuKey(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

// TestExportEmulatorFullExport: 250 items of every type exported; every data file's md5 and
// item count checked; the union of the data files equals the table exactly.
func TestExportEmulatorFullExport(t *testing.T) {
	e := newEmuTable(t)
	bucket, arn := e.bucket, e.arn
	for i := range 250 {
		item := emuKey(fmt.Sprintf("item-%03d", i))
		item["n"] = &types.AttributeValueMemberN{Value: fmt.Sprint(i)}
		item["big"] = &types.AttributeValueMemberN{Value: fmt.Sprintf("1234567890123456789012345678901234567%d", i%10)}
		item["bin"] = &types.AttributeValueMemberB{Value: []byte{byte(i), 0, 255}}
		item["text"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("héllo <&> \"%d\" ☃", i)}
		item["set"] = &types.AttributeValueMemberSS{Value: []string{"z", "a", fmt.Sprint(i)}}
		item["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberBOOL{Value: i%2 == 0}}},
		}}
		e.put(item)
	}

	// PITR starts disabled, and an export is refused until it is enabled.
	if st := emuPITRStatus(t, e); st != types.PointInTimeRecoveryStatusDisabled {
		t.Fatalf("PITR of a new table is %s, want DISABLED", st)
	}
	prefix := "emu-test/" + e.name
	in := &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(arn), S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix),
		ExportFormat: types.ExportFormatDynamodbJson, ClientToken: aws.String("token-" + e.name),
	}
	_, err := e.ddb.ExportTableToPointInTime(t.Context(), in)
	if !isErr[*types.PointInTimeRecoveryUnavailableException](err) {
		t.Fatalf("export with PITR disabled: got %v, want PointInTimeRecoveryUnavailableException", err)
	}
	emuEnablePITR(t, e)
	if st := emuPITRStatus(t, e); st != types.PointInTimeRecoveryStatusEnabled {
		t.Fatalf("PITR after UpdateContinuousBackups is %s, want ENABLED", st)
	}

	out, err := e.ddb.ExportTableToPointInTime(t.Context(), in)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	exp := out.ExportDescription
	if exp.ExportStatus != types.ExportStatusInProgress {
		t.Errorf("new export is %s, want IN_PROGRESS", exp.ExportStatus)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(arn) + `/export/\d{14}-[0-9a-f]{8}$`).MatchString(aws.ToString(exp.ExportArn)) {
		t.Errorf("ExportArn %s, want <table arn>/export/<14 digits>-<8 hex>", aws.ToString(exp.ExportArn))
	}
	again, err := e.ddb.ExportTableToPointInTime(t.Context(), in)
	if err != nil || aws.ToString(again.ExportDescription.ExportArn) != aws.ToString(exp.ExportArn) {
		t.Fatalf("same ClientToken: got %v (%v), want the same export %s", again, err, aws.ToString(exp.ExportArn))
	}
	list, err := e.ddb.ListExports(t.Context(), &dynamodb.ListExportsInput{TableArn: aws.String(arn)})
	if err != nil || len(list.ExportSummaries) != 1 {
		t.Fatalf("ListExports: %v, %+v: want exactly one export (the ClientToken must not start a second)", err, list)
	}

	done := emuWaitExport(t, e, aws.ToString(exp.ExportArn))
	if done.ExportStatus != types.ExportStatusCompleted {
		t.Fatalf("export ended %s: %s %s", done.ExportStatus, aws.ToString(done.FailureCode), aws.ToString(done.FailureMessage))
	}
	exportID := aws.ToString(exp.ExportArn)[len(arn)+len("/export/"):]
	dir := prefix + "/AWSDynamoDB/" + exportID
	if got := aws.ToString(done.ExportManifest); got != dir+"/manifest-summary.json" {
		t.Errorf("ExportManifest %s, want %s/manifest-summary.json", got, dir)
	}
	if aws.ToInt64(done.ItemCount) != 250 {
		t.Errorf("ItemCount %d, want 250", aws.ToInt64(done.ItemCount))
	}

	s3c := e.s3
	if started := emuGet(t, s3c, bucket, dir+"/_started"); len(started) != 0 {
		t.Errorf("_started has %d bytes, want 0", len(started))
	}
	var sum struct {
		Version, ExportArn, TableArn, ExportTime, S3Bucket, S3Prefix, ManifestFilesS3Key string
		OutputFormat, ExportType                                                         string
		ItemCount                                                                        int64
	}
	if err := json.Unmarshal(emuGet(t, s3c, bucket, aws.ToString(done.ExportManifest)), &sum); err != nil {
		t.Fatalf("manifest-summary.json: %v", err)
	}
	wantTime := done.ExportTime.UTC().Format("2006-01-02T15:04:05.000Z")
	if sum.Version != "2020-06-30" || sum.ExportArn != aws.ToString(exp.ExportArn) || sum.TableArn != arn ||
		sum.ExportTime != wantTime || sum.S3Bucket != bucket || sum.S3Prefix != prefix ||
		sum.ManifestFilesS3Key != dir+"/manifest-files.json" || sum.ItemCount != 250 ||
		sum.OutputFormat != "DYNAMODB_JSON" || sum.ExportType != "FULL_EXPORT" {
		t.Errorf("manifest-summary.json %+v does not match the export (exportTime want %s)", sum, wantTime)
	}

	exported := map[string]string{}
	dataKey := regexp.MustCompile(`^` + regexp.QuoteMeta(dir) + `/data/[a-z0-9]{26}\.json\.gz$`)
	files := emuManifestFiles(t, s3c, bucket, sum.ManifestFilesS3Key)
	for _, f := range files {
		if !dataKey.MatchString(f.DataFileS3Key) {
			t.Errorf("data file key %s, want %s/data/<26 chars>.json.gz", f.DataFileS3Key, dir)
		}
		lines := emuDataFile(t, s3c, bucket, f)
		for _, line := range lines {
			var l struct{ Item json.RawMessage }
			if err := json.Unmarshal(line, &l); err != nil || l.Item == nil {
				t.Fatalf("%s: line %s is not {\"Item\":...}", f.DataFileS3Key, line)
			}
			pk := emuPK(t, l.Item)
			if _, dup := exported[pk]; dup {
				t.Errorf("%s exported twice", pk)
			}
			exported[pk] = emuCanonical(t, l.Item)
		}
	}
	emuCompareWithTable(t, e, exported)

	// Fault injection: a wrong md5 for one data file, named in the answer.
	key := emuCorrupt(t, map[string]string{"exportArn": aws.ToString(exp.ExportArn), "kind": "md5"})
	for _, f := range emuManifestFiles(t, s3c, bucket, sum.ManifestFilesS3Key) {
		body := emuGet(t, s3c, bucket, f.DataFileS3Key)
		h := md5.Sum(body)
		if ok := f.MD5Checksum == base64.StdEncoding.EncodeToString(h[:]); ok == (f.DataFileS3Key == key) {
			t.Errorf("after md5 corruption of %s: %s md5 matches = %v", key, f.DataFileS3Key, ok)
		}
	}

	_, err = e.ddb.DescribeExport(t.Context(), &dynamodb.DescribeExportInput{ExportArn: aws.String(aws.ToString(exp.ExportArn) + "0")})
	if !isErr[*types.ExportNotFoundException](err) {
		t.Errorf("DescribeExport of an unknown ARN: got %v, want ExportNotFoundException", err)
	}
}

// TestExportEmulatorFaults: an armed "fail" makes the next export FAILED; an armed "gzip" gives
// a data file whose md5 matches but which does not decompress.
func TestExportEmulatorFaults(t *testing.T) {
	e := newEmuTable(t)
	bucket := e.bucket
	for i := range 10 {
		e.put(emuKey(fmt.Sprint("k", i)))
	}
	emuEnablePITR(t, e)
	export := func() types.ExportDescription {
		out, err := e.ddb.ExportTableToPointInTime(t.Context(), &dynamodb.ExportTableToPointInTimeInput{
			TableArn: aws.String(e.arn), S3Bucket: aws.String(bucket), S3Prefix: aws.String("emu-fault/" + e.name),
		})
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		return emuWaitExport(t, e, aws.ToString(out.ExportDescription.ExportArn))
	}

	emuCorrupt(t, map[string]string{"tableName": e.name, "kind": "fail"})
	if d := export(); d.ExportStatus != types.ExportStatusFailed || aws.ToString(d.FailureCode) == "" || aws.ToString(d.FailureMessage) == "" {
		t.Errorf("armed fail: export %s, code %q, message %q; want FAILED with both", d.ExportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
	}

	emuCorrupt(t, map[string]string{"tableName": e.name, "kind": "gzip"})
	d := export()
	if d.ExportStatus != types.ExportStatusCompleted {
		t.Fatalf("armed gzip: export %s, want COMPLETED (the data is what is broken)", d.ExportStatus)
	}
	s3c := e.s3
	broken := 0
	for _, f := range emuManifestFiles(t, s3c, bucket, strings.TrimSuffix(aws.ToString(d.ExportManifest), "manifest-summary.json")+"manifest-files.json") {
		body := emuGet(t, s3c, bucket, f.DataFileS3Key)
		h := md5.Sum(body)
		if f.MD5Checksum != base64.StdEncoding.EncodeToString(h[:]) {
			t.Errorf("%s: md5 mismatch, want only the gzip broken", f.DataFileS3Key)
		}
		if emuGunzip(body) != nil {
			broken++
		}
	}
	if broken != 1 {
		t.Errorf("%d data files fail to decompress, want 1", broken)
	}
}

// TestExportEmulatorCallerARN: the PITR calls take a table ARN as TableName, and an export's ARN
// starts with the table ARN the caller sent (as ddbsync's configs name it), not DynamoDB Local's.
func TestExportEmulatorCallerARN(t *testing.T) {
	e := newEmuTable(t)
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/" + e.name
	_, err := e.ddb.UpdateContinuousBackups(t.Context(), &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(arn),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("UpdateContinuousBackups by ARN: %v", err)
	}
	if st := emuPITRStatus(t, e); st != types.PointInTimeRecoveryStatusEnabled {
		t.Fatalf("PITR enabled by ARN reads %s by name", st)
	}
	out, err := e.ddb.ExportTableToPointInTime(t.Context(), &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(arn), S3Bucket: aws.String(e.bucket), S3Prefix: aws.String("emu-arn/" + e.name),
	})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	d := emuWaitExport(t, e, aws.ToString(out.ExportDescription.ExportArn))
	if !strings.HasPrefix(aws.ToString(d.ExportArn), arn+"/export/") || aws.ToString(d.TableArn) != arn || d.ExportStatus != types.ExportStatusCompleted {
		t.Errorf("export %s of table %s is %s; want <%s>/export/<id>, COMPLETED", aws.ToString(d.ExportArn), aws.ToString(d.TableArn), d.ExportStatus, arn)
	}
}

// TestExportEmulatorIncremental: an incremental export over the stream holds, per changed key,
// the final image (none for a deleted key), under the shared AWSDynamoDB/data/.
func TestExportEmulatorIncremental(t *testing.T) {
	e := newEmuTable(t)
	bucket := e.bucket
	from := time.Now().Add(-10 * time.Minute)
	for i := range 20 {
		e.put(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "v": &types.AttributeValueMemberN{Value: "1"}})
	}
	for i := 0; i < 20; i += 3 {
		e.del(fmt.Sprint("k", i))
	}
	for i := 1; i < 20; i += 3 {
		e.put(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "v": &types.AttributeValueMemberN{Value: "2.50"}})
	}
	emuEnablePITR(t, e)
	prefix := "emu-incr/" + e.name
	out, err := e.ddb.ExportTableToPointInTime(t.Context(), &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String(e.arn), S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix),
		ExportType: types.ExportTypeIncrementalExport,
		IncrementalExportSpecification: &types.IncrementalExportSpecification{
			ExportFromTime: aws.Time(from), ExportToTime: aws.Time(time.Now()), ExportViewType: types.ExportViewTypeNewAndOldImages,
		},
	})
	if err != nil {
		t.Fatalf("incremental export: %v", err)
	}
	d := emuWaitExport(t, e, aws.ToString(out.ExportDescription.ExportArn))
	if d.ExportStatus != types.ExportStatusCompleted {
		t.Fatalf("export ended %s: %s", d.ExportStatus, aws.ToString(d.FailureMessage))
	}
	s3c := e.s3
	var sum struct{ Version, ExportType, OutputView, ExportFromTime, ManifestFilesS3Key string }
	if err := json.Unmarshal(emuGet(t, s3c, bucket, aws.ToString(d.ExportManifest)), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ExportType != "INCREMENTAL_EXPORT" || sum.OutputView != "NEW_AND_OLD_IMAGES" || sum.ExportFromTime == "" {
		t.Errorf("manifest-summary.json %+v, want an incremental NEW_AND_OLD_IMAGES summary", sum)
	}
	changed := map[string]string{} // pk → final image, "" when deleted
	for _, f := range emuManifestFiles(t, s3c, bucket, sum.ManifestFilesS3Key) {
		if !strings.HasPrefix(f.DataFileS3Key, prefix+"/AWSDynamoDB/data/") {
			t.Errorf("data file %s, want it under %s/AWSDynamoDB/data/", f.DataFileS3Key, prefix)
		}
		for _, line := range emuDataFile(t, s3c, bucket, f) {
			var l struct {
				Metadata struct{ WriteTimestampMicros struct{ N string } }
				Keys     json.RawMessage
				NewImage json.RawMessage
			}
			if err := json.Unmarshal(line, &l); err != nil || l.Metadata.WriteTimestampMicros.N == "" || l.Keys == nil {
				t.Fatalf("incremental line %s: %v", line, err)
			}
			img := ""
			if l.NewImage != nil {
				img = emuCanonical(t, l.NewImage)
			}
			changed[emuPK(t, l.Keys)] = img
		}
	}
	if len(changed) != 20 {
		t.Errorf("%d keys in the incremental export, want 20", len(changed))
	}
	present := map[string]string{}
	for pk, img := range changed {
		if img != "" {
			present[pk] = img
		}
	}
	emuCompareWithTable(t, e, present)
}

// --- helpers ----------------------------------------------------------------------------------

func emuPITRStatus(t *testing.T, e *emuTable) types.PointInTimeRecoveryStatus {
	t.Helper()
	out, err := e.ddb.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(e.name)})
	if err != nil {
		t.Fatalf("DescribeContinuousBackups: %v", err)
	}
	return out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
}

func emuEnablePITR(t *testing.T, e *emuTable) {
	t.Helper()
	_, err := e.ddb.UpdateContinuousBackups(t.Context(), &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(e.name),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("UpdateContinuousBackups: %v", err)
	}
}

// emuWaitExport polls DescribeExport until the export leaves IN_PROGRESS.
func emuWaitExport(t *testing.T, e *emuTable, arn string) types.ExportDescription {
	t.Helper()
	var d types.ExportDescription
	poll(t, "export "+arn+" finishes", 2*time.Minute, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		out, err := e.ddb.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn)})
		if err != nil {
			return false, err
		}
		d = *out.ExportDescription
		return d.ExportStatus != types.ExportStatusInProgress, nil
	})
	return d
}

func emuGet(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	return body
}

type emuManifestFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

func emuManifestFiles(t *testing.T, c *s3.Client, bucket, key string) []emuManifestFile {
	t.Helper()
	var files []emuManifestFile
	sc := bufio.NewScanner(bytes.NewReader(emuGet(t, c, bucket, key)))
	for sc.Scan() {
		var f emuManifestFile
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil || f.DataFileS3Key == "" || f.MD5Checksum == "" || f.ETag == "" {
			t.Fatalf("%s: line %s: %v", key, sc.Bytes(), err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("%s lists no data files", key)
	}
	return files
}

// emuDataFile checks the file's md5 and etag against the manifest and returns its lines.
func emuDataFile(t *testing.T, c *s3.Client, bucket string, f emuManifestFile) [][]byte {
	t.Helper()
	body := emuGet(t, c, bucket, f.DataFileS3Key)
	h := md5.Sum(body)
	if f.MD5Checksum != base64.StdEncoding.EncodeToString(h[:]) || f.ETag != hex.EncodeToString(h[:]) {
		t.Errorf("%s: md5Checksum/etag %s/%s do not match the object", f.DataFileS3Key, f.MD5Checksum, f.ETag)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", f.DataFileS3Key, err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte{}, sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", f.DataFileS3Key, err)
	}
	if int64(len(lines)) != f.ItemCount {
		t.Errorf("%s: %d lines, manifest says %d", f.DataFileS3Key, len(lines), f.ItemCount)
	}
	return lines
}

func emuGunzip(body []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}

// emuCanonical re-encodes DynamoDB JSON with sorted keys (numbers are strings there, so
// nothing is lost), making a table item and an exported one comparable byte for byte.
func emuCanonical(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func emuPK(t *testing.T, item json.RawMessage) string {
	t.Helper()
	var m struct{ Pk struct{ S string } }
	if err := json.Unmarshal(item, &m); err != nil || m.Pk.S == "" {
		t.Fatalf("no pk in %s", item)
	}
	return m.Pk.S
}

// emuCompareWithTable fails unless want (pk → canonical DynamoDB JSON) equals the table exactly.
func emuCompareWithTable(t *testing.T, e *emuTable, want map[string]string) {
	t.Helper()
	table := map[string]string{}
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: aws.String(e.name), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, item := range page.Items {
			raw, err := ddbjson.MarshalItem(item)
			if err != nil {
				t.Fatal(err)
			}
			table[emuPK(t, raw)] = emuCanonical(t, raw)
		}
	}
	var missing, extra, differ []string
	for pk, item := range table {
		switch got, ok := want[pk]; {
		case !ok:
			missing = append(missing, pk)
		case got != item:
			differ = append(differ, pk+": export "+got+" table "+item)
		}
	}
	for pk := range want {
		if _, ok := table[pk]; !ok {
			extra = append(extra, pk)
		}
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		t.Fatalf("export != table (%d items): missing %v, extra %v, different %v", len(table), missing, extra, differ)
	}
	t.Logf("export equals the table: %d items", len(table))
}

// corrupt calls the emulator's fault-injection endpoint and returns the data file it names.
func emuCorrupt(t *testing.T, req map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(stackEnv(t, "AWS_ENDPOINT_URL_DYNAMODB")+"/_emu/corrupt", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("corrupt %v: %v", req, err)
	}
	defer resp.Body.Close()
	var out struct {
		DataFileS3Key string `json:"dataFileS3Key"`
		Error         string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("corrupt %v: HTTP %d %s", req, resp.StatusCode, out.Error)
	}
	return out.DataFileS3Key
}
