//go:build integration

package integration

// Secrets (issue 5 item 4): the OpenSearch password (from ${env:...}) and the
// AWS secret access key never appear in `validate` output, in `run` logs at
// debug level (the failing paths included), in error messages, or on
// /metrics, /healthz and /readyz. S3 is kept out: it needs the stack's own
// secret, while DynamoDB Local takes any.

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	secUser     = "replicator"
	secPassword = "S3cr3t-pw-XYZ"
	secAWS      = "AwsS3cr3tAccessKey-XYZ-0123456789"
)

// secForms are the ways a secret could show: as is, URL-escaped, or inside
// a basic auth header.
func secForms() map[string]string {
	m := map[string]string{
		"OpenSearch password":           secPassword,
		"basic auth header":             base64.StdEncoding.EncodeToString([]byte(secUser + ":" + secPassword)),
		"AWS secret access key":         secAWS,
		"AWS secret access key, prefix": secAWS[:16],
	}
	if esc := url.QueryEscape(secPassword); esc != secPassword {
		m["OpenSearch password, escaped"] = esc
	}
	return m
}

// secCheck fails when text holds a secret in any form.
func secCheck(t *testing.T, where, text string) {
	t.Helper()
	for what, form := range secForms() {
		if strings.Contains(text, form) {
			t.Errorf("%s contains the %s:\n%s", where, what, text)
		}
	}
}

// secEnv is the environment of every ddbsync process here.
func secEnv(e *e2e) []string {
	env := []string{"OS_PASSWORD=" + secPassword, "AWS_SECRET_ACCESS_KEY=" + secAWS}
	if e != nil {
		env = append(env, "AWS_ACCESS_KEY_ID="+e.accessKey)
	}
	return env
}

// secSink is the sink block with basic auth from the environment.
const secSink = "username: " + secUser + "\npassword: \"${env:OS_PASSWORD}\""

// TestSecretsValidate: validate prints neither secret, for a valid file and
// for invalid ones whose problems are about the secret-bearing keys.
func TestSecretsValidate(t *testing.T) {
	head := `version: "2"
p:
  source:
    dynamodb:
      aws:
        region: us-east-1
        sts_role_arn: arn:aws:iam::123456789012:role/replicator
        sts_external_id: "${env:OS_PASSWORD}"
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - opensearch:
        index: orders
`
	tests := []struct {
		name, sink string
		valid      bool
	}{
		{"valid", `        hosts: ["https://search.example.com:9200", "https://` + secUser + `:${env:OS_PASSWORD}@other.example.com:9200"]
        username: ` + secUser + `
        password: "${env:OS_PASSWORD}"
`, true},
		{"password without username", `        hosts: ["https://search.example.com:9200"]
        password: "${env:OS_PASSWORD}"
`, false},
		{"misspelt password key", `        hosts: ["https://search.example.com:9200"]
        username: ` + secUser + `
        pasword: "${env:OS_PASSWORD}"
`, false},
		{"the password where a duration goes", `        hosts: ["https://search.example.com:9200"]
        connect_timeout: "${env:OS_PASSWORD}"
        index_type: "${env:OS_PASSWORD}"
`, false},
		{"literal password (not from the environment)", `        hosts: ["https://search.example.com:9200", "https://` + secUser + `:` + secPassword + `@other.example.com:9200"]
        username: ` + secUser + `
        password: "` + secPassword + `"
`, true},
		{"literal password with a '/' in a host URL", `        hosts: ["https://` + secUser + `:` + secPassword + `/1@search.example.com:9200"]
`, false},
		{"the password in a bad host URL", `        hosts: ["ftp://` + secUser + `:${env:OS_PASSWORD}@search.example.com:9200", "${env:OS_PASSWORD}"]
`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := badWriteFile(t, t.TempDir(), "pipeline.yaml", head+tc.sink)
			code, out := badExec(t, 30*time.Second, secEnv(nil), "validate", "-f", file)
			if tc.valid != (code == 0) {
				t.Fatalf("validate exit %d:\n%s", code, out)
			}
			t.Logf("validate said:\n%s", out)
			secCheck(t, "validate output", out)
		})
	}
}

// secRunToExit runs ddbsync to its own exit with the given log format and
// returns the exit code and output.
func secRunToExit(t *testing.T, e *e2e, format string) (int, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	return badExec(t, 90*time.Second, secEnv(e), "run", "-f", e.pipeline, "--state-dir", state,
		"--metrics-addr", "", "--log-level", "debug", "--log-format", format)
}

// secGet GETs a path of the metrics server and checks the answer.
func secGet(t *testing.T, addr, path string) string {
	t.Helper()
	body := httpGet(t, addr, path).body
	secCheck(t, path, body)
	return body
}

// secWaitHTTP polls the metrics server until path answers 200.
func secWaitHTTP(t *testing.T, addr, path string, timeout time.Duration) {
	t.Helper()
	poll(t, "GET "+path, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	})
}

