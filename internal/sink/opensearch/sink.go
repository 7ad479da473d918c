// Package opensearch is the OpenSearch sink: it writes batches of change
// events as _bulk requests (external versions, one request in flight per
// caller), classifies every item (done, superseded, retry, dead-letter),
// retries transient failures with capped exponential backoff and jitter,
// dead-letters rejected documents (dlq_file, dlq.s3, or a default file
// under the state directory), and manages the index and its
// template at start-up. Write returns nil only when every event is done
// (DESIGN §2.1), so the caller's checkpoint never passes an unapplied change.
package opensearch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Log attribute keys.
const (
	keyTable  = "table"
	keyIndex  = "index"
	keyID     = "id"
	keyStatus = "status"
	keyHost   = "host"
)

// Options are the sink's collaborators.
type Options struct {
	// Logger receives the sink's logs; nil discards them.
	Logger *slog.Logger
	// Registerer registers the sink's metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// HTTPTransport replaces the transport built from the TLS and timeout
	// options (tests). Nil builds it from the config.
	HTTPTransport http.RoundTripper
	// AWSConfig holds the credentials for SigV4 signing; required when the
	// sink has an `aws` block (build it from that block: region, role).
	AWSConfig *aws.Config
	// DefaultDLQFile is the dead-letter file used when dlq_file is not set
	// (DefaultDLQPath under the state directory); its directory is created.
	// Empty: without dlq_file a rejected document is an error.
	DefaultDLQFile string
	// DLQS3 writes the dead-letter objects when the sink has a dlq.s3
	// block (an S3 client built for that block's region and role);
	// required then, unused otherwise.
	DLQS3 ObjectPutter
	// Pipeline names the pipeline in dead-letter object names.
	Pipeline string
	// Health is told about every dead letter (readiness); nil ignores them.
	Health DeadLetterReporter
}

// Sink writes change events to OpenSearch. Write may be called concurrently
// (once per partition at a time); Prepare once before the first Write.
// Write sends a batch at once (split by bulk_size), so flush_timeout never
// has anything to hold back: the caller's batch is the unit of flushing.
type Sink struct {
	cfg      *config.OpenSearch
	client   *opensearch.Client
	rt       http.RoundTripper
	res      *bulk.Resolver
	log      *slog.Logger
	met      *metrics
	dlq      deadLetterQueue // nil without dlq_file, dlq.s3 and Options.DefaultDLQFile
	health   DeadLetterReporter
	pinMu    sync.Mutex // one mapping pin at a time (mapping_pin.go)
	template *indexTemplate
	creator  *indexCreator // nil unless indices are created before their first write (index_create.go)
	maxBody  int
	backoff  backoff
}

// New checks the options that need no network (TLS files, templates,
// version type, literal action), opens the dead-letter file and builds the
// client. It does not contact OpenSearch; Prepare does.
func New(cfg *config.OpenSearch, opts Options) (*Sink, error) {
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("opensearch: hosts is empty")
	}
	res, err := bulk.NewResolver(cfg)
	if err != nil {
		return nil, fmt.Errorf("opensearch: %w", err)
	}
	s := &Sink{cfg: cfg, res: res, log: opts.Logger, rt: opts.HTTPTransport, backoff: defaultBackoff}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.maxBody = int(cfg.BulkSizeMiB * (1 << 20))
	if s.maxBody <= 0 {
		s.maxBody = 5 << 20
	}
	if s.template, err = loadTemplate(cfg, res); err != nil {
		return nil, fmt.Errorf("opensearch: %w", err)
	}
	if s.met, err = newMetrics(opts.Registerer); err != nil {
		return nil, fmt.Errorf("opensearch metrics: %w", err)
	}
	if s.rt == nil {
		if s.rt, err = newHTTPTransport(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.AWS != nil {
		sig, err := newSigner(cfg.AWS, opts.AWSConfig)
		if err != nil {
			return nil, err
		}
		s.rt = signingTransport{next: s.rt, signer: sig}
	}
	if s.client, err = newClient(cfg, s.rt); err != nil {
		return nil, err
	}
	s.health = opts.Health
	if s.dlq, err = openDeadLetterQueue(cfg, opts, s.log); err != nil {
		return nil, fmt.Errorf("opensearch: %w", err)
	}
	return s, nil
}

// Close closes the dead-letter file and idle connections. Call it after the
// last Write has returned.
func (s *Sink) Close() error {
	if t, ok := s.rt.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	if s.dlq != nil {
		return s.dlq.Close()
	}
	return nil
}

// readTemplateFile reads template_file; split out for the error message.
func readTemplateFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("template_file: %w", err)
	}
	return b, nil
}
