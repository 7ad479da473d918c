//go:build integration

package integration

// The bad-input catalogue (issue 5 item 3, DESIGN §2.8): every class of bad
// input gets a clear message — what failed, where (YAML path and line, table,
// S3 key, host) and how to fix it — an exit code or a dead-letter entry, and
// never a checkpoint past data that was not applied.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// ---------------------------------------------------------------------------
// Helpers (prefixed bad… so they never clash with other files of the package).

// badBin is the ddbsync binary under test.
func badBin() string {
	if b := os.Getenv("DDBSYNC_BIN"); b != "" {
		return b
	}
	return "../../bin/ddbsync"
}

// badExec runs the binary with args (and extra environment) and returns its
// exit code and everything it printed (stdout then stderr). It fails the test
// when the process outlives timeout.
func badExec(t *testing.T, timeout time.Duration, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, badBin(), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ddbsync %s did not finish within %s:\n%s%s", strings.Join(args, " "), timeout, stdout.String(), stderr.String())
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("ddbsync %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String() + stderr.String()
}

// badWriteFile writes content to dir/name and returns the path.
func badWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// badNoProgress fails when the state dir holds a checkpoint past unapplied
// data of table: a saved stream sequence, or a backfill (meta, data file or
// scan segment) marked done.
func badNoProgress(t *testing.T, e *e2e, table string) {
	t.Helper()
	for k, p := range e.checkpoints() {
		switch {
		case strings.HasPrefix(k, "stream/"+table+"/shard/") && p.Sequence != "":
			t.Errorf("checkpoint %s saved sequence %s although nothing was applied", k, p.Sequence)
		case strings.HasPrefix(k, "backfill/"+table+"/") && p.Done:
			t.Errorf("checkpoint %s is marked done although the backfill failed", k)
		}
	}
}

// badCleanup stops ddbsync, then deletes the scenario's tables and index so
// the shared stack stays small.
func badCleanup(e *e2e, tables ...string) {
	e.t.Cleanup(func() {
		e.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, tb := range tables {
			_, _ = e.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(tb)})
		}
		e.osDo("DELETE", "/"+e.index, nil)
	})
}

