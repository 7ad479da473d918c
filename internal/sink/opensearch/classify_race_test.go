package opensearch

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/change"
)

// TestIsMappingRace: the reasons OpenSearch 2.19 gives for parallel first
// writes (measured on the real server) are races; a value that does not fit
// an established mapping is permanent.
func TestIsMappingRace(t *testing.T) {
	tests := []struct {
		status int
		typ    string
		reason string
		want   bool
	}{
		{400, "illegal_argument_exception", "mapper [f1] cannot be changed from type [long] to [float]", true},
		{400, "illegal_argument_exception", "mapper [f1] cannot be changed from type [float] to [long]", true},
		{400, "illegal_argument_exception", "mapper [n.l.m] cannot be changed from type [text] to [double]", true},
		{400, "illegal_argument_exception", "mapper [x] of different type, current_type [long], merged_type [double]", true},
		{400, "illegal_argument_exception", "can't merge a non object mapping [g] with an object mapping", true},
		{400, "mapper_parsing_exception", "failed to parse: mapper [a] cannot be changed from type [long] to [float]", true},
		{400, "mapper_parsing_exception", "failed to parse field [a] of type [long] in document with id 'x'. Preview of field's value: '1234567890123456789012345'", false},
		{400, "mapper_parsing_exception", "object mapping for [h] tried to parse field [h] as object, but found a concrete value", false},
		{400, "mapper_parsing_exception", "failed to parse field [i] of type [boolean] in document with id 'x'", false},
		{400, "illegal_argument_exception", "Limit of total fields [1000] has been exceeded", false},
		{400, "strict_dynamic_mapping_exception", "mapping set to strict, dynamic introduction of [z] within [_doc] is not allowed", false},
		{409, "illegal_argument_exception", "mapper [f1] cannot be changed from type [long] to [float]", false},
	}
	for _, tc := range tests {
		if got := isMappingRace(tc.status, tc.typ, tc.reason); got != tc.want {
			t.Errorf("isMappingRace(%d, %s, %q) = %v, want %v", tc.status, tc.typ, tc.reason, got, tc.want)
		}
	}
}

const raceReason = "mapper [v] cannot be changed from type [long] to [float]"

// TestWriteMappingRaceRetried: a race answer is sent again (not
// dead-lettered) and succeeds once the winner's mapping is in place.
func TestWriteMappingRaceRetried(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := each(ops, res{status: 201})
		if n < 2 {
			out[len(out)-1] = res{status: 400, typ: "illegal_argument_exception", reason: raceReason}
		}
		return http.StatusOK, out
	})
	cfg := testConfig(srv.URL)
	cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.jsonl")
	s := newTestSink(t, cfg, prometheus.NewRegistry())
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 3 || len(reqs[1]) != 1 || reqs[1][0].ID != "b" || reqs[2][0].ID != "b" {
		t.Fatalf("requests = %v, want [a b] then [b] twice", reqs)
	}
	if got := count(t, s.met.deadLettered); got != 0 {
		t.Errorf("dead-lettered = %d, want 0", got)
	}
	if got := count(t, s.met.indexed); got != 2 {
		t.Errorf("indexed = %d, want 2", got)
	}
}

// TestWriteMappingConflictDeadLettered: a conflict that persists is sent
// mappingRaceAttempts times in all, then dead-lettered; a permanent mapping
// error is dead-lettered at once.
func TestWriteMappingConflictDeadLettered(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := each(ops, res{status: 201})
		for i, o := range ops {
			switch o.ID {
			case "race":
				out[i] = res{status: 400, typ: "illegal_argument_exception", reason: raceReason}
			case "bad":
				out[i] = res{status: 400, typ: "mapper_parsing_exception", reason: "object mapping for [h] tried to parse field [h] as object, but found a concrete value"}
			}
		}
		return http.StatusOK, out
	})
	cfg := testConfig(srv.URL)
	cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.jsonl")
	s := newTestSink(t, cfg, prometheus.NewRegistry())
	err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "race", 2), ev(change.OpIndex, "bad", 3)})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for _, r := range f.requests() {
		for _, o := range r {
			sent[o.ID]++
		}
	}
	if sent["a"] != 1 || sent["bad"] != 1 || sent["race"] != mappingRaceAttempts {
		t.Errorf("sent = %v, want a and bad once, race %d times", sent, mappingRaceAttempts)
	}
	data, err := os.ReadFile(cfg.DLQFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 2 || !strings.Contains(string(data), raceReason) {
		t.Errorf("dead-letter file has %d lines, want race and bad:\n%s", got, data)
	}
}
