package metrics

import (
	"strings"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCaughtUp(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := t0.Add(10 * time.Second)
	tests := []struct {
		name   string
		setup  func(p *Progress, c *clock)
		listed []ListedShard
		want   bool
		why    string // part of the first reason when not caught up
	}{
		{"unknown table", func(p *Progress, c *clock) {}, nil, false, "starting"},
		{"backfill in progress", func(p *Progress, c *clock) {
			p.Phase("t", PhaseBackfill)
		}, nil, false, "backfill in progress"},
		{"backfill in progress even with a tip after the moment", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.Applied("t", "s1", at.Add(time.Second))
			p.Phase("t", PhaseBackfill) // a re-backfill forgets the stream's tips
		}, []ListedShard{{ID: "s1"}}, false, "backfill in progress"},
		{"no stream, backfill done", func(p *Progress, c *clock) {
			p.Phase("t", PhaseDone)
		}, nil, true, ""},
		{"empty read started after the moment", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s1")
			p.Applied("t", "s1", at.Add(time.Millisecond))
		}, []ListedShard{{ID: "s1"}}, true, ""},
		{"last read started before the moment", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s1")
			p.Applied("t", "s1", at.Add(-time.Millisecond))
		}, []ListedShard{{ID: "s1"}}, false, "applied up to"},
		{"read started exactly at the moment is not after it", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s1")
			p.Applied("t", "s1", at)
		}, []ListedShard{{ID: "s1"}}, false, "applied up to"},
		{"tip never moves back", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.Applied("t", "s1", at.Add(time.Second))
			p.Applied("t", "s1", at.Add(-time.Minute))
		}, []ListedShard{{ID: "s1"}}, true, ""},
		{"reader started, nothing acknowledged", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s1")
		}, []ListedShard{{ID: "s1"}}, false, "nothing acknowledged"},
		{"child of a rollover not read yet", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s1")
			p.Applied("t", "s1", at.Add(time.Second))
			p.ShardDone("t", "s1")
		}, []ListedShard{{ID: "s1"}, {ID: "s2", Parent: "s1"}}, false, "not read yet"},
		{"closed parent complete, child read past the moment", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s2")
			p.Applied("t", "s2", at.Add(time.Second))
		}, []ListedShard{{ID: "s1", Complete: true}, {ID: "s2", Parent: "s1"}}, true, ""},
		{"shard unknown to the readers", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
		}, []ListedShard{{ID: "s9"}}, false, "not read yet"},
		{"one of two shards behind", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.Applied("t", "a", at.Add(time.Second))
			p.Applied("t", "b", at.Add(-time.Second))
		}, []ListedShard{{ID: "a"}, {ID: "b"}}, false, "applied up to"},

		// Several nodes: shards other nodes read, judged by the moment
		// their reader published in the shared state table.
		{"another node's shard published past the moment", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Held: true, Expires: at.Add(5 * time.Second), Applied: at.Add(time.Millisecond)},
		}, true, ""},
		{"another node's shard published before the moment", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Held: true, Expires: at.Add(5 * time.Second), Applied: at.Add(-time.Second)},
		}, false, "read by node b: applied up to"},
		{"another node's shard published exactly at the moment", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Held: true, Applied: at},
		}, false, "read by node b"},
		{"another node's shard with nothing published", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Held: true, Expires: at.Add(5 * time.Second)},
		}, false, "published nothing"},
		{"dead owner: lease expired, published before the moment", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Expires: at.Add(-time.Second), Applied: at.Add(-2 * time.Second)},
		}, false, "no node holds it: the lease of node b expired"},
		{"dead owner that had applied past the moment", streaming, []ListedShard{
			{ID: "s2", Owner: "b", Expires: at.Add(2 * time.Second), Applied: at.Add(time.Second)},
		}, true, ""},
		{"released shard no node took yet", streaming, []ListedShard{
			{ID: "s2", Applied: at.Add(-time.Second)},
		}, false, "no node holds it (released)"},
		{"a shard that moved here: the later of both tips", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s2")
			p.Applied("t", "s2", at.Add(-time.Minute))
		}, []ListedShard{{ID: "s2", Owner: "a", Held: true, Applied: at.Add(time.Second)}}, true, ""},
		{"this node behind, the table's tip too", func(p *Progress, c *clock) {
			p.Phase("t", PhaseStream)
			p.ShardStarted("t", "s2")
			p.Applied("t", "s2", at.Add(-time.Minute))
		}, []ListedShard{{ID: "s2", Owner: "a", Held: true, Applied: at.Add(-time.Second)}}, false, "applied up to"},
		{"shared: complete in the table", streaming, []ListedShard{
			{ID: "s1", Complete: true}, {ID: "s2", Owner: "b", Held: true, Applied: at.Add(time.Second)},
		}, true, ""},
		{"shared: child waiting for its parent on another node", streaming, []ListedShard{
			{ID: "s1", Owner: "b", Held: true, Applied: at.Add(time.Second)}, {ID: "s2", Parent: "s1"},
		}, false, "waits for its parent s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: t0}
			p := NewProgress(c.now)
			tt.setup(p, c)
			got, behind := p.CaughtUp("t", at, tt.listed)
			if got != tt.want {
				t.Fatalf("CaughtUp = %v (%+v), want %v", got, behind, tt.want)
			}
			if !got && (len(behind) == 0 || !strings.Contains(behind[0].Why, tt.why)) {
				t.Errorf("behind = %+v, want a reason containing %q", behind, tt.why)
			}
			if got && len(behind) > 0 {
				t.Errorf("caught up with reasons %+v", behind)
			}
		})
	}
}

