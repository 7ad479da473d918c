package kit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// TableARN is DynamoDB Local's ARN of a table in the stack's region.
func TableARN(table string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table }

// StreamPipeline is a stream-only pipeline from TRIM_HORIZON into index;
// pollInterval "" keeps the default.
func StreamPipeline(table, osURL, index, pollInterval string) string {
	poll := ""
	if pollInterval != "" {
		poll = ", poll_interval: " + pollInterval
	}
	return fmt.Sprintf(`bench:
  source:
    dynamodb:
      tables:
        - table_arn: %q
          stream: {start_position: TRIM_HORIZON%s}
  sink:
    - opensearch:
        hosts: [%q]
        index: %q
`, TableARN(table), poll, osURL, index)
}

// Proc is a running `ddbsync run` with its metrics endpoint.
type Proc struct {
	cmd        *exec.Cmd
	metricsURL string
	exited     chan struct{}
	Dir        string
}

// Start writes pipeline into a fresh directory under dir and runs it.
func Start(bin, dir, name, pipeline string) (*Proc, error) {
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	pf := filepath.Join(d, "pipeline.yaml")
	if err := os.WriteFile(pf, []byte(pipeline), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(d, "ddbsync.log"))
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "run", "-f", pf, "--state-dir", filepath.Join(d, "state"), "--metrics-addr", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Proc{cmd: cmd, metricsURL: "http://" + addr + "/metrics", exited: make(chan struct{}), Dir: d}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.exited) }()
	return p, nil
}

// Stop sends SIGTERM and waits (SIGKILL after 30 s).
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Kill sends SIGKILL (a crash: no lease is released) and waits.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Terminate sends SIGTERM and returns at once (Stop waits).
func (p *Proc) Terminate() { _ = p.cmd.Process.Signal(syscall.SIGTERM) }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Metric sums the samples of a Prometheus metric (every label set); an
// endpoint that is not up yet answers an error.
func (p *Proc) Metric(ctx context.Context, name string) (float64, error) {
	return p.MetricWith(ctx, name, "")
}

// MetricWith sums the samples of name whose line contains label (e.g.
// `op="GetItem"`; "" = every sample).
func (p *Proc) MetricWith(ctx context.Context, name, label string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') || !strings.Contains(rest, label) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// WaitUp polls until the metrics endpoint answers.
func (p *Proc) WaitUp(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := p.Metric(ctx, "ddbsync_")
		switch {
		case err == nil:
			return nil
		case p.Exited():
			return fmt.Errorf("ddbsync exited (log %s)", filepath.Join(p.Dir, "ddbsync.log"))
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("metrics endpoint not up after %s: %w", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitMetric polls name until it reaches at least v.
func (p *Proc) WaitMetric(ctx context.Context, name string, v float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := p.Metric(ctx, name)
		if err == nil && got >= v {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("ddbsync exited (log %s)", filepath.Join(p.Dir, "ddbsync.log"))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s = %v after %s, want %v (err %v)", name, got, timeout, v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// CPU is the process's user+system CPU time so far.
func (p *Proc) CPU() time.Duration { return ProcCPU(p.Pid()) }

// RSS is the process's resident memory in KiB.
func (p *Proc) RSS() int64 { return ProcStatus(p.Pid(), "VmRSS") }

// ProcCPU reads user+system time of pid from /proc/<pid>/stat.
func ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // state ppid ... utime(12) stime(13) counted after ')'
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / 100 // USER_HZ
}

// ProcStatus reads a /proc/<pid>/status field in KiB.
func ProcStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
