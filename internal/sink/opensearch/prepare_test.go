package opensearch

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// adminFake answers the start-up calls and records them as "METHOD path body".
type adminFake struct {
	mu    sync.Mutex
	calls []string
	// answers maps "METHOD path" to status and body; missing ones are 404.
	answers map[string]string
}

func (a *adminFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	a.mu.Lock()
	a.calls = append(a.calls, strings.TrimSpace(key+" "+string(body)))
	a.mu.Unlock()
	ans, ok := a.answers[key]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var status int
	var rest string
	fmt.Sscanf(ans, "%d", &status)
	if i := strings.IndexByte(ans, ' '); i > 0 {
		rest = ans[i+1:]
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rest)
}

func prepare(t *testing.T, answers map[string]string, mutate func(*config.OpenSearch)) ([]string, error) {
	t.Helper()
	a := &adminFake{answers: answers}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	if mutate != nil {
		mutate(cfg)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	err = s.Prepare(t.Context())
	return a.calls, err
}

func TestPrepare(t *testing.T) {
	const root = "GET /"
	tests := []struct {
		name      string
		answers   map[string]string
		mutate    func(*config.OpenSearch)
		wantCalls []string
		wantErr   string
	}{
		{
			name:      "creates missing index with settings",
			answers:   map[string]string{root: "200 {}", "PUT /orders": "200 {}"},
			mutate:    func(c *config.OpenSearch) { c.NumberOfShards = 3; c.NumberOfReplicas = 0; c.NumberMapping = "none" },
			wantCalls: []string{"GET /", "HEAD /orders", `PUT /orders {"settings":{"number_of_replicas":0,"number_of_shards":3}}`},
		},
		{
			name:      "existing index left alone",
			answers:   map[string]string{root: "200 {}", "HEAD /orders": "200"},
			mutate:    func(c *config.OpenSearch) { c.NumberMapping = "none" },
			wantCalls: []string{"GET /", "HEAD /orders"},
		},
		{
			name:      "created meanwhile",
			answers:   map[string]string{root: "200 {}", "PUT /orders": `400 {"error":{"type":"resource_already_exists_exception"}}`},
			mutate:    func(c *config.OpenSearch) { c.NumberMapping = "none" },
			wantCalls: []string{"GET /", "HEAD /orders", "PUT /orders"},
		},
		{
			name:    "create fails",
			answers: map[string]string{root: "200 {}", "PUT /orders": `400 {"error":{"type":"invalid_index_name_exception"}}`},
			mutate:  func(c *config.OpenSearch) { c.NumberMapping = "none" },
			wantErr: "create index orders: 400 Bad Request: {\"error\":{\"type\":\"invalid_index_name_exception\"}}",
		},
		{
			name:    "v1 template installed",
			answers: map[string]string{root: "200 {}", "PUT /_template/orders-index-template": "200 {}", "HEAD /orders": "200"},
			mutate:  func(c *config.OpenSearch) { c.TemplateContent = `{"version":2,"mappings":{}}` },
			wantCalls: []string{"GET /", "GET /_template/orders-index-template",
				`PUT /_template/orders-index-template {"index_patterns":["orders"],"mappings":{},"settings":{},"version":2}`, "HEAD /orders"},
		},
		{
			name: "newer template kept",
			answers: map[string]string{root: "200 {}", "HEAD /orders": "200",
				"GET /_template/orders-index-template": `200 {"orders-index-template":{"version":5}}`},
			mutate:    func(c *config.OpenSearch) { c.TemplateContent = `{"version":2}` },
			wantCalls: []string{"GET /", "GET /_template/orders-index-template", "HEAD /orders"},
		},
		{
			name:    "dynamic index: template only",
			answers: map[string]string{root: "200 {}", "PUT /_index_template/logs-index-template": "200 {}"},
			mutate: func(c *config.OpenSearch) {
				c.Index = expr.MustParse("logs-%{yyyy.MM.dd}")
				c.TemplateType = "index-template"
				c.TemplateContent = `{"template":{}}`
			},
			wantCalls: []string{"GET /", "GET /_index_template/logs-index-template",
				`PUT /_index_template/logs-index-template {"index_patterns":["logs-*"],"template":{"settings":{}}}`},
		},
		{
			name:      "management disabled",
			answers:   map[string]string{root: "200 {}"},
			mutate:    func(c *config.OpenSearch) { c.IndexType = "management_disabled"; c.TemplateContent = `{}` },
			wantCalls: []string{"GET /"},
		},
		{
			name:      "pipeline exists",
			answers:   map[string]string{root: "200 {}", "GET /_ingest/pipeline/enrich": `200 {"enrich":{}}`, "HEAD /orders": "200"},
			mutate:    func(c *config.OpenSearch) { c.Pipeline = expr.MustParse("enrich"); c.NumberMapping = "none" },
			wantCalls: []string{"GET /", "GET /_ingest/pipeline/enrich", "HEAD /orders"},
		},
		{
			name:    "pipeline missing",
			answers: map[string]string{root: "200 {}"},
			mutate:  func(c *config.OpenSearch) { c.Pipeline = expr.MustParse("enrich") },
			wantErr: `ingest pipeline "enrich" does not exist`,
		},
		{
			name:    "bad credentials",
			answers: map[string]string{root: "401 {}"},
			mutate:  func(c *config.OpenSearch) { c.Username = "admin"; c.Password = "hunter2" },
			wantErr: ": 401 Unauthorized: check username/password",
		},
		{
			name:    "forbidden",
			answers: map[string]string{root: "403 {}"},
			wantErr: "403 Forbidden",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, err := prepare(t, tc.answers, tc.mutate)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(calls, "\n"), strings.Join(tc.wantCalls, "\n"); got != want {
				t.Errorf("calls:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestPrepareHostErrors(t *testing.T) {
	dead := closedAddr(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(plain.Close)
	tests := []struct {
		name    string
		hosts   []string
		mutate  func(*config.OpenSearch)
		wantErr string // "" = Prepare succeeds
	}{
		{"refused", []string{dead}, nil, "opensearch " + dead + ": connection refused"},
		{"all down names each", []string{dead, dead + "/x"}, nil, dead + "/x: connection refused"},
		{"one of two down", []string{dead, plain.URL}, nil, ""},
		{"unknown CA", []string{tlsSrv.URL}, nil, "TLS verification failed; set cert"},
		{"insecure", []string{tlsSrv.URL}, func(c *config.OpenSearch) { c.Insecure = true }, ""},
		{"cert", []string{tlsSrv.URL}, func(c *config.OpenSearch) { c.Cert = writeCA(t, tlsSrv) }, ""},
		{"https to http", []string{strings.Replace(plain.URL, "http:", "https:", 1)}, nil, "does not speak TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(tc.hosts...)
			cfg.IndexType = "management_disabled"
			if tc.mutate != nil {
				tc.mutate(cfg)
			}
			s, err := New(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Prepare(t.Context())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// writeCA writes the test server's certificate as a PEM CA file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrepareNumberMapping pins what ddbsync installs by default (the number
// mapping, numbers.go) in the golden file testdata/template/number-mapping.golden,
// and that a user's template, management_disabled and number_mapping: none
// each install nothing of ddbsync's.
func TestPrepareNumberMapping(t *testing.T) {
	const root = "GET /"
	ok := map[string]string{root: "200 {}", "PUT /orders": "200 {}", "PUT /_template/orders-ddbsync-numbers": "200 {}",
		"PUT /_template/logs-ddbsync-numbers": "200 {}", "PUT /_template/orders-index-template": "200 {}"}
	tests := []struct {
		name   string
		mutate func(*config.OpenSearch)
	}{
		{"literal index created", func(c *config.OpenSearch) { c.NumberOfShards = 1 }},
		{"index pattern", func(c *config.OpenSearch) { c.Index = expr.MustParse("logs-%{yyyy.MM.dd}") }},
		{"pointer pattern", func(c *config.OpenSearch) { c.Index = expr.MustParse("logs-${/tenant}") }},
		{"no prefix: nothing to match", func(c *config.OpenSearch) { c.Index = expr.MustParse("${/tenant}") }},
		{"user template wins", func(c *config.OpenSearch) { c.TemplateContent = `{"mappings":{}}` }},
		{"number_mapping none", func(c *config.OpenSearch) { c.NumberMapping = "none" }},
		{"management disabled", func(c *config.OpenSearch) { c.IndexType = "management_disabled" }},
	}
	var out strings.Builder
	for _, tc := range tests {
		calls, err := prepare(t, ok, tc.mutate)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		fmt.Fprintf(&out, "## %s\n%s\n\n", tc.name, strings.Join(calls, "\n"))
	}
	golden(t, "template/number-mapping.golden", []byte(out.String()))
}