// badSinkHost points the pipeline's opensearch sink at host instead of the
// stack's OpenSearch.
func badSinkHost(t *testing.T, e *e2e, host string) {
	t.Helper()
	b, err := os.ReadFile(e.pipeline)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.pipeline, []byte(strings.Replace(string(b), `hosts: ["`+e.os+`"]`, `hosts: ["`+host+`"]`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// badRunFails starts ddbsync, waits for it to exit by itself and checks the
// exit code; it returns the log.
func badRunFails(t *testing.T, e *e2e, want int, timeout time.Duration) string {
	t.Helper()
	e.start()
	if code := e.wait(timeout); code != want {
		t.Fatalf("exit code %d, want %d; log:\n%s", code, want, e.log())
	}
	return e.log()
}

// badErrorLine returns (and logs, for the record) the log line that carries
// the run's final error.
func badErrorLine(t *testing.T, log string) string {
	t.Helper()
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=ERROR") {
			t.Logf("ddbsync said: %s", l)
			return l
		}
	}
	t.Errorf("no ERROR line in the log:\n%s", log)
	return ""
}

// badWant fails unless msg contains every piece (case-sensitive).
func badWant(t *testing.T, msg string, pieces ...string) {
	t.Helper()
	for _, p := range pieces {
		if !strings.Contains(msg, p) {
			t.Errorf("message lacks %q:\n%s", p, msg)
		}
	}
}

// badWantFold fails unless msg contains at least one of the alternatives,
// ignoring case.
func badWantFold(t *testing.T, msg, what string, alternatives ...string) {
	t.Helper()
	low := strings.ToLower(msg)
	for _, a := range alternatives {
		if strings.Contains(low, strings.ToLower(a)) {
			return
		}
	}
	t.Errorf("message does not %s (none of %q):\n%s", what, alternatives, msg)
}

// ---------------------------------------------------------------------------
// Configuration classes: exit 2, every problem with `line N: path: what`,
// a way to fix it, and nothing started (no state dir).

func TestBadInputConfig(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		problems int
		// want: each is a regexp that must match one line of the output.
		want []string
	}{
		{
			name: "malformed YAML: unclosed flow sequence",
			yaml: `version: "2"
p:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
          stream:
            start_position: LATEST
  sink:
    - opensearch:
        hosts: ["http://127.0.0.1:9200"
        index: orders
`,
			problems: 1,
			// The '[' that is never closed is on line 11; the parser notices
			// on line 12. Either is right; line 10 (the "- opensearch:" line)
			// is not.
			want: []string{`^line 1[12]: invalid YAML: .*(',' or '\]'|flow sequence)`},
		},
		{
			name:     "malformed YAML: tab indentation",
			yaml:     "p:\n  source:\n    dynamodb:\n      tables:\n        - table_arn: arn:aws:dynamodb:us-east-1:000000000000:table/orders\n\t  stream: {}\n",
			problems: 1,
			want:     []string{`^line 6: invalid YAML: .*tab`},
		},
		{
			name:     "malformed YAML: bad indentation",
			yaml:     "p:\n  source:\n    dynamodb:\n   tables: []\n",
			problems: 1,
			want:     []string{`^line 4: invalid YAML: `},
		},
		{
			name: "wrong types",
			yaml: `p:
  source:
    dynamodb:
      acknowledgments: sometimes
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:000000000000:table/orders
          scan:
            segments: four
          stream: {}
  sink:
    - opensearch:
        hosts: "http://127.0.0.1:9200"
        index: orders
`,
			problems: 3,
			want: []string{
				`^line 4: p\.source\.dynamodb\.acknowledgments: .*\(got "sometimes"; expected true or false\)$`,
				`^line 8: p\.source\.dynamodb\.tables\[0\]\.scan\.segments: .*\(got "four"; expected .*\)$`,
				`^line 12: p\.sink\[0\]\.opensearch\.hosts: .*expected a list of URLs`,
			},
		},
		{
			name: "unknown keys",
			yaml: `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:000000000000:table/orders
          stream:
            start_postion: LATEST
  sink:
    - opensearch:
        hosts: ["http://127.0.0.1:9200"]
        index: orders
        documnet_id: x
`,
			problems: 2,
			want: []string{
				`^line 7: p\.source\.dynamodb\.tables\[0\]\.stream\.start_postion: unknown key \(did you mean "start_position"\?\)$`,
				`^line 12: p\.sink\[0\]\.opensearch\.documnet_id: unknown key \(did you mean "document_id"\?\)$`,
			},
		},
		{
			name: "bad ARNs",
			yaml: `p:
  source:
    dynamodb:
      aws:
        sts_role_arn: arn:aws:iam::123456789012:user/alice
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:12345:table/orders
          stream: {}
        - table_arn: orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["http://127.0.0.1:9200"]
        index: orders
`,
			problems: 3,
			want: []string{
				`^line 5: p\.source\.dynamodb\.aws\.sts_role_arn: invalid IAM role ARN.*expected arn:aws:iam::<12-digit account>:role/<name>\)$`,
				`^line 7: p\.source\.dynamodb\.tables\[0\]\.table_arn: invalid table ARN: account "12345" is not 12 digits .*expected arn:aws:dynamodb:<region>:<12-digit account>:table/<name>\)$`,
				`^line 9: p\.source\.dynamodb\.tables\[1\]\.table_arn: invalid table ARN: not an ARN \(got "orders"; expected arn:aws:dynamodb:`,
			},
		},
		{
			name: "bad expressions",
			yaml: `p:
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:000000000000:table/orders
          stream: {}
  sink:
    - opensearch:
        hosts: ["http://127.0.0.1:9200"]
        index: "orders-${foo}"
        document_id: "${getMetadata(primary_key)}"
        pipeline: "${OPENSEARCH_PIPELINE}"
`,
			problems: 3,
			want: []string{
				`^line 10: p\.sink\[0\]\.opensearch\.index: invalid format string: unsupported expression \$\{foo\} \(expected \$\{getMetadata\("key"\)\} or \$\{/json/pointer\}\)`,
				`^line 11: p\.sink\[0\]\.opensearch\.document_id: invalid format string: getMetadata needs one quoted key`,
				`^line 12: p\.sink\[0\]\.opensearch\.pipeline: .*expected "\$\{env:OPENSEARCH_PIPELINE\}"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := badWriteFile(t, dir, "pipeline.yaml", tc.yaml)
			check := func(cmd string, code int, out string) {
				t.Helper()
				if code != 2 {
					t.Errorf("%s: exit code %d, want 2:\n%s", cmd, code, out)
				}
				header := fmt.Sprintf("%s: %d problem(s):", file, tc.problems)
				if !strings.Contains(out, header) {
					t.Errorf("%s: output lacks %q (every problem at once):\n%s", cmd, header, out)
				}
				lines := strings.Split(out, "\n")
				for _, w := range tc.want {
					re := regexp.MustCompile(w)
					found := false
					for _, l := range lines {
						if re.MatchString(l) {
							found = true
						}
					}
					if !found {
						t.Errorf("%s: no line matches %s; output:\n%s", cmd, w, out)
					}
				}
			}
			code, out := badExec(t, 30*time.Second, nil, "validate", "-f", file)
			check("validate", code, out)
			state := filepath.Join(dir, "state")
			code, out = badExec(t, 30*time.Second, nil, "run", "-f", file, "--state-dir", state, "--metrics-addr", "")
			check("run", code, out)
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("run with an invalid file created its state dir (it must stop before anything runs): %v", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Source-side classes.

// TestBadInputMissingTable: a table_arn naming a table that does not exist
// stops run with exit 1 and a message naming the table.
func TestBadInputMissingTable(t *testing.T) {
	e := newE2E(t, "missing", "", "")
	badCleanup(e, e.table)
	missing := e.table + "-nope"
	real := e.table
	e.table = missing
	e.writePipeline("", "")
	e.table = real
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, "table "+missing, "does not exist")
	badNoProgress(t, e, missing)
}

// badCreateTable creates a table (pk S) with the given stream spec (nil: none)
// in e's namespace and waits for it.
func badCreateTable(t *testing.T, e *e2e, name string, spec *types.StreamSpecification) {
	t.Helper()
	_, err := e.ddb.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  spec,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(e.ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	if err := w.Wait(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("table %s not active: %v", name, err)
	}
}

// TestBadInputStreamDisabled: a stream block on a table without a stream
// fails with a message naming the table and saying how to enable it.
func TestBadInputStreamDisabled(t *testing.T) {
	e := newE2E(t, "nostream", "", "")
	other := e.table + "-ns"
	badCleanup(e, e.table, other)
	badCreateTable(t, e, other, nil)
	e.table = other
	e.writePipeline("", "")
	e.put(key1("a")) // an item that must not be lost
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, "table "+other, "no stream", "NEW_AND_OLD_IMAGES")
	badWantFold(t, msg, "say how to enable the stream", "update-table", "enable")
	badNoProgress(t, e, other)
}

// TestBadInputKeysOnlyStream: a KEYS_ONLY stream carries no item images;
// run refuses it, naming the table, the view type and the fix.
func TestBadInputKeysOnlyStream(t *testing.T) {
	e := newE2E(t, "keysonly", "", "")
	other := e.table + "-ko"
	badCleanup(e, e.table, other)
	badCreateTable(t, e, other, &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly})
	e.table = other
	e.writePipeline("", "")
	e.put(key1("a"))
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, "table "+other, "KEYS_ONLY", "NEW_AND_OLD_IMAGES")
	badNoProgress(t, e, other)
}

// TestBadInputPITROffWithExport: an export backfill of a table without
// point-in-time recovery fails naming the table and how to enable it.
func TestBadInputPITROffWithExport(t *testing.T) {
	e := newE2EStackKey(t, "nopitr")
	badCleanup(e, e.table)
	e.put(key1("a"))
	e.writePipeline(e.exportBlock(""), "")
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, "table "+e.table, "point-in-time recovery is disabled", "update-continuous-backups", "PointInTimeRecoveryEnabled=true")
	if strings.Contains(log, "started export") {
		t.Error("an export was started although PITR is off")
	}
	badNoProgress(t, e, e.table)
}

// TestBadInputMissingBucket: an export to a bucket that does not exist fails
// with a message naming the bucket.
func TestBadInputMissingBucket(t *testing.T) {
	e := newE2EStackKey(t, "nobucket")
	badCleanup(e, e.table)
	e.put(key1("a"))
	e.enablePITR()
	bucket := fmt.Sprintf("ddbsync-no-such-bucket-%d", time.Now().UnixNano()%1e9)
	e.writePipeline(fmt.Sprintf("export:\n  s3_bucket: %s\n  s3_prefix: e2e/%s\nstream:\n  start_position: LATEST", bucket, e.table), "")
	log := badRunFails(t, e, 1, 2*time.Minute)
	msg := badErrorLine(t, log)
	badWant(t, msg, "table "+e.table, bucket)
	badWantFold(t, msg, "say the bucket does not exist", "NoSuchBucket", "does not exist")
	// The bucket above may come from the export's FailureMessage (the
	// emulator's names it; AWS's need not): ddbsync itself should say which
	// setting to fix.
	badWantFold(t, msg, "say how to fix it (create the bucket or correct export.s3_bucket)", "s3_bucket", "create the bucket")
	badNoProgress(t, e, e.table)
}

// TestBadInputS3AccessDenied: the export is written (by the export service,
// with its own credentials) but ddbsync's credentials may not read it: the
// error names the S3 key, says access was denied and how to fix it.
func TestBadInputS3AccessDenied(t *testing.T) {
	// The stack's access key with a wrong secret: DynamoDB Local and the
	// export emulator do not check signatures (the emulator writes to S3 with
	// its own credentials), the S3 server does and answers 403.
	e := newE2EStackKey(t, "s3denied")
	badCleanup(e, e.table)
	e.put(key1("a"))
	e.enablePITR()
	e.secret = "wrong-secret-for-s3"
	e.writePipeline(e.exportBlock(""), "")
	log := badRunFails(t, e, 1, 2*time.Minute)
	msg := badErrorLine(t, log)
	key := regexp.MustCompile(`s3://` + regexp.QuoteMeta(stackEnv(t, "DDBSYNC_EXPORT_BUCKET")+"/e2e/"+e.table+"/AWSDynamoDB/") + `[0-9]+-[0-9a-f]+/manifest-summary\.json`)
	if !key.MatchString(msg) {
		t.Errorf("error does not name the manifest's S3 key (%s):\n%s", key, msg)
	}
	badWantFold(t, msg, "say access was denied", "access denied", "AccessDenied", "403")
	badWantFold(t, msg, "say how to fix it (credentials / s3:GetObject permission)", "credential", "permission", "s3:GetObject")
	badNoProgress(t, e, e.table)
}

// ---------------------------------------------------------------------------
// OpenSearch connectivity classes: fail at start-up, naming the host.

// TestBadInputOpenSearchUnreachable: nothing listens on the sink's port;
// run waits for it up to --startup-timeout (here 3 s, through the
// environment), then exits 1 naming the host and the bound.
func TestBadInputOpenSearchUnreachable(t *testing.T) {
	t.Setenv("DDBSYNC_STARTUP_TIMEOUT", "3s")
	e := newE2E(t, "osdown", "", "")
	badCleanup(e, e.table)
	e.put(key1("a"))
	host := "http://" + freeAddr(t)
	e.writePipeline("", "")
	badSinkHost(t, e, host)
	start := time.Now()
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, host, "connection refused", "--startup-timeout")
	badWantFold(t, msg, "say how to fix it", "is OpenSearch running", "listening")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s to give up on a closed port", d)
	}
	badNoProgress(t, e, e.table)
}

// badAuthServer answers 401 to every request and records whether it was sent
// credentials.
func badAuthServer(t *testing.T) (*httptest.Server, *bool) {
	var gotAuth bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok {
			gotAuth = true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Unauthorized")
	}))
	t.Cleanup(srv.Close)
	return srv, &gotAuth
}

