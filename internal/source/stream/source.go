package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// Options tunes polling and discovery; zero values take the defaults.
type Options struct {
	PollMin   time.Duration // least time between two GetRecords on one shard (default 200ms: 5 calls/s)
	PollMax   time.Duration // idle poll interval, stream.poll_interval (default 250ms: 4 calls/s); see poll.go
	ListEvery time.Duration // full shard listing period (default 10s)
	// FastList is the listing period for a while after a shard ended, so
	// its children are found within seconds (default 1s for 15s).
	FastList time.Duration
	// Grace is how long an acknowledgement in flight may finish after a
	// stop was requested (default 30s).
	Grace time.Duration
	// TrimmedBound is how long fresh iterators may keep answering
	// TrimmedDataAccessException before the records are taken as gone
	// (default trimmedBound, 5 minutes).
	TrimmedBound time.Duration
	Now          func() time.Time
	// LeaseRecheck is how often a shard held by another node (or over this
	// node's fair share) is tried again (default 2s).
	LeaseRecheck time.Duration
	// Sleep, when set, is the shard reader's wait between polls (a fake
	// clock in tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, when set, learns the phase and every shard's applied tip
	// (the caught-up signal and /readyz).
	Progress *metrics.Progress
	// Share, when set, is the node's fair share across every table of the
	// pipeline; without one the table's shards are shared on their own.
	Share *Share
}

