package metrics

import (
	"net/http"
	"time"
)

// StatusBody is the JSON answer of a running run's /status: what `ddbsync
// status` adds to the state store's view.
type StatusBody struct {
	PID     int           `json:"pid"`
	Started time.Time     `json:"started"`
	Tables  []TableStatus `json:"tables"`
}

// TableStatus is one table's live state with its problems.
type TableStatus struct {
	TableSnapshot
	DeadLetters int      `json:"dead_letters"`
	DLQFile     string   `json:"dlq_file,omitempty"`
	Gap         string   `json:"gap,omitempty"`
	LastProblem *Problem `json:"last_problem,omitempty"`
}

// Status answers /status.
type Status struct {
	PID      int
	Started  time.Time
	Progress *Progress
	Health   *Health
	Problems *Problems
}

// Body builds the answer.
func (s Status) Body() StatusBody {
	b := StatusBody{PID: s.PID, Started: s.Started, Tables: []TableStatus{}}
	for _, ts := range s.Progress.Snapshot() {
		st := TableStatus{TableSnapshot: ts}
		st.DeadLetters, st.DLQFile = s.Health.DeadLetters(ts.Table)
		st.Gap, _ = s.Health.GapFor(ts.Table)
		if p, ok := s.Problems.Last(ts.Table); ok {
			st.LastProblem = &p
		}
		b.Tables = append(b.Tables, st)
	}
	return b
}

// Route returns the GET /status handler.
func (s Status) Route() Route {
	return Route{Pattern: "GET /status", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, s.Body())
	})}
}