// TestBadInputOpenSearch401: wrong credentials fail at start-up with a
// message naming the host and saying to check username/password, without
// printing the password.
func TestBadInputOpenSearch401(t *testing.T) {
	const password = "Wr0ng-pw-401-QQ"
	srv, gotAuth := badAuthServer(t)
	e := newE2E(t, "os401", "", "")
	badCleanup(e, e.table)
	e.put(key1("a"))
	e.writePipeline("", "username: admin\npassword: \"${env:BAD_OS_PASSWORD}\"")
	badSinkHost(t, e, srv.URL)
	t.Setenv("BAD_OS_PASSWORD", password) // inherited by the process e.start runs
	log := badRunFails(t, e, 1, 60*time.Second)
	msg := badErrorLine(t, log)
	badWant(t, msg, srv.URL, "401", "check username/password")
	if strings.Contains(log, password) {
		t.Errorf("the log prints the password:\n%s", log)
	}
	if !*gotAuth {
		t.Error("ddbsync sent no basic auth credentials")
	}
	badNoProgress(t, e, e.table)
}

// badTLSProxy is an HTTPS server with httptest's self-signed certificate that
// forwards to the stack's OpenSearch; caPEM is the file holding its
// certificate.
func badTLSProxy(t *testing.T, target string) (srv *httptest.Server, caPEM string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM = filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caPEM, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caPEM
}

