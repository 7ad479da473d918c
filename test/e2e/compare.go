//go:build integration

// Package e2e holds what the integration and fault suites share: the
// every-item / every-document comparison of a table with its index, built
// on the product's own converter, and plain calls to OpenSearch.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// requestTimeout bounds one call to OpenSearch.
const requestTimeout = 30 * time.Second

// Do sends a JSON request to OpenSearch at base+path; status 0 means no
// answer (the body then holds the error).
func Do(ctx context.Context, base, method, path string, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TableDocs scans the whole table (consistent reads) and converts every
// item with the product's converter: _id → document JSON.
func TableDocs(ctx context.Context, ddb *dynamodb.Client, table string, key ddbjson.Key) (map[string]string, error) {
	out := map[string]string{}
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range page.Items {
			ids, err := key.KeyIDs(item)
			if err != nil {
				return nil, err
			}
			doc, err := ddbjson.Item(item)
			if err != nil {
				return nil, err
			}
			out[ids.ID] = string(doc)
		}
	}
	return out, nil
}

// Doc is one document as the index holds it.
type Doc struct {
	Source  string
	Version int64
}

// IndexDocs reads every document of the index with a scroll (a missing
// index is empty; a new index whose shard is not allocated yet is waited for).
func IndexDocs(ctx context.Context, base, index string) (map[string]Doc, error) {
	out := map[string]Doc{}
	if st, b := Do(ctx, base, "POST", "/"+index+"/_refresh", nil); st != 200 && st != 404 && st != 503 {
		return nil, fmt.Errorf("refresh %s: %d %s", index, st, b)
	}
	var status int
	var resp []byte
	for try := 0; ; try++ {
		status, resp = Do(ctx, base, "POST", "/"+index+"/_search?scroll=1m", []byte(`{"size":2000,"version":true,"query":{"match_all":{}}}`))
		if status != 503 || try == 50 { // 503: a new index's shard is not allocated yet
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var scrollID string
	defer func() {
		if scrollID != "" {
			body, _ := json.Marshal(map[string]any{"scroll_id": []string{scrollID}})
			Do(ctx, base, "DELETE", "/_search/scroll", body)
		}
	}()
	for {
		switch {
		case status == 404:
			return out, nil
		case status != 200:
			return nil, fmt.Errorf("search %s: %d %s", index, status, resp)
		}
		var r struct {
			ScrollID string `json:"_scroll_id"`
			Hits     struct {
				Hits []struct {
					ID      string          `json:"_id"`
					Version int64           `json:"_version"`
					Source  json.RawMessage `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(resp, &r); err != nil {
			return nil, fmt.Errorf("search %s: %w", index, err)
		}
		scrollID = r.ScrollID
		if len(r.Hits.Hits) == 0 {
			return out, nil
		}
		for _, h := range r.Hits.Hits {
			out[h.ID] = Doc{Source: string(h.Source), Version: h.Version}
		}
		body, _ := json.Marshal(map[string]string{"scroll": "1m", "scroll_id": scrollID})
		status, resp = Do(ctx, base, "POST", "/_search/scroll", body)
	}
}
