package opensearch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ddbsync/ddbsync/internal/config"
)

// SigV4 service names: a managed domain signs for "es", a Serverless
// collection for "aoss".
const (
	serviceManaged    = "es"
	serviceServerless = "aoss"
)

// headerContentSHA256 carries the hex SHA-256 of the body. OpenSearch
// Serverless refuses a request without it; managed domains accept it, so
// every request carries it (and signs it).
const headerContentSHA256 = "X-Amz-Content-Sha256"

// sigV4 signs requests with the AWS SDK's v4 signer.
type sigV4 struct {
	creds   aws.CredentialsProvider
	region  string
	service string
	signer  *v4.Signer
	now     func() time.Time // the signing clock; time.Now outside tests
}

// newSigner returns the SigV4 signer for the sink's `aws` block: service
// "es" for a managed domain, "aoss" for a serverless collection. awsCfg
// carries the credentials (the block's assumed role included); the block's
// region wins over awsCfg's.
func newSigner(a *config.AWS, awsCfg *aws.Config) (*sigV4, error) {
	if awsCfg == nil || awsCfg.Credentials == nil {
		return nil, errors.New("opensearch: aws is set but the sink was given no AWS configuration to sign requests with")
	}
	region := awsCfg.Region
	if a.Region != "" {
		region = a.Region
	}
	if region == "" {
		return nil, errors.New("opensearch: aws.region is not set")
	}
	service := serviceManaged
	if a.Serverless {
		service = serviceServerless
	}
	return &sigV4{creds: awsCfg.Credentials, region: region, service: service, signer: v4.NewSigner(), now: time.Now}, nil
}

// sign adds X-Amz-Content-Sha256, X-Amz-Date, X-Amz-Security-Token (with
// temporary credentials) and Authorization to req, which it may read the
// body of (and then replaces it).
func (s *sigV4) sign(req *http.Request) error {
	ctx := req.Context()
	creds, err := s.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve AWS credentials: %w", err)
	}
	hash, err := bodySHA256(req)
	if err != nil {
		return err
	}
	req.Header.Set(headerContentSHA256, hash)
	if err := s.signer.SignHTTP(ctx, creds, req, hash, s.service, s.region, s.now()); err != nil {
		return fmt.Errorf("sign %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// bodySHA256 is the hex SHA-256 of the request body (of nothing, without
// one). It reads a fresh copy through GetBody when the request has one, else
// reads the body and puts a copy back.
func bodySHA256(req *http.Request) (string, error) {
	h := sha256.New()
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		b, err := req.GetBody()
		if err != nil {
			return "", fmt.Errorf("read request body to sign it: %w", err)
		}
		defer b.Close()
		if _, err := io.Copy(h, b); err != nil {
			return "", fmt.Errorf("read request body to sign it: %w", err)
		}
	default:
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return "", fmt.Errorf("read request body to sign it: %w", err)
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// signingTransport signs each request before sending it; Prepare's per-host
// checks go straight to the transport and need it too.
type signingTransport struct {
	next   http.RoundTripper
	signer *sigV4
}

func (t signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not change its request
	if err := t.signer.sign(req); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (t signingTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