// TestBadInputTLSMismatch: a self-signed server certificate is refused with a
// certificate error naming the host and the fix; `insecure: true` or `cert`
// with the server's CA make it work; an https:// URL for a plain-HTTP server
// says to use http://.
func TestBadInputTLSMismatch(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		srv, _ := badTLSProxy(t, stackEnv(t, "OPENSEARCH_URL"))
		e := newE2E(t, "tlsbad", "", "")
		badCleanup(e, e.table)
		e.put(key1("a"))
		e.writePipeline("", "")
		badSinkHost(t, e, srv.URL)
		log := badRunFails(t, e, 1, 60*time.Second)
		msg := badErrorLine(t, log)
		badWant(t, msg, srv.URL, "certificate", "set cert to the CA file")
		badNoProgress(t, e, e.table)
	})
	t.Run("certificate for another host name", func(t *testing.T) {
		// httptest's certificate is for 127.0.0.1, ::1 and example.com: with
		// its CA trusted, "localhost" fails only on the name.
		srv, ca := badTLSProxy(t, stackEnv(t, "OPENSEARCH_URL"))
		e := newE2E(t, "tlsname", "", "")
		badCleanup(e, e.table)
		host := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		e.writePipeline("", "cert: "+ca)
		badSinkHost(t, e, host)
		log := badRunFails(t, e, 1, 60*time.Second)
		msg := badErrorLine(t, log)
		badWant(t, msg, host, "not valid for this host name")
		if strings.Contains(msg, "set cert to the CA file") {
			t.Error("the hint says to set cert, which is set and right: the host name is what is wrong")
		}
		badNoProgress(t, e, e.table)
	})
	t.Run("https URL for a plain HTTP server", func(t *testing.T) {
		e := newE2E(t, "tlsplain", "", "")
		badCleanup(e, e.table)
		host := strings.Replace(e.os, "http://", "https://", 1)
		e.writePipeline("", "")
		badSinkHost(t, e, host)
		log := badRunFails(t, e, 1, 60*time.Second)
		msg := badErrorLine(t, log)
		badWant(t, msg, host, "use an http:// host")
		badNoProgress(t, e, e.table)
	})
	for _, mode := range []string{"insecure", "cert"} {
		t.Run("works with "+mode, func(t *testing.T) {
			srv, ca := badTLSProxy(t, stackEnv(t, "OPENSEARCH_URL"))
			e := newE2E(t, "tls"+mode, "", "")
			badCleanup(e, e.table)
			extra := "insecure: true"
			if mode == "cert" {
				extra = "cert: " + ca
			}
			e.writePipeline("", extra)
			badSinkHost(t, e, srv.URL)
			e.start()
			e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
			e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("2")})
			e.converge(60 * time.Second)
			if code := e.stop(); code != 0 {
				t.Fatalf("exit %d:\n%s", code, e.log())
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Document classes.

// badStreams is a DynamoDB Streams client in e's namespace.
func badStreams(t *testing.T, e *e2e) *dynamodbstreams.Client {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(e.ctx, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(e.accessKey, e.secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	return dynamodbstreams.NewFromConfig(cfg)
}

// badRecordSeq returns the shard and sequence number of the first stream
// record of e's table whose pk is pk.
func badRecordSeq(t *testing.T, e *e2e, pk string) (shard, seq string) {
	t.Helper()
	out, err := e.ddb.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	st := badStreams(t, e)
	for _, sh := range describeShards(t, st, arn) {
		id := aws.ToString(sh.ShardId)
		it, err := shardIterator(e.ctx, st, arn, id, "TRIM_HORIZON", "")
		if err != nil {
			t.Fatal(err)
		}
		for page := 0; it != nil && page < 50; page++ {
			r, err := st.GetRecords(e.ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatalf("get records %s: %v", id, err)
			}
			for _, rec := range r.Records {
				if v, ok := rec.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok && v.Value == pk {
					return id, aws.ToString(rec.Dynamodb.SequenceNumber)
				}
			}
			if len(r.Records) == 0 {
				break
			}
			it = r.NextShardIterator
		}
	}
	t.Fatalf("no stream record for pk %q", pk)
	return "", ""
}

// badDLQ reads the complete lines of the dead-letter file.
func badDLQ(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]json.RawMessage
	lines := strings.Split(string(b), "\n")
	for _, l := range lines[:len(lines)-1] { // the last piece is "" or a line being written
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("dlq line is not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

// TestBadInputMappingConflict: a document OpenSearch rejects for good (a
// string where the mapping says object). Without dlq_file it goes to the
// default dead-letter file under the state directory and the stream goes
// on (issue 8, class 7); with dlq_file, the rejected record becomes a
// replayable dead-letter entry there, and the stream goes on.
func TestBadInputMappingConflict(t *testing.T) {
	e := newE2E(t, "mapping", "", "")
	badCleanup(e, e.table)
	e.writePipeline("", "")
	e.start()
	e.put(map[string]types.AttributeValue{"pk": s("good"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1")}}})
	e.converge(30 * time.Second)
	badItem := map[string]types.AttributeValue{"pk": s("bad"), "f": s("not an object"), "other": n("12345678901234567890.5")}
	e.put(badItem)
	e.put(map[string]types.AttributeValue{"pk": s("after"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("2")}}})
	defaultDLQ := filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")
	poll(t, "bad in the default dead-letter file, the rest applied", 60*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		d := e.compare()
		if _, err := os.Stat(defaultDLQ); err != nil {
			return false, nil
		}
		return len(badDLQ(t, defaultDLQ)) == 1 && len(d.missing) == 1 && d.missing[0] == "bad" && len(d.extra)+len(d.stale) == 0, nil
	})
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d, want 0 (a rejected document never stops run):\n%s", code, e.log())
	}

	// With dlq_file a record refused the same way is dead-lettered there,
	// and the stream continues.
	dlq := filepath.Join(e.dir, "dlq.jsonl")
	e.writePipeline("", "dlq_file: "+dlq)
	e.start()
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": s("still not an object"), "other": n("1")})
	e.put(map[string]types.AttributeValue{"pk": s("later"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("4")}}})
	badItem = map[string]types.AttributeValue{"pk": s("bad"), "f": s("still not an object"), "other": n("1")}
	deadline := time.Now().Add(60 * time.Second)
	var entries []map[string]json.RawMessage
	for {
		d := e.compare()
		if _, err := os.Stat(dlq); err == nil {
			entries = badDLQ(t, dlq)
		}
		if len(entries) > 0 && len(d.missing) == 1 && d.missing[0] == "bad" && len(d.extra)+len(d.stale) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want exactly 'bad' missing and dead-lettered: %s; %d dlq entries", d, len(entries))
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(entries) != 1 {
		t.Fatalf("%d dlq entries, want 1", len(entries))
	}
	en := entries[0]
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(en[k], &v)
		return v
	}
	var status int
	var version int64
	var errObj struct{ Type, Reason string }
	var key struct {
		PartitionKey string `json:"partition_key"`
	}
	_ = json.Unmarshal(en["status"], &status)
	_ = json.Unmarshal(en["version"], &version)
	_ = json.Unmarshal(en["error"], &errObj)
	_ = json.Unmarshal(en["key"], &key)
	if str("id") != "bad" || str("action") != "index" || str("table") != e.table || str("index") != e.index ||
		str("version_type") != "external" || version <= 0 || status != 400 ||
		errObj.Type != "mapper_parsing_exception" || errObj.Reason == "" || key.PartitionKey != "bad" {
		t.Errorf("dlq entry lacks what a replay needs: %s", badJSON(en))
	}
	// The document is byte for byte the one the converter makes (exact digits).
	want, err := ddbjson.Item(badItem)
	if err != nil {
		t.Fatal(err)
	}
	if string(en["document"]) != string(want) {
		t.Errorf("dlq document %s, want %s", en["document"], want)
	}
	if !strings.Contains(e.log(), "document rejected; it goes to the dead-letter queue") {
		t.Error("the rejection was not logged")
	}
	// A later valid change of the item converges.
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("3")}}})
	e.converge(30 * time.Second)
}

func badJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBadInputLongID: keys whose natural _id ("pk|sk") is over OpenSearch's
// 512-byte limit get the documented "sha256:<hex>" _id; 512 bytes exactly
// keeps the natural one; the limit is in bytes, not characters. Inserts,
// updates and deletes converge on both the scan and the stream path.
func TestBadInputLongID(t *testing.T) {
	e := newE2E(t, "longid", types.ScalarAttributeTypeS, "")
	badCleanup(e, e.table)
	k := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	item := func(pk, sk, v string) map[string]types.AttributeValue {
		m := k(pk, sk)
		m["v"] = s(v)
		return m
	}
	type key struct{ pk, sk string }
	keys := []key{
		{strings.Repeat("a", 600), "s"},                      // 602 bytes
		{strings.Repeat("b", 300), strings.Repeat("c", 300)}, // 601 bytes
		{strings.Repeat("d", 511), "x"},                      // 513 bytes
		{strings.Repeat("e", 255), strings.Repeat("f", 256)}, // 512 bytes: kept
		{strings.Repeat("🎉", 200), "s"},                      // 802 bytes, 202 characters
		{strings.Repeat("g", 100), strings.Repeat("ж", 200)}, // 501 bytes, 301 characters: kept
	}
	// Half before start (scan backfill), the rest through the stream.
	for _, kk := range keys[:3] {
		e.put(item(kk.pk, kk.sk, "scan"))
	}
	e.writePipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", "")
	e.start()
	for _, kk := range keys[3:] {
		e.put(item(kk.pk, kk.sk, "stream"))
	}
	e.converge(60 * time.Second)
	docs := e.indexDocs()
	for _, kk := range keys {
		natural := kk.pk + "|" + kk.sk
		id := natural
		if len(natural) > 512 {
			sum := sha256.Sum256([]byte(natural))
			id = "sha256:" + hex.EncodeToString(sum[:])
		}
		doc, ok := docs[id]
		if !ok {
			t.Errorf("no document with _id %.80q (natural id of %d bytes)", id, len(natural))
			continue
		}
		var src struct{ PK, SK string }
		if err := json.Unmarshal([]byte(doc), &src); err != nil || src.PK != kk.pk || src.SK != kk.sk {
			t.Errorf("document %.80q does not hold its item's key readably: %.200s", id, doc)
		}
	}
	// Updates and deletes reach the hashed documents.
	e.put(item(keys[0].pk, keys[0].sk, "updated"))
	e.del(k(keys[1].pk, keys[1].sk))
	e.del(k(keys[4].pk, keys[4].sk))
	d := e.converge(60 * time.Second)
	if d.items != len(keys)-2 {
		t.Fatalf("%d items, want %d", d.items, len(keys)-2)
	}
}

// badBigString is a string of n bytes with a varied pattern and some
// multi-byte characters, so a truncation or re-encoding anywhere shows.
func badBigString(n int, seed string) string {
	var b strings.Builder
	for i := 0; b.Len() < n-64; i++ {
		fmt.Fprintf(&b, "%s-%07d-ünï-🎉|", seed, i)
	}
	for b.Len() < n {
		b.WriteByte('z')
	}
	return b.String()
}

// TestBadInputLargestItem: an item at DynamoDB's 400 KB limit is replicated
// exactly by the scan backfill and by the stream (whose update record also
// carries the ~400 KB old image).
func TestBadInputLargestItem(t *testing.T) {
	e := newE2E(t, "bigitem", "", "")
	badCleanup(e, e.table)
	// 400 KB = 409,600 bytes counting attribute names and values.
	const size = 409600 - 200
	big := func(pk, seed string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "n": n("1"), "payload": s(badBigString(size, seed))}
	}
	// The size is the limit: DynamoDB refuses 1 KB more.
	tooBig := big("toobig", "X")
	tooBig["more"] = s(strings.Repeat("m", 1024))
	if _, err := e.ddb.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: tooBig}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Fatalf("DynamoDB did not refuse an item over 400 KB for its size (%v): this test's item is not the largest", err)
	}
	e.put(big("scanned", "A"))
	e.writePipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", "")
	e.start()
	e.put(big("streamed", "B"))
	e.converge(90 * time.Second)
	e.put(big("scanned", "C")) // an update: new and old image, ~800 KB of record
	e.put(big("streamed", "D"))
	d := e.converge(90 * time.Second)
	if d.items != 2 {
		t.Fatalf("%d items, want 2", d.items)
	}
	for id, doc := range e.indexDocs() {
		if len(doc) < size {
			t.Errorf("document %s is %d bytes, smaller than the item", id, len(doc))
		}
	}
}

