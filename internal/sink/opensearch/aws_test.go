package opensearch

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

func TestSigV4(t *testing.T) {
	awsCfg := &aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	tests := []struct {
		name  string
		block config.AWS
		scope string
	}{
		{"managed domain", config.AWS{Region: "us-west-2"}, "/us-west-2/es/aws4_request"},
		{"serverless", config.AWS{Serverless: true}, "/eu-west-1/aoss/aws4_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var auth []string
			f, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
			srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				auth = append(auth, r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Amz-Content-Sha256"))
				mu.Unlock()
				f.ServeHTTP(w, r)
			})
			cfg := testConfig(srv.URL)
			cfg.IndexType = "management_disabled"
			cfg.AWS = &tc.block
			s, err := New(cfg, Options{AWSConfig: awsCfg})
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
			if len(auth) != 2 {
				t.Fatalf("requests: %q", auth)
			}
			for _, a := range auth {
				if !strings.Contains(a, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(a, tc.scope) {
					t.Errorf("request %q is not signed for %s", a, tc.scope)
				}
			}
		})
	}
	if _, err := New(&config.OpenSearch{Hosts: []string{"http://x"}, AWS: &config.AWS{Region: "us-east-1"}}, Options{}); err == nil {
		t.Error("New accepted aws without an AWS configuration")
	}
}
