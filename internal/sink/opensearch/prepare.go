package opensearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
)

// Prepare checks that OpenSearch answers and accepts the credentials, and
// that a literal ingest pipeline exists; then,
// unless index_type is management_disabled, installs the index template
// (template_file / template_content) or, without one, ddbsync's number
// mapping template (number_mapping, numbers.go), and creates a literal index
// that does not exist yet (with number_of_shards / number_of_replicas when
// set, and the number mapping when ddbsync owns it).
// Call it once, before the first Write.
func (s *Sink) Prepare(ctx context.Context) error {
	if err := s.checkHosts(ctx); err != nil {
		return err
	}
	if p := s.cfg.Pipeline; p != nil && p.IsLiteral() {
		if err := s.checkPipeline(ctx, p.String()); err != nil {
			return err
		}
	}
	if s.cfg.IndexType == config.IndexTypeManagementDisabled {
		return nil
	}
	if s.template != nil {
		if err := s.applyTemplate(ctx); err != nil {
			return err
		}
	}
	nt, err := numberTemplate(s.cfg, s.res)
	if err != nil {
		return fmt.Errorf("opensearch: %w", err)
	}
	if nt != nil && s.cfg.Serverless() {
		// The number template is a legacy _template, which Serverless does
		// not have; a composable one could shadow the user's own.
		nt = nil
	}
	if nt != nil {
		if err := s.putNumberTemplate(ctx, nt); err != nil {
			return err
		}
	} else if ownsNumberMapping(s.cfg) && !s.res.IndexTemplate().IsLiteral() {
		// No template can carry the number mapping (the index starts with a
		// reference, or Serverless): each index is created before its first
		// write instead (index_create.go).
		s.creator = newIndexCreator(time.Now)
		s.log.LogAttrs(ctx, slog.LevelInfo, "no template can match this index's indices: ddbsync creates each with its number mapping before the first write to it",
			slog.String(keyIndex, s.res.IndexTemplate().String()))
	}
	if idx := s.res.IndexTemplate(); idx.IsLiteral() {
		return s.ensureIndex(ctx, s.res.NormalizeIndex(idx.String()))
	}
	return nil
}

// checkHosts sends GET / to every host. Bad credentials or TLS settings fail
// at once; hosts that cannot be reached fail only when none can be.
func (s *Sink) checkHosts(ctx context.Context) error {
	var down []error
	for _, h := range s.cfg.Hosts {
		err := s.checkHost(ctx, h)
		var fatal *configError
		switch {
		case err == nil:
		case errors.As(err, &fatal):
			return err
		default:
			down = append(down, err)
		}
	}
	if len(down) == len(s.cfg.Hosts) {
		return errors.Join(down...)
	}
	for _, err := range down {
		s.log.LogAttrs(ctx, slog.LevelWarn, "opensearch host unreachable; using the others", slog.String("error", err.Error()))
	}
	return nil
}

// configError is a start-up failure that retrying cannot fix.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func (s *Sink) checkHost(ctx context.Context, rawHost string) error {
	limit := s.cfg.ConnectTimeout + s.cfg.SocketTimeout
	if limit <= 0 {
		limit = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	host := redactHost(rawHost)
	method, probe := http.MethodGet, "/"
	if s.cfg.Serverless() {
		// Serverless does not serve GET /; HEAD <index> needs only
		// aoss:DescribeIndex, which the sink needs anyway. 404 is an answer.
		method, probe = http.MethodHead, "/"+url.PathEscape(s.RefreshTarget())
	}
	u := strings.TrimRight(rawHost, "/") + probe
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return &configError{fmt.Sprintf("opensearch %s: invalid host: %v", host, err)}
	}
	if s.cfg.Username != "" {
		req.SetBasicAuth(s.cfg.Username, s.cfg.Password.Value())
	}
	resp, err := s.rt.RoundTrip(req)
	if err != nil {
		return explainDialError(host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound && method == http.MethodHead:
		return nil // the index does not exist yet; the credentials are good
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &configError{fmt.Sprintf("opensearch %s: %s", host, explainStatus(resp.StatusCode, nil))}
	}
	return fmt.Errorf("opensearch %s: %s %s: %s", host, method, probe, explainStatus(resp.StatusCode, body))
}

// redactHost hides a password written into a host URL.
func redactHost(h string) string {
	u, err := url.Parse(h)
	if err != nil || u.User == nil {
		return h
	}
	return u.Redacted()
}

