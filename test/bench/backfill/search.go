package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// indexSettings are used for both indices, so ddbsync and the ceiling load
// into identical targets: one shard, no replica (a single node), and a
// refresh interval long enough that refreshes do not dominate.
const indexSettings = `{"settings":{"number_of_shards":1,"number_of_replicas":0,"refresh_interval":"30s"}}`

// osDo makes one OpenSearch request and returns the status and body.
func osDo(ctx context.Context, hc *http.Client, method, url string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// createIndex creates index with indexSettings and waits for its shard.
func createIndex(ctx context.Context, hc *http.Client, base, index string) error {
	code, b, err := osDo(ctx, hc, http.MethodPut, base+"/"+index, []byte(indexSettings))
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("create index %s: %d %.300s", index, code, b)
	}
	code, b, err = osDo(ctx, hc, http.MethodGet, base+"/_cluster/health/"+index+"?wait_for_status=green&timeout=60s", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("index %s never turned green: %d %.300s", index, code, b)
	}
	return nil
}

// countDocs refreshes index and returns its document count.
func countDocs(ctx context.Context, hc *http.Client, base, index string) (int64, error) {
	if code, b, err := osDo(ctx, hc, http.MethodPost, base+"/"+index+"/_refresh", nil); err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("refresh %s: %d %.300s %v", index, code, b, err)
	}
	code, b, err := osDo(ctx, hc, http.MethodGet, base+"/"+index+"/_count", nil)
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("count %s: %d %.300s %v", index, code, b, err)
	}
	var r struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("count %s: %w", index, err)
	}
	return r.Count, nil
}

// deleteIndex removes index; a missing index is fine.
func deleteIndex(ctx context.Context, hc *http.Client, base, index string) error {
	code, b, err := osDo(ctx, hc, http.MethodDelete, base+"/"+index, nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK && code != http.StatusNotFound {
		return fmt.Errorf("delete index %s: %d %.300s", index, code, b)
	}
	return nil
}

// nodeCPU is the OpenSearch node's process CPU time so far, in ms.
func nodeCPU(ctx context.Context, hc *http.Client, base string) (int64, error) {
	code, b, err := osDo(ctx, hc, http.MethodGet, base+"/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu.total_in_millis", nil)
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("node stats: %d %.300s %v", code, b, err)
	}
	var r struct {
		Nodes map[string]struct {
			Process struct {
				CPU struct {
					TotalInMillis int64 `json:"total_in_millis"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("node stats: %w", err)
	}
	for _, n := range r.Nodes {
		return n.Process.CPU.TotalInMillis, nil
	}
	return 0, fmt.Errorf("node stats: no node in %.300s", b)
}

// sameDocs checks that ddbsync wrote what the ceiling sends: for the first
// operation of up to n bodies, the document under the same _id in index has
// the same version and byte-identical _source.
func sameDocs(ctx context.Context, hc *http.Client, base, index string, b *bodies, n int) error {
	for i := 0; i < len(b.bufs) && i < n; i++ {
		action, rest, _ := bytes.Cut(b.bufs[i], []byte("\n"))
		doc, _, _ := bytes.Cut(rest, []byte("\n"))
		var a struct {
			Index struct {
				ID      string `json:"_id"`
				Version int64  `json:"version"`
			} `json:"index"`
		}
		if err := json.Unmarshal(action, &a); err != nil {
			return fmt.Errorf("ceiling body %d: %w", i, err)
		}
		code, got, err := osDo(ctx, hc, http.MethodGet, base+"/"+index+"/_doc/"+url.PathEscape(a.Index.ID), nil)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("get %s/_doc/%s: %d %.300s %v", index, a.Index.ID, code, got, err)
		}
		var d struct {
			Version int64           `json:"_version"`
			Source  json.RawMessage `json:"_source"`
		}
		if err := json.Unmarshal(got, &d); err != nil {
			return fmt.Errorf("get %s/_doc/%s: %w", index, a.Index.ID, err)
		}
		if d.Version != a.Index.Version || !bytes.Equal(d.Source, doc) {
			return fmt.Errorf("_id %s: ddbsync wrote version %d %s, the ceiling sends version %d %s", a.Index.ID, d.Version, d.Source, a.Index.Version, doc)
		}
	}
	return nil
}