// TestSecretsRun: run at debug level, on a working path and on the failing
// ones, never prints a secret; /metrics, /healthz and /readyz neither.
func TestSecretsRun(t *testing.T) {
	t.Run("working run and metrics", func(t *testing.T) {
		// The stack's OpenSearch has no security plugin: it ignores the
		// credentials, which ddbsync still sends with every request.
		e := newE2E(t, "secok", "", "")
		badCleanup(e, e.table)
		e.secret = secAWS
		e.metricsAddr = freeAddr(t)
		t.Setenv("OS_PASSWORD", secPassword)
		e.writePipeline("", secSink)
		e.start()
		secWaitHTTP(t, e.metricsAddr, "/readyz", 60*time.Second)
		e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
		e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("1")})
		e.del(key1("a"))
		e.converge(30 * time.Second)
		m := secGet(t, e.metricsAddr, "/metrics")
		if !strings.Contains(m, "ddbsync_documents_indexed_total") {
			t.Errorf("/metrics lacks the sink's counters:\n%.2000s", m)
		}
		secGet(t, e.metricsAddr, "/healthz")
		secGet(t, e.metricsAddr, "/readyz")
		if code := e.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(e.log(), "level=DEBUG") {
			t.Error("no debug lines: the log level is not debug")
		}
		secCheck(t, "run log", e.log())
	})

	t.Run("bulk answered 401 while running", func(t *testing.T) {
		// A proxy that passes start-up (GET /, index checks) to OpenSearch
		// but refuses every _bulk with 401: the write path fails.
		target, _ := url.Parse(stackEnv(t, "OPENSEARCH_URL"))
		proxy := httputil.NewSingleHostReverseProxy(target)
		var sawAuth bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); ok && u == secUser && p == secPassword {
				sawAuth = true
			}
			if strings.Contains(r.URL.Path, "_bulk") {
				w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":"Unauthorized"}`)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		e := newE2E(t, "secbulk", "", "")
		badCleanup(e, e.table)
		e.secret = secAWS
		e.metricsAddr = freeAddr(t)
		t.Setenv("OS_PASSWORD", secPassword)
		e.writePipeline("", secSink)
		badSinkHost(t, e, srv.URL)
		e.start()
		secWaitHTTP(t, e.metricsAddr, "/readyz", 60*time.Second)
		secGet(t, e.metricsAddr, "/metrics")
		e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
		if code := e.wait(60 * time.Second); code != 1 {
			t.Fatalf("exit %d, want 1:\n%s", code, e.log())
		}
		msg := badErrorLine(t, e.log())
		badWant(t, msg, "401", "check username/password")
		if !sawAuth {
			t.Error("ddbsync never sent the credentials, so this proves nothing")
		}
		secCheck(t, "run log", e.log())
	})

	t.Run("password in the host URL, OpenSearch gone mid-run", func(t *testing.T) {
		// The bulk path's connection errors are retried and logged.
		target, _ := url.Parse(stackEnv(t, "OPENSEARCH_URL"))
		srv := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
		t.Cleanup(srv.Close)
		e := newE2E(t, "secgone", "", "")
		badCleanup(e, e.table)
		e.secret = secAWS
		t.Setenv("OS_PASSWORD", secPassword)
		e.writePipeline("", "")
		badSinkHost(t, e, strings.Replace(srv.URL, "http://", "http://"+secUser+":${env:OS_PASSWORD}@", 1))
		e.start()
		e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
		e.converge(30 * time.Second)
		srv.CloseClientConnections()
		srv.Close()
		e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("1")})
		e.waitLog("bulk retry", 60*time.Second)
		e.kill() // SIGTERM would wait out the shutdown grace for the bulk in flight
		secCheck(t, "run log", e.log())
	})

	for _, format := range []string{"text", "json"} {
		t.Run("401 at start-up, "+format, func(t *testing.T) {
			srv, gotAuth := badAuthServer(t)
			e := newE2E(t, "sec401", "", "")
			badCleanup(e, e.table)
			e.writePipeline("", secSink)
			badSinkHost(t, e, srv.URL)
			code, out := secRunToExit(t, e, format)
			if code != 1 || !strings.Contains(out, "check username/password") {
				t.Fatalf("exit %d, want 1 with a 401 message:\n%s", code, out)
			}
			if !*gotAuth {
				t.Error("ddbsync never sent the credentials, so this proves nothing")
			}
			secCheck(t, "run output", out)
		})
		t.Run("password in an unreachable host URL, "+format, func(t *testing.T) {
			// Start-up waits for an unreachable host (logging each retry) for
			// at most this long, then fails.
			t.Setenv("DDBSYNC_STARTUP_TIMEOUT", "2s")
			e := newE2E(t, "securl", "", "")
			badCleanup(e, e.table)
			e.writePipeline("", "")
			badSinkHost(t, e, fmt.Sprintf("http://%s:${env:OS_PASSWORD}@%s", secUser, freeAddr(t)))
			code, out := secRunToExit(t, e, format)
			if code != 1 || !strings.Contains(out, "connection refused") {
				t.Fatalf("exit %d, want 1 with connection refused:\n%s", code, out)
			}
			secCheck(t, "run output", out)
		})
		t.Run("AWS error (missing table), "+format, func(t *testing.T) {
			e := newE2E(t, "secaws", "", "")
			badCleanup(e, e.table)
			// The pipeline names a table that does not exist.
			real := e.table
			e.table += "-nope"
			e.writePipeline("", secSink)
			e.table = real
			code, out := secRunToExit(t, e, format)
			if code != 1 || !strings.Contains(out, "does not exist") {
				t.Fatalf("exit %d, want 1 with a missing-table error:\n%s", code, out)
			}
			secCheck(t, "run output", out)
		})
	}
}
