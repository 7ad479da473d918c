package opensearch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v2/opensearchapi"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// bulkResult is a _bulk answer: the items of a 200, or the body of an error.
type bulkResult struct {
	items []itemResult
	body  []byte
}

// send makes one _bulk request of entries. err is a transport failure (or an
// unreadable 200), which the caller retries; any status is returned as is.
func (s *Sink) send(ctx context.Context, table string, entries []bulk.Entry) (int, bulkResult, error) {
	req := opensearchapi.BulkRequest{Body: bytes.NewReader(bulk.Body(entries)), FilterPath: bulkFilterPath}
	start := time.Now()
	resp, err := req.Do(ctx, s.client)
	s.met.duration.WithLabelValues(table).Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, bulkResult{}, fmt.Errorf("bulk request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, bulkResult{}, fmt.Errorf("read bulk response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, bulkResult{body: body}, nil
	}
	items, err := parseBulkResponse(body, len(entries))
	if err != nil {
		return 0, bulkResult{}, err
	}
	return resp.StatusCode, bulkResult{items: items}, nil
}

// statusText is "404 Not Found".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// explainStatus describes an error response: status, a hint for the common
// causes, and the start of the body.
func explainStatus(code int, body []byte) string {
	msg := statusText(code)
	switch code {
	case http.StatusUnauthorized:
		msg += ": check username/password"
	case http.StatusForbidden:
		msg += ": the user lacks a permission; check its roles"
	}
	if b := excerpt(body); b != "" {
		msg += ": " + b
	}
	return msg
}

// excerpt is the start of a response body, for messages.
func excerpt(body []byte) string {
	const max = 512
	b := strings.TrimSpace(string(body))
	if len(b) > max {
		b = b[:max] + "…"
	}
	return b
}