func (o *Options) defaults() {
	if o.PollMin == 0 {
		o.PollMin = defaultPollMin
	}
	if o.PollMax == 0 {
		o.PollMax = defaultPollIdle
	}
	if o.ListEvery == 0 {
		o.ListEvery = 10 * time.Second
	}
	if o.FastList == 0 {
		o.FastList = time.Second
	}
	if o.Grace == 0 {
		o.Grace = 30 * time.Second
	}
	if o.TrimmedBound == 0 {
		o.TrimmedBound = trimmedBound
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LeaseRecheck == 0 {
		o.LeaseRecheck = 2 * time.Second
	}
}

// retention is how long DynamoDB Streams keeps records.
const retention = 24 * time.Hour

// latestMargin is how far before the first start LATEST begins.
const latestMargin = time.Minute

// metaFirstListing marks a stream start record whose first listing is not
// finished yet ("pending").
const metaFirstListing = "first_listing"

// Source tails one table's stream.
type Source struct {
	api    API
	store  checkpoint.Store
	log    *slog.Logger
	m      *metrics.Stream
	health *metrics.Health
	table  Table
	opts   Options
}

// New returns a Source for one table. Nothing runs until Run.
func New(api API, store checkpoint.Store, table Table, log *slog.Logger, m *metrics.Stream, health *metrics.Health, opts Options) *Source {
	opts.defaults()
	if m == nil {
		m = metrics.NewStream(nil)
	}
	if health == nil {
		health = metrics.NewHealth(time.Minute, opts.Now)
	}
	return &Source{api: api, store: store, log: log.With("table", table.Name), m: m, health: health, table: table, opts: opts}
}

// shardStatus is the coordinator's view of one shard.
type shardStatus uint8

const (
	statusWaiting shardStatus = iota
	statusRunning
	statusDone
)

// Run reads the stream until ctx ends (returning nil after in-flight
// acknowledgements finish) or a shard fails (returning its error; a
// *GapError when data was lost).
func (s *Source) Run(ctx context.Context, h Handler) error {
	meta, found, err := s.store.Get(ctx, s.table.metaKey())
	if err != nil {
		return err
	}
	created := false
	if !found {
		from := s.table.Cutoff
		if from == 0 && s.table.StartPosition != "TRIM_HORIZON" {
			// LATEST: records from now on. The margin keeps records whose
			// ApproximateCreationDateTime is rounded down (DynamoDB Local
			// rounds to the minute); replaying a few older ones is harmless.
			from = s.opts.Now().Add(-latestMargin).Unix()
		}
		// One start position for every node: the first to record it wins.
		meta, created, err = s.store.Create(ctx, s.table.metaKey(), checkpoint.Progress{Meta: map[string]string{
			"stream_arn": s.table.StreamARN, "from": strconv.FormatInt(from, 10), metaFirstListing: "pending",
		}})
		if err != nil {
			return err
		}
	}
	// The first listing (closed shards at LATEST, roots whose parents were
	// trimmed before ddbsync started) is judged as such until one node
	// finished it.
	first := meta.Meta[metaFirstListing] == "pending"
	var from int64
	{
		if arn := meta.Meta["stream_arn"]; arn != s.table.StreamARN {
			// The caller resolves the recorded stream first (it is drained
			// before a replacement is judged); this guards the rule that one
			// stream's checkpoints are never applied to another.
			s.m.Gaps.WithLabelValues(s.table.Name, "stream_replaced").Inc()
			return Replaced(s.table.Name, arn, s.table.StreamARN)
		}
		if from, err = strconv.ParseInt(meta.Meta["from"], 10, 64); err != nil {
			return fmt.Errorf("checkpoint %s: bad from %q", s.table.metaKey(), meta.Meta["from"])
		}
	}
	if first && s.table.Cutoff > 0 && s.opts.Now().Sub(time.Unix(s.table.Cutoff, 0)) > retention {
		// The records between the backfill and now may already be trimmed.
		s.m.Gaps.WithLabelValues(s.table.Name, "backfill_too_old").Inc()
		return &GapError{Table: s.table.Name, Shard: "-", Reason: fmt.Sprintf("the backfill's stream cutoff %s is older than the stream's 24 h retention; stream records after it may be gone", time.Unix(s.table.Cutoff, 0).UTC())}
	}
	s.log.Info("stream starting", "stream", s.table.StreamARN, "first_start", first, "recorded_start", created, "from", from)
	s.opts.Progress.Phase(s.table.Name, metrics.PhaseStream)

	// Acknowledgements in flight may finish for Grace after a stop.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopWork := context.AfterFunc(ctx, func() { time.AfterFunc(s.opts.Grace, cancelWork) })
	defer stopWork()

	err = s.coordinate(ctx, work, h, first, from)
	if ctx.Err() != nil && err == ctx.Err() {
		return nil
	}
	return err
}

// coordinate lists shards and starts a reader for every shard whose parent
// is done and whose lease this node takes, until ctx ends. A shard another
// node holds, or one over this node's fair share, is tried again every
// LeaseRecheck; a shard whose lease is lost goes back to waiting.
func (s *Source) coordinate(ctx, work context.Context, h Handler, first bool, from int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	finished := make(chan shardEnd)
	status := map[string]shardStatus{}
	running := map[string]context.CancelCauseFunc{} // shard → stops its reader
	held := map[string]heldHint{}                   // shard → another node holds it until
	share := s.opts.Share
	if share == nil {
		share = newShare(func() int { return checkpoint.LiveNodes(s.store) })
	}
	member := share.join(s.table.Name)
	defer member.leave()
	var fastUntil time.Time
	err := func() error {
		for {
			shards, disabled, err := s.listStream(gctx)
			if err != nil {
				return err
			}
			inListing := make(map[string]bool, len(shards))
			for _, sh := range shards {
				inListing[sh.ID] = true
			}
			type candidate struct {
				sh    shardInfo
				start checkpoint.Progress
			}
			var cands []candidate
			seq, released := s.releases()
			hinted, wake := 0, time.Time{}
			for _, sh := range shards {
				if status[sh.ID] != statusWaiting {
					continue
				}
				if h, ok := held[sh.ID]; ok {
					if h.seq == seq && s.opts.Now().Before(h.until) {
						// Held by another node until then (or until some
						// node releases a lease): not read again before.
						hinted++
						if wake.IsZero() || h.until.Before(wake) {
							wake = h.until
						}
						continue
					}
					delete(held, sh.ID)
				}
				start, err := s.decide(gctx, sh, inListing, status, first)
				if err != nil {
					return err
				}
				if start != nil {
					cands = append(cands, candidate{sh, *start})
				}
			}
			// Fair share: ceil(readable shards / live nodes) across the
			// pipeline's tables (see Share), never more. A shard another
			// node holds, or one being released, is readable too.
			readable := len(cands) + hinted
			for _, st := range status {
				if st == statusRunning {
					readable++
				}
			}
			member.report(readable, len(running))
			retry := s.shed(member, running)
			blocked := false // a candidate waits for room in the node's share
			for _, c := range cands {
				if !member.reserve() {
					blocked = true // at the node's share: await looks for room every LeaseRecheck
					break
				}
				lctx, p, ok, err := s.take(gctx, c.sh, c.start, status)
				var he *checkpoint.HeldError
				switch {
				case errors.As(err, &he) && !he.Until.IsZero():
					member.unreserve()
					held[c.sh.ID] = heldHint{until: he.Until, seq: seq}
					if wake.IsZero() || he.Until.Before(wake) {
						wake = he.Until
					}
					continue
				case errors.Is(err, checkpoint.ErrLeaseHeld):
					member.unreserve()
					retry = true // lost a race for it: the winner's expiry is unknown
					continue
				case err != nil:
					member.unreserve()
					return err
				}
				if !ok {
					member.unreserve()
					retry = retry || status[c.sh.ID] == statusWaiting
					continue
				}
				status[c.sh.ID] = statusRunning
				rctx, stop := context.WithCancelCause(lctx)
				running[c.sh.ID] = stop
				s.m.OpenShards.WithLabelValues(s.table.Name).Inc()
				g.Go(func() error { return s.runReader(gctx, rctx, stop, work, c.sh, p, from, h, finished) })
			}
			if first {
				meta := checkpoint.Progress{Meta: map[string]string{
					"stream_arn": s.table.StreamARN, "from": strconv.FormatInt(from, 10),
				}}
				if err := s.store.Save(gctx, s.table.metaKey(), meta); err != nil {
					return err
				}
				first = false
			}
			if disabled && len(running) == 0 && allDone(shards, status) {
				s.log.Info("stream disabled and drained", "stream", s.table.StreamARN, "shards", len(shards))
				return &EndedError{Table: s.table.Name, StreamARN: s.table.StreamARN}
			}
			wait := s.opts.ListEvery
			if s.opts.Now().Before(fastUntil) {
				wait = s.opts.FastList
			}
			if retry {
				wait = min(wait, s.opts.LeaseRecheck)
			}
			if !wake.IsZero() {
				// Just past the earliest expiry another node's lease had.
				wait = max(min(wait, wake.Sub(s.opts.Now())+50*time.Millisecond), 50*time.Millisecond)
			}
			if err := s.await(gctx, wait, member, blocked, running, status, released, finished, &fastUntil); err != nil {
				return err
			}
		}
	}()
	if err != nil && gctx.Err() != nil {
		// The stop (or a reader's failure, reported by g.Wait) cut a call
		// of the listing short: a stop while DynamoDB Streams or the state
		// table is unreachable is still a clean stop.
		err = gctx.Err()
	}
	cancel() // stop the readers when the listing loop failed
	werr := g.Wait()
	if err == nil || err == gctx.Err() && werr != nil {
		err = werr
	}
	return err
}

// await waits between two listings: for wait, until a reader ends, or
// until some node released a lease. Meanwhile the node's share is checked
// every LeaseRecheck: a node joining (it shows in the live nodes, not in
// this table's listing) has a shard released within seconds, and a table
// whose candidates wait for room in the share (blocked) lists again as
// soon as there is room.
func (s *Source) await(ctx context.Context, wait time.Duration, member *shareMember, blocked bool, running map[string]context.CancelCauseFunc,
	status map[string]shardStatus, released <-chan struct{}, finished <-chan shardEnd, fastUntil *time.Time) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	check := time.NewTicker(s.opts.LeaseRecheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-released:
			return nil // a node gave a lease up: the held shards may be free
		case end := <-finished:
			delete(running, end.id)
			member.setRunning(len(running))
			if end.done {
				status[end.id] = statusDone
				*fastUntil = s.opts.Now().Add(15 * time.Second)
			} else {
				status[end.id] = statusWaiting
			}
			return nil
		case <-check.C:
			s.shed(member, running)
			if blocked && member.room() {
				return nil
			}
		case <-t.C:
			return nil
		}
	}
}

