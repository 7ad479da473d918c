//go:build integration

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// StackHint says how to get the environment the harness needs.
const StackHint = "run `bash test/stack/stack-up.sh` and `. test/stack/env.sh` (or `make test`)"

// Env returns the variable k, failing the test when it is unset: these
// suites never skip.
func Env(tb testing.TB, k string) string {
	tb.Helper()
	v := os.Getenv(k)
	if v == "" {
		tb.Fatalf("%s is not set: %s", k, StackHint)
	}
	return v
}

// Binary is the ddbsync under test: $DDBSYNC_BIN, else bin/ddbsync of
// this checkout (the suites run two levels below the root).
func Binary(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("DDBSYNC_BIN")
	if bin == "" {
		bin = "../../bin/ddbsync"
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		tb.Fatalf("ddbsync binary %s: %v (run `make build` or set DDBSYNC_BIN)", abs, err)
	}
	return abs
}

// Namespace is a DynamoDB Local database: access key and region. Its
// ROLLOVER and DILATE_TIME test controls act on every table in it, and it
// slows down as tables with streams come and go, so scenarios each take
// one of their own.
type Namespace struct {
	AccessKey, Secret, Region string
}

// FreshNamespace is a namespace no other scenario uses (letters and digits
// only: DynamoDB Local's rule for access keys).
func FreshNamespace(tb testing.TB, prefix string) Namespace {
	return Namespace{AccessKey: prefix + RandomHex(tb, 12), Secret: prefix + "secret", Region: "us-east-1"}
}

// StackNamespace uses the stack's own credentials (the only ones the S3
// server knows: for exports) in region.
func StackNamespace(tb testing.TB, region string) Namespace {
	return Namespace{AccessKey: Env(tb, "AWS_ACCESS_KEY_ID"), Secret: Env(tb, "AWS_SECRET_ACCESS_KEY"), Region: region}
}

// StackRegion is a region of its own for a stack-key table ("e2e-<hex>";
// DynamoDB Local accepts any name).
func StackRegion(tb testing.TB, prefix string) string { return prefix + "-" + RandomHex(tb, 8) }

// Clients are the DynamoDB clients of a namespace: Direct talks to
// DynamoDB Local itself (fast; what the workload and the checker use),
// Emu to $AWS_ENDPOINT_URL_DYNAMODB, the export emulator in front of it
// (PITR and export calls).
func Clients(tb testing.TB, ns Namespace) (direct, emu *dynamodb.Client) {
	tb.Helper()
	Env(tb, "AWS_ENDPOINT_URL_DYNAMODB")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(ns.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ns.AccessKey, ns.Secret, "")))
	if err != nil {
		tb.Fatalf("load AWS config: %v", err)
	}
	emu = dynamodb.NewFromConfig(cfg)
	direct = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:" + Env(tb, "DDB_PORT"))
	})
	return direct, emu
}

// RandomHex returns n hex digits.
func RandomHex(tb testing.TB, n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)[:n]
}

// Sleep waits d or until ctx ends (retry.Sleep), for the suites: a wait
// that ends with the test.
func Sleep(ctx context.Context, d time.Duration) { _ = retry.Sleep(ctx, d) }

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
