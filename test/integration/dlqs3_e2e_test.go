//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// TestDeadLetterS3AndRedrive: with dlq.s3, a document OpenSearch refuses
// for good lands in an object of the stack's S3 server (under the dated
// key_path_prefix, with the whole record), the stream goes on, and once
// the cause is fixed `ddbsync redrive --dlq s3://...` replays it with its
// original version: then the index equals the table.
func TestDeadLetterS3AndRedrive(t *testing.T) {
	e := newE2EStackKey(t, "dlqs3")
	bucket := stackEnv(t, "DDBSYNC_EXPORT_BUCKET")
	folder := "e2e-dlq/" + e.table + "/"
	e.writePipeline("", fmt.Sprintf("dlq:\n  s3:\n    bucket: %s\n    key_path_prefix: \"%s%%{yyyy}/%%{MM}/%%{dd}\"\n    region: us-east-1", bucket, folder))
	s3c := s3Client(stackAWSConfig(t))
	t.Cleanup(func() { deleteObjects(s3c, bucket, folder) })
	startWithFieldLimit(t, e) // "wide" exceeds the limit until it is raised
	e.put(map[string]types.AttributeValue{"pk": s("first"), "v": n("0")})
	e.converge(60 * time.Second)
	e.put(wideItem("wide"))
	for i := 0; i < 5; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("ok%02d", i)), "v": n(fmt.Sprint(i))})
	}
	onlyWideMissing := func(ctx context.Context) (bool, error) {
		d := e.compare()
		return len(d.extra) == 0 && len(d.stale) == 0 && strings.Join(d.missing, ",") == "wide", nil
	}
	poll(t, "wide dead-lettered, the rest applied", 90*time.Second, 300*time.Millisecond, onlyWideMissing)

	keys := listKeys(t, s3c, bucket, folder)
	if len(keys) != 1 {
		t.Fatalf("objects under s3://%s/%s: %v, want one", bucket, folder, keys)
	}
	today := time.Now().UTC().Format("2006/01/02")
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(folder) + `\d{4}/\d{2}/\d{2}/dlq-v1-e2e-opensearch-\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{16}\.jsonl$`)
	if !name.MatchString(keys[0]) || !strings.Contains(keys[0], today) && !strings.Contains(keys[0], time.Now().UTC().Add(-time.Hour).Format("2006/01/02")) {
		t.Errorf("object key %s is not <prefix with today's date>/dlq-v1-<pipeline>-opensearch-<time>-<random>.jsonl", keys[0])
	}
	letters := readObjectLetters(t, s3c, bucket, keys[0])
	if len(letters) != 1 {
		t.Fatalf("%d letters in the object, want 1", len(letters))
	}
	l := letters[0]
	if l.ID != "wide" || l.Key.PartitionKey != "wide" || l.Action != "index" || l.Version == nil || l.VersionType != "external" ||
		l.Status != 400 || l.Error.Reason == "" || l.Table != e.table || !strings.Contains(string(l.Document), `"w14":14`) {
		t.Errorf("dead letter lacks what a replay needs: %+v (document %s)", l, l.Document)
	}
	if log := e.log(); !strings.Contains(log, "s3://"+bucket+"/"+keys[0]) {
		t.Errorf("no log line names the object s3://%s/%s", bucket, keys[0])
	}

	// The stream goes on after the dead letter.
	e.put(map[string]types.AttributeValue{"pk": s("after"), "v": n("7")})
	poll(t, "a later change applied", 60*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		return e.indexDocs()["after"] == e.tableDocs()["after"], nil
	})
	if ok, _ := onlyWideMissing(t.Context()); !ok {
		t.Fatalf("after the dead letter: %s", e.compare())
	}

	// The operator fixes the cause, then redrives from S3.
	if st, body := e.osDo(http.MethodPut, "/"+e.index+"/_settings", []byte(`{"index.mapping.total_fields.limit":1000}`)); st != 200 {
		t.Fatalf("raise total_fields.limit: %d %s", st, body)
	}
	out, code := e.redrive("--dry-run", "--dlq", "s3://"+bucket+"/"+folder)
	if code != 0 || !strings.Contains(out, "1 dead letter(s), 1 selected") || !strings.Contains(out, "dry run") {
		t.Fatalf("redrive --dry-run: exit %d\n%s", code, out)
	}
	out, code = e.redrive("--dlq", "s3://"+bucket+"/"+folder)
	if code != 0 || !strings.Contains(out, "applied: 1") || !strings.Contains(out, "refused again: 0") {
		t.Fatalf("redrive --dlq s3://...: exit %d\n%s", code, out)
	}
	e.converge(30 * time.Second)
	if v := docVersion(t, e, "wide"); v != *l.Version {
		t.Errorf("wide indexed at version %d, want the letter's original %d", v, *l.Version)
	}
	if got := listKeys(t, s3c, bucket, folder); strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Errorf("redrive changed the dead-letter objects: %v, was %v", got, keys)
	}
	// Again: the index holds the version now.
	out, code = e.redrive("--dlq", "s3://"+bucket+"/"+folder)
	if code != 0 || !strings.Contains(out, "superseded (the index holds this version or a newer change, kept): 1") {
		t.Errorf("second redrive: exit %d\n%s", code, out)
	}
}