// runReader reads one shard and tells the coordinator how it ended: done
// (drained), or back to waiting when its lease was lost or it was released
// to balance the nodes. A stop of the whole source reports nothing.
func (s *Source) runReader(gctx, rctx context.Context, stop context.CancelCauseFunc, work context.Context, sh shardInfo, p checkpoint.Progress, from int64, h Handler, finished chan<- shardEnd) error {
	err := s.readShard(rctx, work, sh, p, from, h)
	s.m.OpenShards.WithLabelValues(s.table.Name).Dec()
	end := shardEnd{id: sh.ID, done: err == nil}
	switch cause := context.Cause(rctx); {
	case errors.Is(err, checkpoint.ErrLeaseLost) || errors.Is(cause, checkpoint.ErrLeaseLost):
		s.log.Warn("lease lost; another node reads the shard now", "shard", sh.ID)
		end.done, err = false, nil
	case err == nil && errors.Is(cause, errShed) && gctx.Err() == nil:
		end.done = false // released for another node; not drained
	}
	stop(nil)
	if !end.done && err == nil {
		s.opts.Progress.ShardLeft(s.table.Name, sh.ID)
		s.m.ShardLag.DeleteLabelValues(s.table.Name, sh.ID)
	}
	if err != nil {
		return err
	}
	if end.done && rctx.Err() != nil && gctx.Err() != nil {
		return nil // stopped, not drained
	}
	select {
	case finished <- end:
	case <-gctx.Done():
	}
	return nil
}

