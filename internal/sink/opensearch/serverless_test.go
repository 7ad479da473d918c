package opensearch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

// serverlessFake records every request (method, path, query, signature
// headers, body) and answers like a Serverless collection: 404 for a
// missing index, 200 for index creation and bulk items, and 404 for what
// Serverless does not serve (GET /, _refresh, _template).
type serverlessFake struct {
	mu   sync.Mutex
	reqs []recorded
	has  map[string]bool // indices that exist
}

type recorded struct {
	method, path, query, auth, sha, body string
}

func (f *serverlessFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Content-Sha256"), string(body)})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch p := r.URL.Path; {
	case p == "/_bulk":
		var items []string
		for _, o := range parseOps(nil, body) {
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":200}}`, o.Action, o.Index, o.ID))
		}
		fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	case strings.HasPrefix(p, "/_cat/indices"):
		_, _ = io.WriteString(w, `[]`)
	case p == "/" || strings.Contains(p, "_refresh") || strings.HasPrefix(p, "/_template"):
		w.WriteHeader(http.StatusNotFound)
	case r.Method == http.MethodHead:
		if !f.has[strings.TrimPrefix(p, "/")] {
			w.WriteHeader(http.StatusNotFound)
		}
	case r.Method == http.MethodPut && !strings.Contains(p[1:], "/"):
		f.has[p[1:]] = true
		_, _ = io.WriteString(w, `{"acknowledged":true}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"unexpected %s %s"}`, r.Method, p)
	}
}

// serverlessSink loads a pipeline file whose sink writes index to a
// Serverless collection at url, as `run` would (defaults included).
func serverlessSink(t *testing.T, url, index, extra string) *config.OpenSearch {
	t.Helper()
	yaml := fmt.Sprintf(`p:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
          stream: {}
  sink:
    - opensearch:
        hosts: [%q]
        index: %q
%s        aws:
          region: us-east-1
          serverless: true
`, url, index, extra)
	f, err := config.Parse("pipeline.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if probs := f.Unsupported(); len(probs) > 0 {
		t.Fatalf("serverless refused: %v", probs)
	}
	return f.Pipelines[0].Sinks[0].OpenSearch
}

// TestServerlessRequestSequence: against a Serverless collection the sink
// signs every request for aoss with the body hash, probes with HEAD
// <index> (not GET /), creates the index without shard settings, installs
// no legacy template, sends plain index/delete actions (no version
// parameters, whatever the blueprint's document_version lines say) and
// never calls _refresh.
func TestServerlessRequestSequence(t *testing.T) {
	tests := []struct {
		name, index, extra string
		want               []string // method path, in order
	}{
		{"literal index", "orders", "", []string{"HEAD /orders", "HEAD /orders", "PUT /orders", "POST /_bulk"}},
		{"blueprint version lines", "orders", "        document_version: \"${getMetadata(\\\"document_version\\\")}\"\n        document_version_type: \"external\"\n",
			[]string{"HEAD /orders", "HEAD /orders", "PUT /orders", "POST /_bulk"}},
		// No legacy templates on Serverless: the index (the events' year)
		// is created with the number mapping before its first write.
		{"index pattern", "orders-%{yyyy}", "", []string{"HEAD /orders-*", "GET /_cat/indices/orders-*", "HEAD /orders-2024", "PUT /orders-2024", "POST /_bulk"}},
	}
	creds := &aws.Config{Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &serverlessFake{has: map[string]bool{}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			cfg := serverlessSink(t, srv.URL, tc.index, tc.extra)
			if cfg.DocumentVersionType != config.VersionTypeInternal || cfg.DocumentVersion != nil {
				t.Fatalf("serverless sink versions: %q %v", cfg.DocumentVersionType, cfg.DocumentVersion)
			}
			s, err := New(cfg, Options{AWSConfig: creds})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Prepare(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1_700_000_000_000_001), ev(change.OpDelete, "b", 1_700_000_000_000_002)}); err != nil {
				t.Fatal(err)
			}
			if err := s.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range f.reqs {
				got = append(got, r.method+" "+r.path)
				if !strings.HasPrefix(r.auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(r.auth, "/us-east-1/aoss/aws4_request") ||
					!strings.Contains(r.auth, "x-amz-content-sha256") {
					t.Errorf("%s %s: not signed for aoss with the content hash: %q", r.method, r.path, r.auth)
				}
				if len(r.sha) != 64 {
					t.Errorf("%s %s: X-Amz-Content-Sha256 = %q", r.method, r.path, r.sha)
				}
				switch {
				case r.method == http.MethodPut && strings.Contains(r.body, "number_of_"):
					t.Errorf("index created with settings Serverless refuses: %s", r.body)
				case r.path == "/_bulk" && (strings.Contains(r.body, "version") || strings.Contains(r.query, "version") || strings.Contains(r.query, "refresh")):
					t.Errorf("bulk carries version or refresh parameters: %s?%s %s", r.path, r.query, r.body)
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("requests\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestSignedCompressedBulk: with enable_request_compression the body is
// gzipped before it is signed, so the signed hash is the hash of the bytes
// sent.
func TestSignedCompressedBulk(t *testing.T) {
	var mu sync.Mutex
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		mu.Lock()
		if r.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]) {
			bad = append(bad, r.Method+" "+r.URL.Path+": signed hash is not the hash of the bytes sent")
		}
		if r.URL.Path == "/_bulk" && r.Header.Get("Content-Encoding") != "gzip" {
			bad = append(bad, "bulk not compressed")
		}
		mu.Unlock()
		if r.URL.Path == "/_bulk" {
			_, _ = io.WriteString(w, `{"errors":false,"items":[{"index":{"_index":"orders","_id":"a","status":200}}]}`)
		}
	}))
	defer srv.Close()
	cfg := serverlessSink(t, srv.URL, "orders", "        enable_request_compression: true\n        index_type: management_disabled\n")
	s, err := New(cfg, Options{AWSConfig: &aws.Config{Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1)}); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Error(bad)
	}
}
