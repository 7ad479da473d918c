package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// ClockFloorPath is run's admin endpoint that raises a table's clock floor
// (verify --repair calls it; it is served on --metrics-addr).
const ClockFloorPath = "/admin/clock-floor"

// floorWait bounds how long a request waits for the shard readers to apply
// a floor (a reader applies it after its batch in flight is acknowledged),
// on this node and, with a shared state store, on every other node.
const floorWait = 2 * time.Minute

// floorFollowEvery is how often each node reads the saved floors of its
// tables with a shared state store (a floor raised through another node).
const floorFollowEvery = time.Second

// floorAckPoll is how often a request reads the other nodes'
// acknowledgements while it waits for them.
const floorAckPoll = 250 * time.Millisecond

// ClockFloorRequest is the body of POST /admin/clock-floor.
type ClockFloorRequest struct {
	Table string `json:"table"`
	// Generation is the table's version generation the floor belongs to;
	// a run in another generation answers 409.
	Generation int64 `json:"generation"`
	// Floor is the version every stream version of the table must exceed.
	Floor int64 `json:"floor"`
}

// ClockFloorResponse is the answer: the floor in effect (Floor, or a
// higher one raised before).
type ClockFloorResponse struct {
	Table      string `json:"table"`
	Generation int64  `json:"generation"`
	Floor      int64  `json:"floor"`
}

// floors holds each table's clock floor for the whole run (it outlives
// re-backfills) and serves the admin endpoint.
type floors struct {
	log    *slog.Logger
	wait   time.Duration // floorWait
	every  time.Duration // floorFollowEvery
	poll   time.Duration // floorAckPoll
	mu     sync.Mutex
	by     map[string]*stream.Floor
	stores map[string]checkpoint.Store // the state store of each table's pipeline
}

func newFloors(log *slog.Logger) *floors {
	return &floors{log: log, wait: floorWait, every: floorFollowEvery, poll: floorAckPoll,
		by: map[string]*stream.Floor{}, stores: map[string]checkpoint.Store{}}
}

// forTable returns the table's floor, starting from the one saved in the
// state store (so a restart starts above the floors raised before). With
// a shared store (several nodes) the floor follows the saved one (follow)
// and a raise waits for every node.
func (f *floors) forTable(ctx context.Context, table string, store checkpoint.Store) (*stream.Floor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.by[table]; ok {
		return fl, nil
	}
	f.stores[table] = store
	v, err := checkpoint.Floor(ctx, store, table)
	if err != nil {
		return nil, fmt.Errorf("read clock floor of table %s: %w", table, err)
	}
	fl := stream.NewFloor(v)
	if acks, ok := store.(stream.NodeAcks); ok {
		fl = stream.NewSharedFloor(v, table, store, acks)
	}
	f.by[table] = fl
	return fl, nil
}

// follow keeps every table's floor at the one saved in its shared state
// store (raised through another node) until ctx ends; see Floor.Follow.
func (f *floors) follow(ctx context.Context) error {
	f.mu.Lock()
	var g errgroup.Group
	for table, fl := range f.by {
		g.Go(func() error { return fl.Follow(ctx, f.every, f.log.With("table", table)) })
	}
	f.mu.Unlock()
	return g.Wait()
}

func (f *floors) lookup(table string) (*stream.Floor, checkpoint.Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.by[table], f.stores[table]
}

// route is the admin endpoint for the metrics server.
func (f *floors) route() metrics.Route {
	return metrics.Route{Pattern: "POST " + ClockFloorPath, Handler: http.HandlerFunc(f.serve)}
}

// serve raises a table's floor in the running shard readers, then durably
// in the state store; it answers once every reader applied it at a batch
// boundary, so every stream change read from then on has a higher version.
// With a shared state store that means every reader on every node that may
// read the table's shards; when they have not all acknowledged it within
// floorWait it answers 503 (verify then repairs nothing above the floor).
func (f *floors) serve(w http.ResponseWriter, r *http.Request) {
	var req ClockFloorRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || req.Table == "" || req.Floor <= 0 {
		http.Error(w, "body must be {\"table\": name, \"generation\": n, \"floor\": version > 0}", http.StatusBadRequest)
		return
	}
	if !change.FloorAllowed(time.Now(), req.Floor, req.Generation) {
		http.Error(w, fmt.Sprintf("floor %d is outside generation %d or more than %s ahead of now", req.Floor, req.Generation, change.MaxFloorAhead), http.StatusBadRequest)
		return
	}
	fl, store := f.lookup(req.Table)
	if fl == nil {
		http.Error(w, fmt.Sprintf("table %s is not replicated by this process", req.Table), http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.wait)
	defer cancel()
	gen, err := checkpoint.Generation(ctx, store, req.Table)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if gen != req.Generation {
		http.Error(w, fmt.Sprintf("table %s is in version generation %d, not %d", req.Table, gen, req.Generation), http.StatusConflict)
		return
	}
	// Readers first, the state store last: when run dies in between,
	// verify gets no answer and repairs nothing, and the floor that some
	// readers applied is already in their checkpoints, so replays agree.
	// Once saved, shards started later and restarts begin above it.
	eff, err := fl.Raise(ctx, req.Floor)
	if err != nil {
		floorError(w, err)
		return
	}
	if eff, err = checkpoint.RaiseFloor(ctx, store, req.Table, eff); err != nil {
		http.Error(w, fmt.Sprintf("save clock floor of table %s: %v", req.Table, err), http.StatusInternalServerError)
		return
	}
	// The other nodes follow the saved floor; wait until all applied it.
	if err := fl.AwaitNodes(ctx, eff, f.poll); err != nil {
		f.log.Warn("clock floor saved but not applied everywhere in time; verify repairs nothing above it", "table", req.Table, "floor", eff, "err", err)
		floorError(w, err)
		return
	}
	f.log.Info("clock floor raised", "table", req.Table, "generation", gen, "floor", eff)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ClockFloorResponse{Table: req.Table, Generation: gen, Floor: eff})
}

// floorError answers a raise that failed: 503 when it ran out of time.
func floorError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		status = http.StatusServiceUnavailable
	}
	http.Error(w, err.Error(), status)
}