// errShed stops a reader whose shard this node gives up to balance the
// nodes' shares.
var errShed = errors.New("shard released to balance the nodes")

// shed stops one reader when the node holds more than its fair share
// (another node joined; see Share): the reader finishes its batch in
// flight, saves it and releases the lease, and a node below its share
// takes the shard. One per listing of one table, so the nodes converge
// without stampedes. It reports whether it shed (the listing should come
// back soon).
func (s *Source) shed(member *shareMember, running map[string]context.CancelCauseFunc) bool {
	if len(running) == 0 {
		return false
	}
	held, target, even, ok := member.shed()
	if !ok {
		return false
	}
	ids := make([]string, 0, len(running))
	for id := range running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	id := ids[len(ids)-1]
	why := "over the fair share"
	if even {
		why = "another node reads two fewer"
	}
	s.log.Info("releasing a shard to balance the nodes", "shard", id, "held", held, "fair_share", target, "why", why)
	running[id](errShed)
	delete(running, id) // counted out now; its end arrives later
	return true
}

// shardEnd is how a reader ended: drained (done), or its lease was lost.
type shardEnd struct {
	id   string
	done bool
}

// take acquires a shard's lease. It fails with checkpoint.ErrLeaseHeld
// (a *checkpoint.HeldError from a shared store) when another node holds
// it; ok is false when the shard is done (status then says so). The saved progress wins
// over start when the shard was read before (by any node), so a take-over
// continues exactly where the last owner acknowledged.
func (s *Source) take(ctx context.Context, sh shardInfo, start checkpoint.Progress, status map[string]shardStatus) (context.Context, checkpoint.Progress, bool, error) {
	key := s.table.shardKey(sh.ID)
	lctx, p, found, err := s.store.Acquire(ctx, key)
	switch {
	case errors.Is(err, checkpoint.ErrLeaseHeld):
		s.log.Debug("shard held by another node", "shard", sh.ID, "err", err)
		return nil, start, false, err
	case err != nil:
		return nil, start, false, fmt.Errorf("acquire %s: %w", key, err)
	case p.Done && !s.current(p):
		return nil, start, false, nil // an earlier generation's: decide replaces it
	case p.Done:
		status[sh.ID] = statusDone
		return nil, start, false, nil
	case found && p.Sequence != "" && s.current(p):
		start = p
	}
	return lctx, start, true, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// heldHint is what a refused take read: another node holds the shard
// until then. It holds while no node has released a lease since (seq).
type heldHint struct {
	until time.Time
	seq   int64
}

// releaseAnnouncer is a shared store that announces lease releases
// (checkpoint.DynamoStore): a shard held by another node is read again
// at its lease's expiry, or as soon as some node released a lease.
type releaseAnnouncer interface {
	Releases() (seen int64, changed <-chan struct{})
}

// releases is the store's release count and the channel closed at its
// next change; a store that announces none never signals, and its held
// shards are read again at their expiry.
func (s *Source) releases() (int64, <-chan struct{}) {
	if r, ok := s.store.(releaseAnnouncer); ok {
		return r.Releases()
	}
	return 0, nil
}

// current reports whether a shard record belongs to the table's version
// generation this source reads in.
func (s *Source) current(p checkpoint.Progress) bool { return p.Generation == s.table.Generation }

// allDone reports whether every listed shard is done (drained here, or by
// another node, or before this start).
func allDone(shards []shardInfo, status map[string]shardStatus) bool {
	for _, sh := range shards {
		if status[sh.ID] != statusDone {
			return false
		}
	}
	return true
}

// decide returns the progress to start a shard from, nil to wait, or a
// *GapError when the shard's parent was lost before it was drained.
func (s *Source) decide(ctx context.Context, sh shardInfo, inListing map[string]bool, status map[string]shardStatus, first bool) (*checkpoint.Progress, error) {
	key := s.table.shardKey(sh.ID)
	p, found, err := s.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if found && !s.current(p) {
		// Written by a node that had not seen the re-backfill yet: replaced
		// by a fresh record of this generation once nobody holds it.
		fresh := checkpoint.Progress{Parent: sh.Parent, Generation: s.table.Generation}
		switch err := s.store.Save(ctx, key, fresh); {
		case errors.Is(err, checkpoint.ErrLeaseHeld):
			return nil, nil
		case err != nil:
			return nil, err
		}
		p = fresh
	}
	if p.Done {
		status[sh.ID] = statusDone
		return nil, nil
	}
	if !found {
		p = checkpoint.Progress{Parent: sh.Parent, Generation: s.table.Generation}
		if first && sh.Closed && s.table.StartPosition != "TRIM_HORIZON" && s.table.Cutoff == 0 {
			// LATEST on the very first start: history in closed shards is not wanted.
			status[sh.ID] = statusDone
			return nil, s.store.Complete(ctx, key, p)
		}
		// Record the shard at discovery, so a later start can tell a
		// known parent from one that vanished unread (once: another node
		// may have recorded, or even read, it meanwhile).
		if p, _, err = s.store.Create(ctx, key, p); err != nil {
			return nil, err
		}
	}
	if p.Sequence != "" || sh.Parent == "" {
		return &p, nil
	}
	switch {
	case status[sh.Parent] == statusDone:
	case inListing[sh.Parent]:
		// The parent is read first, here or by another node: the store
		// says when it is done (DESIGN §7 lineage).
		pp, _, err := s.store.Get(ctx, s.table.shardKey(sh.Parent))
		if err != nil {
			return nil, err
		}
		if !pp.Done || !s.current(pp) {
			return nil, nil
		}
		status[sh.Parent] = statusDone
	default:
		pp, pfound, err := s.store.Get(ctx, s.table.shardKey(sh.Parent))
		if err != nil {
			return nil, err
		}
		pfound = pfound && s.current(pp)
		switch {
		case pfound && pp.Done:
			status[sh.Parent] = statusDone
		case pfound:
			s.m.Gaps.WithLabelValues(s.table.Name, "parent_vanished").Inc()
			return nil, &GapError{Table: s.table.Name, Shard: sh.Parent, Reason: fmt.Sprintf("shard expired before it was fully read (last acknowledged sequence %q); its child %s cannot be applied in order", pp.Sequence, sh.ID)}
		case first:
			// A root of the listing: its parent was trimmed before ddbsync started.
			return &p, nil
		default:
			s.m.Gaps.WithLabelValues(s.table.Name, "parent_unknown").Inc()
			return nil, &GapError{Table: s.table.Name, Shard: sh.ID, Reason: fmt.Sprintf("parent shard %s was never read and no longer exists (was ddbsync stopped longer than the stream's 24 h retention?)", sh.Parent)}
		}
	}
	// Inherit the parent's final version clock (DESIGN §2.3).
	pp, _, err := s.store.Get(ctx, s.table.shardKey(sh.Parent))
	if err != nil {
		return nil, err
	}
	if !s.current(pp) {
		pp = checkpoint.Progress{}
	}
	if pp.Clock.Second > p.Clock.Second || pp.Clock.Second == p.Clock.Second && pp.Clock.Count > p.Clock.Count {
		p.Clock = pp.Clock
	}
	return &p, nil
}