// TestBadInputUnicodeAndControlCharacters: keys and values with emoji, '|',
// NUL and other control characters, line/paragraph separators,
// right-to-left marks, a BOM and combining characters; attribute names in
// several scripts. Scan and stream paths converge exactly, deletes too.
func TestBadInputUnicodeAndControlCharacters(t *testing.T) {
	e := newE2E(t, "unicode", types.ScalarAttributeTypeS, "")
	badCleanup(e, e.table)
	var ctl strings.Builder
	for r := rune(0); r < 0x20; r++ {
		ctl.WriteRune(r)
	}
	ctl.WriteString("\u007f\u0085\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069\ufeff\ufffd e\u0301 🎉👩‍👩‍👧 \"\\/<>&'")
	value := ctl.String()
	type key struct{ pk, sk string }
	keys := []key{
		{"🎉", "ключ"},
		{"a|b", "c|d"},
		{"\u200fשלום\u202e", "x\u2028y\u2029z"},
		{"tab\tnl\nend", "\u0001\u001f\u007f"},
		{"nul\u0000inside", "s\u0000"},
		{"\ufeffbom", "e\u0301"},
		{"中文", "日本語 ﷽"},
		{"  spaces  ", " "},
		{`"quote\`, "<&>"},
		{".", ".."},
	}
	item := func(kk key, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk": s(kk.pk), "sk": s(kk.sk), "value": s(v),
			"ключ": s(v), "🎉": s("x"), "rtl\u200fname": n("1"), "ctl\u0001\u001fname": s(v),
			"list": &types.AttributeValueMemberSS{Value: []string{v, "\u2028", "🎉"}},
			"map":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k\u202ey": s(v)}},
		}
	}
	for _, kk := range keys[:5] {
		e.put(item(kk, value))
	}
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST", "")
	e.start()
	for _, kk := range keys[5:] {
		e.put(item(kk, value))
	}
	e.converge(60 * time.Second)
	// Updates and deletes through the stream, on both halves.
	e.put(item(keys[0], value+"\u0000updated"))
	e.put(item(keys[6], "\u202e"+value))
	e.del(map[string]types.AttributeValue{"pk": s(keys[4].pk), "sk": s(keys[4].sk)})
	e.del(map[string]types.AttributeValue{"pk": s(keys[8].pk), "sk": s(keys[8].sk)})
	d := e.converge(60 * time.Second)
	if d.items != len(keys)-2 {
		t.Fatalf("%d items, want %d", d.items, len(keys)-2)
	}
}

// TestBadInputExpressionUnresolvable: a format string that cannot be
// evaluated for one item (routing "${/tenant}" on an item without tenant).
// The item is dead-lettered — to the default file under the state
// directory without dlq_file (issue 8, class 7), to dlq_file with it — with
// the option and the missing value, and the stream goes on (as Data
// Prepper does for an index it cannot resolve).
func TestBadInputExpressionUnresolvable(t *testing.T) {
	for _, withFile := range []bool{false, true} {
		t.Run(fmt.Sprintf("dlq_file=%v", withFile), func(t *testing.T) { badUnresolvable(t, withFile) })
	}
}

func badUnresolvable(t *testing.T, withFile bool) {
	e := newE2E(t, "unresolvable", "", "")
	badCleanup(e, e.table)
	dlq := filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")
	extra := `routing: "${/tenant}"`
	if withFile {
		dlq = filepath.Join(e.dir, "dlq.jsonl")
		extra += "\ndlq_file: " + dlq
	}
	e.writePipeline("", extra)
	e.start()
	e.put(map[string]types.AttributeValue{"pk": s("a"), "tenant": s("t1")})
	e.converge(30 * time.Second)
	e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("1")}) // no tenant
	e.put(map[string]types.AttributeValue{"pk": s("c"), "tenant": s("t2")})
	deadline := time.Now().Add(60 * time.Second)
	var entries []map[string]json.RawMessage
	for {
		if e.proc != nil {
			select {
			case <-e.procDone:
				code := e.proc.ProcessState.ExitCode()
				e.proc = nil
				t.Fatalf("run stopped (exit %d) instead of dead-lettering the item:\n%s", code, e.log())
			default:
			}
		}
		d := e.compare()
		if _, err := os.Stat(dlq); err == nil {
			entries = badDLQ(t, dlq)
		}
		if len(entries) > 0 && len(d.missing) == 1 && d.missing[0] == "b" && len(d.extra)+len(d.stale) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want exactly 'b' missing and dead-lettered: %s; %d dlq entries", d, len(entries))
		}
		time.Sleep(300 * time.Millisecond)
	}
	var id string
	_ = json.Unmarshal(entries[0]["id"], &id)
	if id != "b" || !strings.Contains(string(entries[0]["error"]), "/tenant") || len(entries[0]["document"]) < 3 {
		t.Errorf("dlq entry lacks what a replay needs: %s", badJSON(entries[0]))
	}
}
