package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// privateEmu is an export emulator of the bench's own, for exports with
// another number of data files than the shared stack's (EXPORTEMU_FILES):
// ddbsync loads at most one file per worker, so -parallelism above the
// file count measures nothing. It fronts the same DynamoDB Local and S3.
type privateEmu struct {
	cmd *exec.Cmd
	url string
}

// startEmu builds test/exportemu into dir and starts it on a free port.
func startEmu(ctx context.Context, dir string, files int) (*privateEmu, error) {
	bin := filepath.Join(dir, "exportemu")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./test/exportemu")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build exportemu: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-port", "0", "-files", strconv.Itoa(files), "-delay", "0s")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // never outlives the bench
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &privateEmu{cmd: cmd}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "addr="); i >= 0 && strings.Contains(line, "exportemu ready") {
				addr, _, _ := strings.Cut(line[i+len("addr="):], " ")
				ready <- addr
			}
		}
		close(ready)
	}()
	select {
	case addr, ok := <-ready:
		if !ok {
			e.stop()
			return nil, fmt.Errorf("exportemu exited before it was ready")
		}
		e.url = "http://" + addr
		return e, nil
	case <-time.After(30 * time.Second):
		e.stop()
		return nil, fmt.Errorf("exportemu not ready after 30s")
	case <-ctx.Done():
		e.stop()
		return nil, ctx.Err()
	}
}

// stop ends the emulator (by its PID) and waits for it.
func (e *privateEmu) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

// env is the environment for a child that must use this emulator.
func (e *privateEmu) env() []string {
	return append(os.Environ(), "AWS_ENDPOINT_URL_DYNAMODB="+e.url)
}
