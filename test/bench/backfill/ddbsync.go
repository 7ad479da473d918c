package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ddbsyncRun is what one backfill-only run of the binary measured.
type ddbsyncRun struct {
	wall      time.Duration // process start to exit
	load      time.Duration // log "loading export" to "export backfill complete"
	items     int64         // from "export backfill complete"
	maxRSSKiB int64         // peak resident set: last VmHWM sampled before exit
	user, sys time.Duration // CPU time
	logTail   string
	logPath   string
}

// runDDBSync writes a pipeline that only loads the given export into index
// and runs `ddbsync run` until it exits (a pipeline without a stream block
// exits 0 once the backfill is acknowledged).
func runDDBSync(ctx context.Context, bin, dir, table, bucket, exportARN, osURL, index string, parallelism int, env []string) (ddbsyncRun, error) {
	var r ddbsyncRun
	pipeline := fmt.Sprintf(`version: "2"
bench:
  source:
    dynamodb:
      tables:
        - table_arn: %q
          export:
            s3_bucket: %q
            export_arn: %q
            parallelism: %d
      aws:
        region: us-east-1
  sink:
    - opensearch:
        hosts: [%q]
        index: %q
`, tableARN(table), bucket, exportARN, parallelism, osURL, index)
	pf := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(pf, []byte(pipeline), 0o644); err != nil {
		return r, err
	}
	r.logPath = filepath.Join(dir, "ddbsync.log")
	logf, err := os.Create(r.logPath)
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, bin, "run", "-f", pf, "--log-format", "json",
		"--state-dir", filepath.Join(dir, "state"), "--metrics-addr", "")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env // nil: this process's environment
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	// Peak RSS is sampled from /proc, not taken from wait4's ru_maxrss: Go
	// starts children with vfork, and Linux folds the parent's (this
	// bench's, hundreds of MiB of pre-built bodies) high-water mark into the
	// child's ru_maxrss at exec. VmHWM only grows, so the last sample misses
	// at most the final few milliseconds.
	stop := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		var hwm int64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatus(cmd.Process.Pid, "VmHWM"); v > hwm {
				hwm = v
			}
			select {
			case <-stop:
				sampled <- hwm
				return
			case <-t.C:
			}
		}
	}()
	err = cmd.Wait()
	r.wall = time.Since(start)
	close(stop)
	r.maxRSSKiB = <-sampled
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.user = time.Duration(ru.Utime.Nano())
			r.sys = time.Duration(ru.Stime.Nano())
		}
	}
	logb, _ := os.ReadFile(r.logPath)
	r.logTail = tail(string(logb), 20)
	if err != nil {
		return r, fmt.Errorf("ddbsync exited with %v; log %s ends:\n%s", err, r.logPath, r.logTail)
	}
	var loading, done time.Time
	sc := bufio.NewScanner(bytes.NewReader(logb))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Time  time.Time   `json:"time"`
			Msg   string      `json:"msg"`
			Items json.Number `json:"items"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l.Msg {
		case "loading export":
			loading = l.Time
		case "export backfill complete":
			done = l.Time
			r.items, _ = strconv.ParseInt(l.Items.String(), 10, 64)
		}
	}
	if done.IsZero() {
		return r, fmt.Errorf("ddbsync exited 0 without logging \"export backfill complete\"; log %s ends:\n%s", r.logPath, r.logTail)
	}
	if !loading.IsZero() {
		r.load = done.Sub(loading)
	}
	return r, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