// TestDeadLetterS3NoSuchBucket: a dead letter that cannot be written
// (the bucket does not exist) fails the table, naming bucket and key, and
// the batch is not acknowledged: after the bucket is fixed, the restarted
// run dead-letters the same document to S3.
func TestDeadLetterS3NoSuchBucket(t *testing.T) {
	e := newE2EStackKey(t, "dlqs3gone")
	bucket := stackEnv(t, "DDBSYNC_EXPORT_BUCKET")
	gone := "ddbsync-no-such-bucket-" + randomHex(t, 8)
	folder := "e2e-dlq/" + e.table + "/"
	sinkDLQ := func(b string) string {
		return fmt.Sprintf("dlq:\n  s3:\n    bucket: %s\n    key_path_prefix: %s\n    region: us-east-1", b, folder)
	}
	e.writePipeline("", sinkDLQ(gone))
	s3c := s3Client(stackAWSConfig(t))
	t.Cleanup(func() { deleteObjects(s3c, bucket, folder) })
	startWithFieldLimit(t, e)
	e.put(map[string]types.AttributeValue{"pk": s("first"), "v": n("0")})
	e.converge(60 * time.Second)
	e.put(wideItem("wide"))
	if code := e.wait(90 * time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1; log:\n%s", code, e.log())
	}
	msg := badErrorLine(t, e.log())
	badWant(t, msg, "s3://"+gone+"/"+folder+"dlq-v1-e2e-opensearch-", "NoSuchBucket", "not dead-lettered")

	e.writePipeline("", sinkDLQ(bucket))
	e.start()
	poll(t, "wide dead-lettered to S3 after the restart", 90*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		return len(listKeys(t, s3c, bucket, folder)) == 1, nil
	})
	keys := listKeys(t, s3c, bucket, folder)
	if l := readObjectLetters(t, s3c, bucket, keys[0]); len(l) != 1 || l[0].ID != "wide" {
		t.Errorf("letters after the restart: %+v", l)
	}
	d := e.compare()
	if strings.Join(d.missing, ",") != "wide" || len(d.extra)+len(d.stale) != 0 {
		t.Errorf("want exactly wide missing: %s", d)
	}
}

func listKeys(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

func readObjectLetters(t *testing.T, c *s3.Client, bucket, key string) []sinkos.DeadLetter {
	t.Helper()
	r, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	letters, err := sinkos.ReadDeadLetters(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("s3://%s/%s is not dead-letter lines: %v\n%s", bucket, key, err, body)
	}
	return letters
}

// deleteObjects removes the test's objects (a cleanup: t.Context is done).
func deleteObjects(c *s3.Client, bucket, prefix string) {
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
}

// docVersion is the document's _version in the index.
func docVersion(t *testing.T, e *e2e, id string) int64 {
	t.Helper()
	st, body := e.osDo(http.MethodGet, "/"+e.index+"/_doc/"+id+"?_source=false", nil)
	if st != 200 {
		t.Fatalf("get %s: %d %s", id, st, body)
	}
	m := regexp.MustCompile(`"_version":(\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no _version in %s", body)
	}
	var v int64
	fmt.Sscan(string(m[1]), &v)
	return v
}
