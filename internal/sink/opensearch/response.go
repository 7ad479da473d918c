package opensearch

import (
	"encoding/json"
	"fmt"
)

// bulkFilterPath trims the _bulk response to what classification reads.
var bulkFilterPath = []string{"errors", "items.*.status", "items.*.error"}

// itemResult is one item of a _bulk response.
type itemResult struct {
	Status int
	Type   string // error type, "" on success
	Reason string // error reason, with the root cause's when it adds detail
}

type rawError struct {
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	CausedBy *rawError `json:"caused_by"`
}

type rawItem struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// parseBulkResponse decodes a 200 _bulk response that must hold exactly n
// items, in request order.
func parseBulkResponse(body []byte, n int) ([]itemResult, error) {
	var resp struct {
		Errors bool                 `json:"errors"`
		Items  []map[string]rawItem `json:"items"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode bulk response: %w", err)
	}
	if len(resp.Items) != n {
		return nil, fmt.Errorf("bulk response has %d items for %d operations", len(resp.Items), n)
	}
	out := make([]itemResult, n)
	for i, m := range resp.Items {
		if len(m) != 1 {
			return nil, fmt.Errorf("bulk response item %d has %d actions", i, len(m))
		}
		for _, it := range m {
			out[i] = itemResult{Status: it.Status}
			out[i].Type, out[i].Reason = decodeError(it.Error)
		}
	}
	return out, nil
}

// decodeError reads an item error: normally an object with type, reason and
// caused_by; very old servers send a string.
func decodeError(raw json.RawMessage) (typ, reason string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", ""
	}
	var e rawError
	if err := json.Unmarshal(raw, &e); err != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return "error", s
		}
		return "error", string(raw)
	}
	reason = e.Reason
	if c := e.CausedBy; c != nil && c.Reason != "" && c.Reason != e.Reason {
		reason += ": " + c.Type + ": " + c.Reason
	}
	return e.Type, reason
}
