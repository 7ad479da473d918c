//go:build integration

package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rejectingProxy is an HTTP reverse proxy in front of OpenSearch that answers 429 to a
// fraction of _bulk requests (half of them with Retry-After) and, of the bulk requests it
// forwards, rewrites a fraction of the successful items to 429 es_rejected_execution_exception
// — what a node with a full write queue does. A rewritten item was in fact applied, so its retry
// meets an equal external version (409, superseded).
type rejectingProxy struct {
	srv                 *httptest.Server
	wholeFrac, itemFrac float64
	delay               time.Duration // added to every _bulk request (a slower cluster)

	mu  sync.Mutex
	rng *rand.Rand

	bulks, rejected, withRetryAfter, items, itemsRejected atomic.Int64
}

func newRejectingProxy(t *testing.T, target string, seed uint64, wholeFrac, itemFrac float64) *rejectingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &rejectingProxy{wholeFrac: wholeFrac, itemFrac: itemFrac, rng: rand.New(rand.NewPCG(seed, 4))}
	rp := httputil.NewSingleHostReverseProxy(u)
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding") // plain responses, so items can be rewritten
	}
	rp.ModifyResponse = p.rewrite
	rp.ErrorLog = log.New(io.Discard, "", 0) // requests cut short by a SIGKILL are expected
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isBulk(r) {
			p.bulks.Add(1)
			time.Sleep(p.delay)
			if p.roll() < p.wholeFrac {
				_, _ = io.Copy(io.Discard, r.Body)
				p.rejected.Add(1)
				if p.roll() < 0.5 {
					p.withRetryAfter.Add(1)
					w.Header().Set("Retry-After", "1")
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation (fault injection)"}],"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation (fault injection)"},"status":429}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func isBulk(r *http.Request) bool {
	return (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasSuffix(r.URL.Path, "/_bulk")
}

func (p *rejectingProxy) roll() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}

// rewrite turns some successful items of a bulk response into 429 rejections.
func (p *rejectingProxy) rewrite(resp *http.Response) error {
	if !strings.HasSuffix(resp.Request.URL.Path, "/_bulk") || resp.StatusCode != 200 {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	out := body
	var r map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&r) == nil {
		if items, ok := r["items"].([]any); ok {
			changed := false
			for _, it := range items {
				m, _ := it.(map[string]any)
				for _, v := range m { // {"index": {...}} or {"delete": {...}}
					res, _ := v.(map[string]any)
					st, _ := res["status"].(json.Number)
					code, _ := strconv.Atoi(st.String())
					p.items.Add(1)
					if code/100 == 2 && p.roll() < p.itemFrac {
						p.itemsRejected.Add(1)
						res["status"] = 429
						delete(res, "result")
						res["error"] = map[string]any{"type": "es_rejected_execution_exception",
							"reason": "rejected execution of primary operation (fault injection)"}
						changed = true
					}
				}
			}
			if changed {
				r["errors"] = true
				if b, err := json.Marshal(r); err == nil {
					out = b
				}
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}
