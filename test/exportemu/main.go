// Command exportemu is the test stack's export emulator (DESIGN.md §5): a DynamoDB API proxy in
// front of DynamoDB Local that answers ExportTableToPointInTime, DescribeExport, ListExports,
// DescribeContinuousBackups and UpdateContinuousBackups itself — writing exports in the exact
// AWS layout into the S3 server — and forwards every other call unchanged. Test-only code.
//
//	exportemu -port 18001 -upstream http://127.0.0.1:18000 -s3 http://127.0.0.1:19000
//
// Every flag defaults from the stack's environment (test/stack/env.sh); see README.md.
package main

import (
	"context"
	crand "crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "exportemu:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("exportemu", flag.ContinueOnError)
	port := fs.Int("port", envInt("DDB_PROXY_PORT", 18001), "listen on 127.0.0.1:`port`")
	upstreamURL := fs.String("upstream", "http://127.0.0.1:"+env("DDB_PORT", "18000"), "DynamoDB Local `URL`")
	s3URL := fs.String("s3", env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:19000"), "S3 server `URL` (path-style)")
	files := fs.Int("files", envInt("EXPORTEMU_FILES", 4), "data files per export")
	delay := fs.Duration("delay", envDuration("EXPORTEMU_DELAY", 1500*time.Millisecond), "wait before an export turns COMPLETED")
	pitr := fs.String("pitr-default", env("EXPORTEMU_PITR_DEFAULT", "DISABLED"), "PITR state of tables not configured: ENABLED or DISABLED")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	up, err := url.Parse(*upstreamURL)
	if err != nil || up.Host == "" {
		return fmt.Errorf("-upstream %q: want a URL like http://127.0.0.1:18000", *upstreamURL)
	}
	if *pitr != "ENABLED" && *pitr != "DISABLED" {
		return fmt.Errorf("-pitr-default %q: want ENABLED or DISABLED", *pitr)
	}
	if *files < 1 {
		return fmt.Errorf("-files %d: want at least 1", *files)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	region := env("AWS_REGION", "us-east-1")
	akid, secret := env("AWS_ACCESS_KEY_ID", "ddbsynclocal"), env("AWS_SECRET_ACCESS_KEY", "ddbsynclocalsecret")
	s3c := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(*s3URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
	})

	var seed [32]byte
	_, _ = crand.Read(seed[:])
	cfg := config{
		Upstream: up, Files: *files, Delay: *delay, PITRDefault: *pitr == "ENABLED",
		Identity: identity{AccessKey: akid, Region: region},
	}
	srv := newServer(cfg, log, &upstream{endpoint: up.String(), client: newUpstreamClient(), signer: v4.NewSigner(), secret: secret},
		s3Store{client: s3c}, rand.New(rand.NewChaCha8(seed)), time.Now)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	log.Info("exportemu ready", "addr", ln.Addr().String(), "upstream", up.String(), "s3", *s3URL,
		"files", *files, "delay", delay.String(), "pitr_default", *pitr)
	return srv.Serve(ctx, ln)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}
