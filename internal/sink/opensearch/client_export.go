package opensearch

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v2"

	"github.com/ddbsync/ddbsync/internal/config"
)

// NewClient builds the client the sink would use for cfg — same hosts and
// fail-over, TLS, timeouts, basic auth, and SigV4 signing when cfg has an
// `aws` block (awsCfg then carries the credentials; it may be nil
// otherwise) — for tools that read the index (verify).
func NewClient(cfg *config.OpenSearch, awsCfg *aws.Config) (*opensearch.Client, error) {
	rt, err := newHTTPTransport(cfg)
	if err != nil {
		return nil, err
	}
	var tr http.RoundTripper = rt
	if cfg.AWS != nil {
		sig, err := newSigner(cfg.AWS, awsCfg)
		if err != nil {
			return nil, err
		}
		tr = signingTransport{next: rt, signer: sig}
	}
	return newClient(cfg, tr)
}
