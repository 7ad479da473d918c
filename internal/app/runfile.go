package app

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// RunFileName is the file in the state directory where a running `run`
// says where its metrics server listens, for `ddbsync wait` and status.
const RunFileName = "run.json"

// RunFile is the content of RunFileName.
type RunFile struct {
	PID         int       `json:"pid"`
	MetricsAddr string    `json:"metrics_addr"`
	Started     time.Time `json:"started"`
}

// writeRunFile writes the run file and returns a function that removes it.
// Failing to write it is logged, not fatal: only `wait` needs it, and `wait`
// can be given the address.
func writeRunFile(stateDir, addr string, log *slog.Logger) func() {
	path := filepath.Join(stateDir, RunFileName)
	b, _ := json.Marshal(RunFile{PID: os.Getpid(), MetricsAddr: addr, Started: time.Now().UTC()})
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		log.Warn("cannot write the run file ('ddbsync wait' needs --metrics-addr)", "file", path, "err", err)
		return func() {}
	}
	if err := os.Rename(tmp, path); err != nil {
		log.Warn("cannot write the run file ('ddbsync wait' needs --metrics-addr)", "file", path, "err", err)
		return func() {}
	}
	return func() { _ = os.Remove(path) }
}

// ReadRunFile reads the run file of a state directory.
func ReadRunFile(stateDir string) (RunFile, error) {
	var r RunFile
	b, err := os.ReadFile(filepath.Join(stateDir, RunFileName))
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}