// explainDialError turns a transport error into an actionable message.
func explainDialError(host string, err error) error {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		verify     *tls.CertificateVerificationError
		record     tls.RecordHeaderError
		dns        *net.DNSError
		netErr     net.Error
		configFail = func(hint string) error {
			return &configError{fmt.Sprintf("opensearch %s: %v: %s", host, err, hint)}
		}
	)
	switch {
	// The host name check first: a *tls.CertificateVerificationError wraps it too.
	case errors.As(err, &hostname):
		return configFail("the server's certificate is not valid for this host name; use a host name the certificate was issued for")
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &verify):
		return configFail("TLS verification failed; set cert to the CA file that signed the server's certificate (or insecure: true, for development only)")
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return configFail("the server does not speak TLS here; use an http:// host")
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("opensearch %s: connection refused: is OpenSearch running and listening on this address? (%w)", host, err)
	case errors.As(err, &dns):
		return fmt.Errorf("opensearch %s: cannot resolve the host name: %w", host, err)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("opensearch %s: no answer in time (connect_timeout / socket_timeout): %w", host, err)
	}
	return fmt.Errorf("opensearch %s: %w", host, err)
}

// do sends one request through the client (fail-over across hosts) and
// returns the status and body.
func (s *Sink) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("opensearch %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("opensearch %s %s: read response: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// checkPipeline fails when the ingest pipeline does not exist: OpenSearch
// would otherwise reject every document, filling the dead-letter queue.
func (s *Sink) checkPipeline(ctx context.Context, id string) error {
	status, body, err := s.do(ctx, http.MethodGet, "/_ingest/pipeline/"+url.PathEscape(id), nil)
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound:
		return &configError{fmt.Sprintf("opensearch: ingest pipeline %q does not exist; create it or remove `pipeline`", id)}
	case status != http.StatusOK:
		return fmt.Errorf("opensearch: get ingest pipeline %s: %s", id, explainStatus(status, body))
	}
	return nil
}

// applyTemplate installs the index template unless OpenSearch already has
// one of the same name with a version at least as high (Data Prepper's rule).
func (s *Sink) applyTemplate(ctx context.Context) error {
	t := s.template
	status, body, err := s.do(ctx, http.MethodGet, t.path(), nil)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		if v, ok := existingTemplateVersion(t.kind, t.name, body); ok && v >= t.version {
			s.log.LogAttrs(ctx, slog.LevelInfo, "index template is current", slog.String("template", t.name),
				slog.Int64("version", v), slog.Int64("configured_version", t.version))
			return nil
		}
	} else if status != http.StatusNotFound {
		return fmt.Errorf("opensearch: get index template %s: %s", t.name, explainStatus(status, body))
	}
	status, body, err = s.do(ctx, http.MethodPut, t.path(), t.body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("opensearch: put index template %s: %s", t.name, explainStatus(status, body))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "index template installed", slog.String("template", t.name), slog.Int64("version", t.version))
	return nil
}

// ensureIndex creates index unless it exists (as an index or an alias).
func (s *Sink) ensureIndex(ctx context.Context, index string) error {
	path := "/" + url.PathEscape(index)
	status, body, err := s.do(ctx, http.MethodHead, path, nil)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
	default:
		return fmt.Errorf("opensearch: check index %s: %s", index, explainStatus(status, body))
	}
	var create []byte
	settings := map[string]any{}
	// Serverless manages shards itself and refuses shard settings. The
	// mapping depth limit stays: items nest up to 32 levels (DESIGN §2.10).
	serverless := s.cfg.Serverless()
	if n := s.cfg.NumberOfShards; n > 0 && !serverless {
		settings["number_of_shards"] = n
	}
	if n := s.cfg.NumberOfReplicas; n >= 0 && !serverless {
		settings["number_of_replicas"] = n
	}
	cb := map[string]any{}
	if len(settings) > 0 {
		cb["settings"] = settings
	}
	if ownsNumberMapping(s.cfg) {
		cb["mappings"] = numberMappings()
		maps.Copy(settings, mappingSettings())
		cb["settings"] = settings
	}
	if len(cb) > 0 {
		b, _ := json.Marshal(cb) // ints, strings and bools always encode
		create = b
	}
	status, body, err = s.do(ctx, http.MethodPut, path, create)
	if err != nil {
		return err
	}
	switch {
	case status == http.StatusOK:
		s.log.LogAttrs(ctx, slog.LevelInfo, "index created", slog.String(keyIndex, index))
		return nil
	case bytes.Contains(body, []byte("resource_already_exists_exception")):
		return nil // created meanwhile by another node
	}
	return fmt.Errorf("opensearch: create index %s: %s", index, explainStatus(status, body))
}

// putNumberTemplate installs (or refreshes) ddbsync's number mapping
// template. It is ddbsync's own, so it is written on every start.
func (s *Sink) putNumberTemplate(ctx context.Context, t *indexTemplate) error {
	status, body, err := s.do(ctx, http.MethodPut, t.path(), t.body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("opensearch: put number mapping template %s: %s (set number_mapping: none to manage the mapping yourself)", t.name, explainStatus(status, body))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "number mapping template installed", slog.String("template", t.name))
	return nil
}
