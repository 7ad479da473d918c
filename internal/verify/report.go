package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of verifying every table of a pipeline file.
type Report struct {
	// Equal is true when no difference remains (after the repair with
	// Repair).
	Equal  bool          `json:"equal"`
	Repair bool          `json:"repair"`
	Tables []TableReport `json:"tables"`
}

// TableReport compares one table with one opensearch sink.
type TableReport struct {
	Pipeline string   `json:"pipeline"`
	Table    string   `json:"table"`
	Sink     int      `json:"sink"`  // position in the pipeline's sink list
	Index    string   `json:"index"` // the sink's index setting
	Read     []string `json:"indices_read"`
	Items    int      `json:"items"`
	Docs     int      `json:"docs"`
	// Missing, Extra and Stale count the differences that survived the
	// re-check; InFlight the ones that went away on re-check.
	Missing  int           `json:"missing"`
	Extra    int           `json:"extra"`
	Stale    int           `json:"stale"`
	InFlight int           `json:"in_flight"`
	Examples Examples      `json:"examples"`
	Repair   *RepairReport `json:"repair,omitempty"`
	// Remaining is what is still different: Missing+Extra+Stale, less what
	// the repair fixed.
	Remaining int      `json:"remaining"`
	Notes     []string `json:"notes,omitempty"`
}

// Examples are the first differences of each kind.
type Examples struct {
	Missing []Example `json:"missing"`
	Extra   []Example `json:"extra"`
	Stale   []Example `json:"stale"`
}

// Example is one difference: where, and a short reason.
type Example struct {
	Index  string `json:"index"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Differences is Missing + Extra + Stale.
func (t *TableReport) Differences() int { return t.Missing + t.Extra + t.Stale }

// add counts one kept difference and keeps it as an example while there
// are fewer than limit of its kind.
func (t *TableReport) add(k Kind, ex Example, limit int) {
	list := &t.Examples.Missing
	switch k {
	case Missing:
		t.Missing++
	case Extra:
		t.Extra++
		list = &t.Examples.Extra
	case Stale:
		t.Stale++
		list = &t.Examples.Stale
	}
	if len(*list) < limit {
		*list = append(*list, ex)
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	for i := range r.Tables { // empty lists rather than null
		e := &r.Tables[i].Examples
		for _, l := range []*[]Example{&e.Missing, &e.Extra, &e.Stale} {
			if *l == nil {
				*l = []Example{}
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for people: one row per table and sink,
// then each table's examples, repair outcome and notes, then the verdict.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tTABLE\tINDEX\tITEMS\tDOCS\tMISSING\tEXTRA\tSTALE\tIN-FLIGHT")
	for _, t := range r.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", t.Pipeline, t.Table, t.Index,
			t.Items, t.Docs, t.Missing, t.Extra, t.Stale, t.InFlight)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	tables := 0
	for _, t := range r.Tables {
		if t.Differences() == 0 && t.Repair == nil && len(t.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s → %s (indices read: %s)\n", t.Table, t.Index, strings.Join(t.Read, ", "))
		for _, g := range []struct {
			kind string
			list []Example
			n    int
		}{{"missing", t.Examples.Missing, t.Missing}, {"extra", t.Examples.Extra, t.Extra}, {"stale", t.Examples.Stale, t.Stale}} {
			if g.n == 0 {
				continue
			}
			fmt.Fprintf(&b, "  %s: %d", g.kind, g.n)
			if len(g.list) < g.n {
				fmt.Fprintf(&b, " (first %d)", len(g.list))
			}
			b.WriteString("\n")
			for _, e := range g.list {
				fmt.Fprintf(&b, "    %s %q: %s\n", e.Index, e.ID, e.Reason)
			}
		}
		if p := t.Repair; p != nil {
			fmt.Fprintf(&b, "  repair: %d indexed, %d deleted, %d skipped (newer than the repair), %d failed, %d not attempted\n",
				p.Indexed, p.Deleted, p.Skipped, p.Failed, p.NotAttempted)
			if p.Floor > 0 {
				fmt.Fprintf(&b, "  documents changed out of band repaired above clock floor %d (%d settled on the re-read)\n", p.Floor, p.Settled)
			}
			if p.DeadLettered > 0 {
				fmt.Fprintf(&b, "  %d repair(s) rejected for good went to the dead-letter queue\n", p.DeadLettered)
			}
			for _, e := range p.Examples {
				fmt.Fprintf(&b, "    %s %q: %s\n", e.Index, e.ID, e.Reason)
			}
		}
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		if t.Remaining > 0 {
			tables++
		}
	}
	remaining := 0
	for _, t := range r.Tables {
		remaining += t.Remaining
	}
	switch {
	case r.Equal && r.Repair && anyRepaired(r):
		b.WriteString("\nequal after repair: every item has its document and every document its item\n")
	case r.Equal:
		b.WriteString("\nequal: every item has its document and every document its item\n")
	default:
		fmt.Fprintf(&b, "\nNOT EQUAL: %d difference(s) remain in %d of %d table/sink pair(s)\n", remaining, tables, len(r.Tables))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func anyRepaired(r *Report) bool {
	for _, t := range r.Tables {
		if t.Repair != nil && t.Repair.Indexed+t.Repair.Deleted > 0 {
			return true
		}
	}
	return false
}
