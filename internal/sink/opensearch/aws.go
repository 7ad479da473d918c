package opensearch

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v2/signer"
	"github.com/opensearch-project/opensearch-go/v2/signer/awsv2"

	"github.com/ddbsync/ddbsync/internal/config"
)

// newSigner returns the SigV4 signer for the sink's `aws` block: service
// "es" for a managed domain, "aoss" for a serverless collection. awsCfg
// carries the credentials (the block's assumed role included); the block's
// region wins over awsCfg's.
func newSigner(a *config.AWS, awsCfg *aws.Config) (signer.Signer, error) {
	if awsCfg == nil {
		return nil, errors.New("opensearch: aws is set but the sink was given no AWS configuration to sign requests with")
	}
	cfg := awsCfg.Copy()
	if a.Region != "" {
		cfg.Region = a.Region
	}
	if cfg.Region == "" {
		return nil, errors.New("opensearch: aws.region is not set")
	}
	service := "es"
	if a.Serverless {
		service = "aoss"
	}
	return awsv2.NewSignerWithService(cfg, service)
}

// signingTransport signs each request before sending it; Prepare's per-host
// checks go straight to the transport and need it too.
type signingTransport struct {
	next   http.RoundTripper
	signer signer.Signer
}

func (t signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not change its request
	if err := t.signer.SignRequest(req); err != nil {
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
