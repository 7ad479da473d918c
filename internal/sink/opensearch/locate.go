package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/opensearch-project/opensearch-go/v2/opensearchapi"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// locator implements bulk.Locator with the sink's client: the lookups that
// find an item's older copies under a date-pattern index name.
type locator struct{ s *Sink }

// Indices lists the open indices matching wildcard (GET _cat/indices).
func (l locator) Indices(ctx context.Context, wildcard string) ([]string, error) {
	body, err := l.do(ctx, "list indices "+wildcard, func() (*opensearchapi.Response, error) {
		return opensearchapi.CatIndicesRequest{Index: []string{wildcard}, H: []string{"index"}, Format: "json"}.Do(ctx, l.s.client)
	}, http.StatusNotFound)
	if err != nil || body == nil {
		return nil, err
	}
	var rows []struct {
		Index string `json:"index"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("list indices %s: %w", wildcard, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Index
	}
	return out, nil
}

// mgetChunk bounds the documents of one multi-get request.
const mgetChunk = 5000

// Found looks the documents up with realtime multi-gets (no refresh needed).
func (l locator) Found(ctx context.Context, docs []bulk.DocRef) ([]bool, error) {
	out := make([]bool, 0, len(docs))
	for len(docs) > 0 {
		n := min(len(docs), mgetChunk)
		f, err := l.found(ctx, docs[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
		docs = docs[n:]
	}
	return out, nil
}

func (l locator) found(ctx context.Context, docs []bulk.DocRef) ([]bool, error) {
	type ref struct {
		Index   string `json:"_index"`
		ID      string `json:"_id"`
		Routing string `json:"routing,omitempty"`
		Source  bool   `json:"_source"`
	}
	req := struct {
		Docs []ref `json:"docs"`
	}{Docs: make([]ref, len(docs))}
	for i, d := range docs {
		req.Docs[i] = ref{Index: d.Index, ID: d.ID, Routing: d.Routing}
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	body, err := l.do(ctx, "multi-get", func() (*opensearchapi.Response, error) {
		return opensearchapi.MgetRequest{Body: bytes.NewReader(payload)}.Do(ctx, l.s.client)
	})
	if err != nil {
		return nil, err
	}
	var resp struct {
		Docs []struct {
			Found bool `json:"found"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Docs) != len(docs) {
		return nil, fmt.Errorf("multi-get: %d answers for %d documents: %v", len(resp.Docs), len(docs), err)
	}
	out := make([]bool, len(docs))
	for i, d := range resp.Docs {
		out[i] = d.Found // a missing index answers an error entry: not found
	}
	return out, nil
}

// do runs a read until it answers 200 (or one of the ok statuses, then
// the body is nil), retrying transport errors, 429 and 5xx with the sink's
// backoff (max_retries bounds it when set).
func (l locator) do(ctx context.Context, what string, call func() (*opensearchapi.Response, error), ok ...int) ([]byte, error) {
	var last string
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if l.s.cfg.MaxRetries > 0 && attempt > l.s.cfg.MaxRetries {
				return nil, fmt.Errorf("%s: still failing after %d retries (max_retries): %s", what, l.s.cfg.MaxRetries, last)
			}
			d := l.s.backoff.delay(attempt)
			l.s.log.LogAttrs(ctx, slog.LevelWarn, "opensearch lookup retry", slog.String("call", what), slog.Int("attempt", attempt),
				slog.Duration("delay", d), slog.String("cause", last))
			if err := retry.Sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		resp, err := call()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", what, ctx.Err())
			}
			last = err.Error()
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			last = err.Error()
			continue
		case resp.StatusCode == http.StatusOK:
			return body, nil
		case retryableStatus(resp.StatusCode):
			last = statusText(resp.StatusCode) + ": " + excerpt(body)
			continue
		}
		for _, s := range ok {
			if resp.StatusCode == s {
				return nil, nil
			}
		}
		return nil, fmt.Errorf("%s: %s", what, explainStatus(resp.StatusCode, body))
	}
}
