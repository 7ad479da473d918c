package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// config is what main decides.
type config struct {
	Upstream    *url.URL      // DynamoDB Local
	Files       int           // data files per export
	Delay       time.Duration // before an export turns COMPLETED
	PITRDefault bool          // PITR state of a table nobody has set
	Identity    identity      // for unsigned requests
}

// server is the proxy: the five export/backup operations are answered here, everything else
// goes to DynamoDB Local unchanged.
type server struct {
	cfg     config
	log     *slog.Logger
	up      *upstream
	objects objectStore
	proxy   *httputil.ReverseProxy
	now     func() time.Time

	mu      sync.Mutex // guards rnd and pitr
	rnd     *rand.Rand
	pitr    map[string]pitrState // by tableKey
	exports *exportStore         // has its own lock

	jobs   sync.WaitGroup  // background exports
	jobCtx context.Context // their lifetime: Serve's ctx
}

// op is one emulated operation: decoded request body in, response object or error out.
type op func(ctx context.Context, id identity, body []byte) (any, error)

func newServer(cfg config, log *slog.Logger, up *upstream, objects objectStore, rnd *rand.Rand, now func() time.Time) *server {
	target := cfg.Upstream
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // unchanged, as the client signed it
		},
		// No transparent gzip: the body must reach the client byte for byte (X-Amz-Crc32).
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &server{
		cfg: cfg, log: log, up: up, objects: objects, proxy: proxy, now: now,
		rnd: rnd, pitr: map[string]pitrState{}, exports: newExportStore(),
	}
}

// Serve answers on ln until ctx ends, then waits for running exports to stop.
func (s *server) Serve(ctx context.Context, ln net.Listener) error {
	jobCtx, cancelJobs := context.WithCancel(ctx)
	defer cancelJobs()
	s.jobCtx = jobCtx
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = hs.Shutdown(shut)
		cancel()
	}
	cancelJobs()
	s.jobs.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emu/") {
		s.control(w, r)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if r.Method == http.MethodPost && strings.HasPrefix(target, "DynamoDB_20120810.") {
		if h := s.op(strings.TrimPrefix(target, "DynamoDB_20120810.")); h != nil {
			s.answer(w, r, h)
			return
		}
	}
	s.proxy.ServeHTTP(w, r)
}

func (s *server) op(name string) op {
	switch name {
	case "DescribeContinuousBackups":
		return s.describeContinuousBackups
	case "UpdateContinuousBackups":
		return s.updateContinuousBackups
	case "ExportTableToPointInTime":
		return s.exportTableToPointInTime
	case "DescribeExport":
		return s.describeExport
	case "ListExports":
		return s.listExports
	}
	return nil
}

func (s *server) answer(w http.ResponseWriter, r *http.Request, h op) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := h(r.Context(), identityOf(r, s.cfg.Identity), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("emulated call failed", "target", r.Header.Get("X-Amz-Target"), "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decode reads a request body; a malformed one is the caller's ValidationException.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf("SerializationException", "%v", err)
	}
	return nil
}

// tableKey identifies a table across re-creation: same name in the same namespace, created
// at a different time, is a different table (PITR starts disabled again).
func tableKey(id identity, t tableInfo) string {
	return id.namespace() + "/" + t.TableName + "@" + t.CreationDateTime.Format(time.RFC3339Nano)
}
