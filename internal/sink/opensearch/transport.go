package opensearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/opensearch-project/opensearch-go/v2"

	"github.com/ddbsync/ddbsync/internal/config"
)

// noStatus is a status no server sends. opensearch-go retries 502/503/504
// itself unless told another list; giving it this one leaves every status to
// classify, which is authoritative.
const noStatus = 999

// newHTTPTransport builds the HTTP transport from the sink's TLS and timeout
// options: `cert` is a CA added to the system pool, `insecure` turns off
// verification (on by default), connect_timeout bounds dialing and the TLS
// handshake, socket_timeout bounds every read and write (like a Java socket
// timeout) and the wait for response headers.
func newHTTPTransport(cfg *config.OpenSearch) (*http.Transport, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // opt-in `insecure`
	if cfg.Cert != "" {
		pem, err := os.ReadFile(cfg.Cert)
		if err != nil {
			return nil, fmt.Errorf("opensearch cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("opensearch cert %s: no PEM certificate in the file", cfg.Cert)
		}
		tlsCfg.RootCAs = pool
	}
	proxy := http.ProxyFromEnvironment
	if cfg.Proxy != "" {
		u, err := config.ProxyURL(cfg.Proxy)
		if err != nil {
			return nil, fmt.Errorf("opensearch proxy %s: %w", cfg.Proxy, err)
		}
		proxy = http.ProxyURL(u)
	}
	d := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	dial := d.DialContext
	if t := cfg.SocketTimeout; t > 0 {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, timeout: t}, nil
		}
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.SocketTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32, // many shards write at once
		IdleConnTimeout:       90 * time.Second,
	}, nil
}

// deadlineConn moves the connection's deadline forward before each read and
// write, so a peer that goes silent for longer than timeout fails the
// request instead of hanging it. A write also extends a pending read (the
// transport keeps one outstanding on idle connections).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// newClient builds the opensearch-go client: round-robin over hosts, an
// immediate fail-over to the next host on a connection error, no retries on
// status codes (classification decides), basic auth when username is set,
// gzip request bodies with enable_request_compression (signed compressed:
// the client compresses before the transport signs).
func newClient(cfg *config.OpenSearch, rt http.RoundTripper) (*opensearch.Client, error) {
	c, err := opensearch.NewClient(opensearch.Config{
		Addresses:     cfg.Hosts,
		Username:      cfg.Username,
		Password:      cfg.Password.Value(),
		Transport:     rt,
		RetryOnStatus: []int{noStatus},
		DisableRetry:  len(cfg.Hosts) < 2,
		MaxRetries:    len(cfg.Hosts) - 1,

		CompressRequestBody: cfg.RequestCompression,
	})
	if err != nil {
		return nil, fmt.Errorf("opensearch client: %w", err)
	}
	return c, nil
}
