package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// upstream calls DynamoDB Local in its JSON protocol. Items stay raw JSON on purpose: the
// export must carry DynamoDB's exact bytes (number digits, base64), with no AttributeValue
// round trip in between.
type upstream struct {
	endpoint string
	client   *http.Client
	signer   *v4.Signer
	secret   string // DynamoDB Local does not check signatures; any secret signs
}

// identity is who the emulator acts as: the caller's access key and region, because DynamoDB
// Local keeps a separate set of tables per access key and region.
type identity struct {
	AccessKey string
	Region    string
}

// namespace names the caller's set of tables.
func (id identity) namespace() string { return id.AccessKey + "/" + id.Region }

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/[^/]+/([^/]+)/`)

// identityOf reads the access key and region from a SigV4 Authorization header, falling back
// to def for unsigned requests.
func identityOf(r *http.Request, def identity) identity {
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return def
	}
	return identity{AccessKey: m[1], Region: m[2]}
}

// call POSTs one operation (target "DynamoDB_20120810.Scan", "DynamoDBStreams_20120810.GetRecords",
// ...) and decodes the answer into out. A DynamoDB error comes back as *apiError.
func (u *upstream) call(ctx context.Context, id identity, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id.AccessKey, SecretAccessKey: u.secret}
	if err := u.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", id.Region, time.Now()); err != nil {
		return fmt.Errorf("sign %s: %w", target, err)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		_ = json.Unmarshal(raw, &e)
		if e.Type == "" {
			return fmt.Errorf("%s: HTTP %d: %s", target, resp.StatusCode, raw)
		}
		code := e.Type[strings.LastIndex(e.Type, "#")+1:]
		return &apiError{Code: code, Message: e.Message + e.Msg}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", target, err)
	}
	return nil
}

// tableInfo is the part of DescribeTable the emulator needs.
type tableInfo struct {
	TableName           string
	TableArn            string
	TableId             string
	CreationDateTime    epochTime
	LatestStreamArn     string
	StreamSpecification *struct {
		StreamEnabled  bool
		StreamViewType string
	}
}

// tableID is AWS's TableId, or (DynamoDB Local has none) a stable UUID-shaped stand-in
// derived from the ARN and creation time, so a re-created table gets a new one.
func (t tableInfo) tableID() string {
	if t.TableId != "" {
		return t.TableId
	}
	s := sha256.Sum256(fmt.Appendf(nil, "%s@%d", t.TableArn, t.CreationDateTime.UnixMilli()))
	h := hex.EncodeToString(s[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// describeTable answers TableNotFoundException (what the backup and export APIs say) for a
// missing table.
func (u *upstream) describeTable(ctx context.Context, id identity, name string) (tableInfo, error) {
	var out struct{ Table tableInfo }
	err := u.call(ctx, id, "DynamoDB_20120810.DescribeTable", map[string]string{"TableName": name}, &out)
	if ae, ok := err.(*apiError); ok && ae.Code == "ResourceNotFoundException" {
		return tableInfo{}, errorf("TableNotFoundException", "Table not found: %s", name)
	}
	return out.Table, err
}

// scanSegment reads one segment of a parallel Scan, page by page, with consistent reads, and
// hands every item's raw DynamoDB JSON to emit.
func (u *upstream) scanSegment(ctx context.Context, id identity, table string, segment, segments int, emit func(json.RawMessage) error) error {
	var start json.RawMessage
	for {
		in := map[string]any{"TableName": table, "ConsistentRead": true, "Segment": segment, "TotalSegments": segments}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []json.RawMessage
			LastEvaluatedKey json.RawMessage
		}
		if err := u.call(ctx, id, "DynamoDB_20120810.Scan", in, &out); err != nil {
			return fmt.Errorf("scan %s segment %d/%d: %w", table, segment, segments, err)
		}
		for _, it := range out.Items {
			if err := emit(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 || string(out.LastEvaluatedKey) == "null" {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

func newUpstreamClient() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}
