//go:build integration

package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// --- Toxiproxy ------------------------------------------------------------------------------

// toxiproxy is a Toxiproxy server started for the scenario (stopped by its PID at the end),
// driven through its HTTP API.
type toxiproxy struct {
	t   *testing.T
	api string
	cmd *exec.Cmd
}

// startToxiproxy installs (test/faults/toxiproxy.sh, unless $TOXIPROXY_BIN is set) and starts
// toxiproxy-server on a free loopback port.
func startToxiproxy(t *testing.T) *toxiproxy {
	t.Helper()
	bin := os.Getenv("TOXIPROXY_BIN")
	if bin == "" {
		out, err := exec.Command("bash", "toxiproxy.sh").Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("install toxiproxy (test/faults/toxiproxy.sh): %v\n%s", err, stderr)
		}
		bin = strings.TrimSpace(string(out))
	}
	port := freePort(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), "toxiproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	tp := &toxiproxy{t: t, api: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by PID: the process this test started
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, _ := osDo(t.Context(), tp.api, "GET", "/version", nil); st == 200 {
			return tp
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("toxiproxy not ready on %s:\n%s", tp.api, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proxy creates a proxy to upstream (host:port) on a free port and returns its address.
func (tp *toxiproxy) proxy(name, upstream string) string {
	tp.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true})
	st, resp := osDo(tp.t.Context(), tp.api, "POST", "/proxies", body)
	if st != 201 && st != 200 {
		tp.t.Fatalf("toxiproxy create %s: %d %s", name, st, resp)
	}
	var p struct {
		Listen string `json:"listen"`
	}
	if err := json.Unmarshal(resp, &p); err != nil || p.Listen == "" {
		tp.t.Fatalf("toxiproxy create %s: %s", name, resp)
	}
	return p.Listen
}

// toxic adds a toxic to proxy; stream is "upstream" (client → server) or "downstream".
func (tp *toxiproxy) toxic(proxy, name, typ, stream string, attrs map[string]any) {
	tp.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	if st, resp := osDo(tp.t.Context(), tp.api, "POST", "/proxies/"+proxy+"/toxics", body); st != 200 {
		tp.t.Fatalf("toxiproxy add %s to %s: %d %s", name, proxy, st, resp)
	}
}

func (tp *toxiproxy) removeToxic(proxy, name string) {
	tp.t.Helper()
	if st, resp := osDo(tp.t.Context(), tp.api, "DELETE", "/proxies/"+proxy+"/toxics/"+name, nil); st != 204 && st != 200 {
		tp.t.Fatalf("toxiproxy remove %s from %s: %d %s", name, proxy, st, resp)
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
