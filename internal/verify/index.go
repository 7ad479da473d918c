package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v2"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// Index is the OpenSearch read side of a verification: read every
// document and re-read some. *opensearch.Client serves it through NewIndex;
// tests use fakes. Repairs are written through a Writer.
type Index interface {
	// Refresh makes recent writes visible to Read (best effort).
	Refresh(ctx context.Context, names []string)
	// Read calls fn for every document of the named indices (patterns
	// allowed; missing indices are no error).
	Read(ctx context.Context, names []string, fn func(Hit) error) error
	// Get re-reads documents in real time, in the order asked.
	Get(ctx context.Context, reqs []GetRequest) ([]Hit, error)
}

// Writer is the one OpenSearch write path (internal/sink/opensearch's
// Sink.WriteItems): repairs and the orphan sweep share the sink's client,
// retry policy, item classification and dead-letter queue.
type Writer interface {
	WriteItems(ctx context.Context, table string, items []bulk.Item, o sinkos.ItemOptions) ([]sinkos.ItemResult, error)
}

// Hit is one document as OpenSearch returns it. Found is false for a Get
// of a document that does not exist.
type Hit struct {
	Index   string          `json:"_index"`
	ID      string          `json:"_id"`
	Version int64           `json:"_version"`
	Routing string          `json:"_routing"`
	Source  json.RawMessage `json:"_source"`
	Found   bool            `json:"found"`
}

// GetRequest names one document to re-read.
type GetRequest struct {
	Index   string `json:"_index"`
	ID      string `json:"_id"`
	Routing string `json:"routing,omitempty"`
}

// readPage is how many documents one scroll page holds.
const readPage = 1000

// maxAttempts bounds the retries of one OpenSearch request.
const maxAttempts = 10

type osIndex struct {
	c   *opensearch.Client
	log *slog.Logger
}

// NewIndex serves Index with an opensearch-go client (the Client of the
// sink's Writer, internal/sink/opensearch.NewWriter, so that it reaches the
// sink's hosts with the sink's credentials).
func NewIndex(c *opensearch.Client, log *slog.Logger) Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &osIndex{c: c, log: log}
}

// do sends one request, retrying transport errors, 429 and 502–504 with
// capped backoff; other statuses are returned to the caller.
func (x *osIndex) do(ctx context.Context, method, path string, q url.Values, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.URL.RawQuery = q.Encode()
		req.Header.Set("Content-Type", "application/json")
		resp, err := x.c.Perform(req)
		var status int
		var data []byte
		if err == nil {
			status = resp.StatusCode
			data, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		transient := err != nil || status == http.StatusTooManyRequests || (status >= 502 && status <= 504)
		if !transient || ctx.Err() != nil {
			return status, data, err
		}
		if attempt+1 == maxAttempts {
			if err == nil {
				err = fmt.Errorf("%s %s: %d %s", method, path, status, excerpt(data))
			}
			return 0, nil, err
		}
		d := retry.Backoff(attempt, 200*time.Millisecond, 10*time.Second)
		x.log.Warn("opensearch request failed; retrying", "op", method+" "+path, "attempt", attempt+1, "status", status, "err", err, "wait", d)
		if retry.Sleep(ctx, d) != nil {
			return 0, nil, ctx.Err()
		}
	}
}

func (x *osIndex) Refresh(ctx context.Context, names []string) {
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	_, _, _ = x.do(ctx, http.MethodPost, "/"+strings.Join(names, ",")+"/_refresh", q, nil)
}

type searchResponse struct {
	ScrollID string `json:"_scroll_id"`
	Shards   struct {
		Failed int `json:"failed"`
	} `json:"_shards"`
	Hits struct {
		Hits []Hit `json:"hits"`
	} `json:"hits"`
}

func (x *osIndex) Read(ctx context.Context, names []string, fn func(Hit) error) error {
	q := url.Values{"scroll": {"2m"}, "ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	// _doc order is the cheapest scroll; sorting on _id is refused by default.
	body := fmt.Sprintf(`{"size":%d,"sort":["_doc"],"version":true,"query":{"match_all":{}}}`, readPage)
	status, data, err := x.do(ctx, http.MethodPost, "/"+strings.Join(names, ",")+"/_search", q, []byte(body))
	var scrollID string
	defer func() {
		if scrollID != "" {
			b, _ := json.Marshal(map[string][]string{"scroll_id": {scrollID}})
			_, _, _ = x.do(context.WithoutCancel(ctx), http.MethodDelete, "/_search/scroll", nil, b)
		}
	}()
	for {
		if err != nil {
			return fmt.Errorf("read index %s: %w", strings.Join(names, ","), err)
		}
		if status != http.StatusOK {
			return fmt.Errorf("read index %s: %d %s", strings.Join(names, ","), status, excerpt(data))
		}
		var r searchResponse
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("read index %s: decode search response: %w", strings.Join(names, ","), err)
		}
		if r.Shards.Failed > 0 {
			return fmt.Errorf("read index %s: %d shard(s) failed to answer", strings.Join(names, ","), r.Shards.Failed)
		}
		scrollID = r.ScrollID
		if len(r.Hits.Hits) == 0 {
			return nil
		}
		for _, h := range r.Hits.Hits {
			if err := fn(h); err != nil {
				return err
			}
		}
		b, _ := json.Marshal(map[string]string{"scroll": "2m", "scroll_id": scrollID})
		status, data, err = x.do(ctx, http.MethodPost, "/_search/scroll", nil, b)
	}
}

func (x *osIndex) Get(ctx context.Context, reqs []GetRequest) ([]Hit, error) {
	b, err := json.Marshal(map[string][]GetRequest{"docs": reqs})
	if err != nil {
		return nil, err
	}
	status, data, err := x.do(ctx, http.MethodPost, "/_mget", url.Values{"realtime": {"true"}}, b)
	if err != nil {
		return nil, fmt.Errorf("re-read documents: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("re-read documents: %d %s", status, excerpt(data))
	}
	var r struct {
		Docs []struct {
			Hit
			Error json.RawMessage `json:"error"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("re-read documents: decode: %w", err)
	}
	if len(r.Docs) != len(reqs) {
		return nil, fmt.Errorf("re-read documents: %d answers for %d documents", len(r.Docs), len(reqs))
	}
	out := make([]Hit, len(reqs))
	for i, d := range r.Docs {
		if len(d.Error) > 0 && !strings.Contains(string(d.Error), "index_not_found_exception") {
			return nil, fmt.Errorf("re-read document %s/%s: %s", reqs[i].Index, reqs[i].ID, excerpt(d.Error))
		}
		out[i] = d.Hit
		out[i].Index, out[i].ID = reqs[i].Index, reqs[i].ID
	}
	return out, nil
}

// excerpt is the start of a response body, for messages.
func excerpt(body []byte) string {
	const limit = 300
	s := strings.TrimSpace(string(body))
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
