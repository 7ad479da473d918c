package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"syscall"
	"time"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/verify"
)

// floorPublisher raises clock floors for verify --repair: through the
// running `ddbsync run` whose metrics server listens on addr (POST
// /admin/clock-floor answers once its shard readers apply the floor), or,
// when no run answers there for the table, in the state directory's store
// under its lock, so the next run starts above it. A state directory that
// another process holds, or that no run ever used, gives verify.ErrNoFloor.
//
// The state-store path has one weaker spot: records a run had written but
// not yet checkpointed when it stopped (SIGKILL, or a grace period that
// ran out) are replayed above the floor by the next run, so their
// documents may briefly show an older state of the item until the
// lineage's later records are applied again. No change is lost; with run
// alive the floor is applied at acknowledged batch boundaries and replays
// keep their versions.
type floorPublisher struct {
	addr     string // run's --metrics-addr; "" skips asking a run
	stateDir string
	client   *http.Client
	log      *slog.Logger
}

// errNoRun: no run answered at addr for the table.
var errNoRun = errors.New("no ddbsync run answers")

// RaiseFloor implements verify.FloorPublisher.
func (p *floorPublisher) RaiseFloor(ctx context.Context, table string, generation, v int64) (int64, error) {
	eff, err := p.viaRun(ctx, table, generation, v)
	if !errors.Is(err, errNoRun) {
		return eff, err
	}
	p.log.Info("no run answers for the table; raising the clock floor in the state directory", "table", table, "addr", p.addr, "state_dir", p.stateDir, "reason", err)
	if !checkpoint.HasFileState(p.stateDir) {
		return 0, fmt.Errorf("%w: %v, and state directory %s holds no checkpoints (pass the run's --metrics-addr and --state-dir)", verify.ErrNoFloor, err, p.stateDir)
	}
	store, serr := checkpoint.OpenFileStore(p.stateDir)
	if serr != nil {
		return 0, fmt.Errorf("%w: %v, and %v (pass the running ddbsync's --metrics-addr)", verify.ErrNoFloor, err, serr)
	}
	defer store.Close()
	gen, gerr := checkpoint.Generation(ctx, store, table)
	if gerr != nil {
		return 0, gerr
	}
	if gen != generation {
		return 0, fmt.Errorf("table %s moved to version generation %d during verify; verify again", table, gen)
	}
	return checkpoint.RaiseFloor(ctx, store, table, v)
}

// viaRun asks the run at addr to raise the floor; errNoRun when nothing
// listens there or that run does not replicate the table.
func (p *floorPublisher) viaRun(ctx context.Context, table string, generation, v int64) (int64, error) {
	if p.addr == "" {
		return 0, fmt.Errorf("%w: --metrics-addr is empty", errNoRun)
	}
	body, _ := json.Marshal(app.ClockFloorRequest{Table: table, Generation: generation, Floor: v}) // plain fields always encode
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+p.addr+app.ClockFloorPath, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return 0, fmt.Errorf("%w at %s: %v", errNoRun, p.addr, err)
		}
		return 0, fmt.Errorf("raise clock floor at %s: %w", p.addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return 0, fmt.Errorf("%w for table %s at %s: %s", errNoRun, table, p.addr, bytes.TrimSpace(b))
	default:
		return 0, fmt.Errorf("raise clock floor of table %s at %s: %d %s", table, p.addr, resp.StatusCode, bytes.TrimSpace(b))
	}
	var out app.ClockFloorResponse
	if err := json.Unmarshal(b, &out); err != nil || out.Floor < v {
		return 0, fmt.Errorf("raise clock floor of table %s at %s: bad answer %q", table, p.addr, b)
	}
	return out.Floor, nil
}

// newFloorPublisher builds the publisher for verify --repair.
func newFloorPublisher(addr, stateDir string, log *slog.Logger) *floorPublisher {
	// The run answers after its readers' batches in flight are acknowledged
	// (it waits at most 2 minutes).
	return &floorPublisher{addr: addr, stateDir: stateDir, log: log, client: &http.Client{Timeout: 3 * time.Minute}}
}