// streaming puts table t in the stream phase with no shard read here.
func streaming(p *Progress, _ *clock) { p.Phase("t", PhaseStream) }

// TestCaughtUpNamesTheNode: a reason about another node's shard says
// which node.
func TestCaughtUpNamesTheNode(t *testing.T) {
	at := time.Unix(1000, 0)
	p := NewProgress(func() time.Time { return at })
	p.Phase("t", PhaseStream)
	_, behind := p.CaughtUp("t", at, []ListedShard{{ID: "s2", Owner: "n2", Held: true, Applied: at.Add(-time.Second)}})
	if len(behind) != 1 || behind[0].Node != "n2" || behind[0].Shard != "s2" {
		t.Fatalf("behind = %+v", behind)
	}
}

func TestCaughtUpNilProgress(t *testing.T) {
	var p *Progress
	p.Phase("t", PhaseStream)
	p.Applied("t", "s", time.Now())
	if ok, _ := p.CaughtUp("t", time.Now(), nil); ok {
		t.Fatal("an untracked table is never caught up")
	}
}

func TestLagAndSilent(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := NewProgress(c.now)
	p.Phase("t", PhaseBackfill)
	if _, ok, why := p.Lag("t"); ok || why != "backfill in progress" {
		t.Fatalf("Lag during backfill = ok %v, %q", ok, why)
	}
	p.Phase("t", PhaseStream)
	p.ShardStarted("t", "a")
	p.Applied("t", "a", c.t)
	p.ShardStarted("t", "b")
	c.t = c.t.Add(5 * time.Second)
	p.Applied("t", "b", c.t.Add(-time.Second))
	lag, ok, _ := p.Lag("t")
	if !ok || lag != 5*time.Second {
		t.Fatalf("Lag = %s, %v; want 5s (shard a)", lag, ok)
	}
	c.t = c.t.Add(4 * time.Minute)
	p.Applied("t", "b", c.t)
	s := p.Silent(3 * time.Minute)
	if len(s) != 1 || !strings.HasPrefix(s[0].String(), "t/a:") {
		t.Fatalf("Silent = %q, want shard a only", s)
	}
	p.ShardDone("t", "a")
	if s := p.Silent(3 * time.Minute); len(s) != 0 {
		t.Fatalf("Silent after done = %q", s)
	}
	// A shard another node took over counts here no more.
	p.ShardStarted("t", "c")
	c.t = c.t.Add(4 * time.Minute)
	p.Applied("t", "b", c.t)
	p.ShardLeft("t", "c")
	if s := p.Silent(3 * time.Minute); len(s) != 0 {
		t.Fatalf("Silent after the shard left = %q", s)
	}
	if lag, _, _ := p.Lag("t"); lag != 0 {
		t.Fatalf("Lag after the shard left = %s", lag)
	}
}

func TestProbes(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	h := NewHealth(time.Minute, c.now)
	p := NewProgress(c.now)
	w := &Waits{}
	pr := Probes{Health: h, Progress: p, Waits: w, ReadyLag: 30 * time.Second, StallAfter: time.Minute, SilentAfter: 3 * time.Minute, Now: c.now}
	w.Set("opensearch", "connection refused")
	if ok, why, _ := pr.Ready(); ok || !contains(why, "waiting for opensearch") || !contains(why, "starting") {
		t.Fatalf("Ready while waiting = %v %q", ok, why)
	}
	if ok, why := pr.Live(); !ok {
		t.Fatalf("waiting for a server is live, got %q", why)
	}
	w.Clear("opensearch")
	h.Started()
	p.Phase("t", PhaseBackfill)
	if ok, why, _ := pr.Ready(); ok || !contains(why, "backfill") {
		t.Fatalf("Ready during backfill = %v %q", ok, why)
	}
	p.Phase("t", PhaseStream)
	p.ShardStarted("t", "s")
	p.Applied("t", "s", c.t)
	if ok, why, _ := pr.Ready(); !ok {
		t.Fatalf("Ready when caught up = %q", why)
	}
	c.t = c.t.Add(31 * time.Second)
	if ok, why, _ := pr.Ready(); ok || !contains(why, "behind") {
		t.Fatalf("Ready with 31s lag = %v %q", ok, why)
	}
	h.Pending("stream/t/shard/s")
	c.t = c.t.Add(2 * time.Minute)
	if ok, why := pr.Live(); ok || !contains(why, "stalled") {
		t.Fatalf("Live with a stalled sink = %v %q", ok, why)
	}
	// A reader waiting for the sink is stalled, not silent.
	c.t = c.t.Add(2 * time.Minute)
	if _, why := pr.Live(); contains(why, "silent") {
		t.Fatalf("a reader waiting for the sink reported silent: %q", why)
	}
	h.Acked("stream/t/shard/s")
	if ok, why := pr.Live(); ok || !contains(why, "silent: t/s") {
		t.Fatalf("Live with a reader silent for 4 min = %v %q", ok, why)
	}
}

func contains(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}
