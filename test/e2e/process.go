//go:build integration

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is one run of the ddbsync binary. Done is closed when it has
// exited (Cmd.ProcessState is then set); any number of waiters may read it.
type Process struct {
	Cmd     *exec.Cmd
	Done    chan error
	LogPath string
	// Node, StateDir and MetricsAddr say how it was started (Node is ""
	// for the harness's single run).
	Node, StateDir, MetricsAddr string
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL (a crash) and waits for the process to go.
func (p *Process) Kill() {
	if p == nil || p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.Done
}

// Stop sends SIGTERM, waits (SIGKILL after a minute) and returns the exit
// code.
func (p *Process) Stop() int {
	if p.Exited() {
		return p.Cmd.ProcessState.ExitCode()
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(60 * time.Second)
	defer t.Stop()
	select {
	case <-p.Done:
	case <-t.C:
		_ = p.Cmd.Process.Kill()
		<-p.Done
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Log is what the process logged so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Start runs `ddbsync run` on the harness pipeline in the background,
// with the state under Dir/state and this run's log in its own file.
func (h *Harness) Start() *Process {
	h.TB.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc != nil && !h.proc.Exited() {
		h.TB.Fatal("start: ddbsync is already running")
	}
	h.runs++
	p := h.launch(fmt.Sprintf("ddbsync-%02d.log", h.runs), "", h.StateDir(), h.MetricsAddr, nil)
	h.proc = p
	return p
}

// launch starts `ddbsync run` on the harness pipeline; h.mu is held.
func (h *Harness) launch(logName, node, stateDir, metricsAddr string, env []string) *Process {
	h.TB.Helper()
	if h.PipelinePath == "" {
		h.TB.Fatal("start: no pipeline written")
	}
	logPath := filepath.Join(h.Dir, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		h.TB.Fatal(err)
	}
	args := []string{"run", "-f", h.PipelinePath, "--state-dir", stateDir, "--metrics-addr", metricsAddr, "--log-level", "debug"}
	bin := Binary(h.TB)
	if c := h.Container; c != nil {
		bin, args = c.Binary, c.Args
	}
	cmd := exec.Command(bin, append(args, h.ExtraArgs...)...)
	if c := h.Container; c != nil {
		cmd.Dir = c.WorkDir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.UID, Gid: c.GID}}
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(h.Env(), env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		h.TB.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, Done: make(chan error), LogPath: logPath, Node: node, StateDir: stateDir, MetricsAddr: metricsAddr}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.Done) }()
	return p
}

// Env is the environment ddbsync runs with: this process's, the
// scenario's DynamoDB Local namespace, and ExtraEnv.
func (h *Harness) Env() []string {
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID="+h.NS.AccessKey, "AWS_SECRET_ACCESS_KEY="+h.NS.Secret)
	return append(env, h.ExtraEnv...)
}

// Container runs the binary the way a container image does: another
// binary path, the image's command line (in place of run's default flags),
// working directory and user.
type Container struct {
	Binary   string
	Args     []string
	WorkDir  string
	UID, GID uint32
}

// Command runs a one-shot ddbsync subcommand (verify, redrive) in the
// scenario's namespace and waits for it: its exit code and what it printed.
// A binary that cannot be started fails the test.
func (h *Harness) Command(args ...string) (code int, stdout, stderr string) {
	h.TB.Helper()
	cmd := exec.Command(Binary(h.TB), args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = h.Env()
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		h.TB.Fatalf("ddbsync %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// StateDir is where ddbsync keeps checkpoints.
func (h *Harness) StateDir() string { return filepath.Join(h.Dir, "state") }

// Proc is the current (or last) run, nil before the first.
func (h *Harness) Proc() *Process {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc
}

// Running reports whether the current run is alive.
func (h *Harness) Running() bool {
	p := h.Proc()
	return p != nil && !p.Exited()
}

// Kill sends SIGKILL (a crash) to the current run and waits for it to go.
func (h *Harness) Kill() { h.Proc().Kill() }

// Stop sends SIGTERM to the current run, waits (SIGKILL after a minute)
// and returns the exit code; -1 when nothing runs.
func (h *Harness) Stop() int {
	p := h.Proc()
	if p == nil {
		return -1
	}
	return p.Stop()
}

// WaitExit waits for the current run to exit by itself and returns its
// exit code; ok is false when it still runs after timeout.
func (h *Harness) WaitExit(timeout time.Duration) (code int, ok bool) {
	p := h.Proc()
	if p == nil {
		return -1, true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.Done:
		return p.Cmd.ProcessState.ExitCode(), true
	case <-t.C:
		return 0, false
	case <-h.Ctx.Done():
		return 0, false
	}
}

// Log is the current (or last) run's log.
func (h *Harness) Log() string {
	p := h.Proc()
	if p == nil {
		return ""
	}
	return p.Log()
}

// AllLogs concatenates every run's log.
func (h *Harness) AllLogs() string {
	var b strings.Builder
	for i := 1; i <= h.runs; i++ {
		x, _ := os.ReadFile(filepath.Join(h.Dir, fmt.Sprintf("ddbsync-%02d.log", i)))
		b.Write(x)
	}
	return b.String()
}

// Runs is how many times Start ran ddbsync.
func (h *Harness) Runs() int { return h.runs }

// Tail is the last n bytes of text.
func Tail(text string, n int) string {
	if len(text) > n {
		return "...\n" + text[len(text)-n:]
	}
	return text
}
