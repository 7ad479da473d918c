// Package redrive replays dead-letter files: it finds each opensearch
// sink's dead-letter file (dlq_file, or the default file under the state
// directory), selects letters by _id, and hands them to the sink's Replay,
// which sends them with their original versions through the sink's one
// write path. Letters refused again go to a new dead-letter file; the
// original file is never changed (a running `ddbsync run` may be appending
// to it).
package redrive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// Target is one dead-letter file and the sink whose letters it holds.
type Target struct {
	Pipeline string
	Sink     *config.OpenSearch
	File     string
}

// Targets lists the dead-letter file of every opensearch sink of f: its
// dlq_file, or opensearch.DefaultDLQPath under stateDir. With dlq set, only
// the sink whose file it is — or, when no sink names it, the file's only
// opensearch sink — with File = dlq (a file moved or copied elsewhere).
func Targets(f *config.File, stateDir, dlq string) ([]Target, error) {
	var all []Target
	for _, p := range f.Pipelines {
		n := 0
		for _, sc := range p.Sinks {
			if sc.OpenSearch == nil {
				continue
			}
			file := sc.OpenSearch.DLQFile
			if file == "" {
				file = opensearch.DefaultDLQPath(stateDir, p.Name, n)
			}
			n++
			all = append(all, Target{Pipeline: p.Name, Sink: sc.OpenSearch, File: file})
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s has no opensearch sink", f.Name)
	}
	if dlq == "" {
		return all, nil
	}
	for _, t := range all {
		if samePath(t.File, dlq) {
			return []Target{t}, nil
		}
	}
	if len(all) == 1 {
		all[0].File = dlq
		return all, nil
	}
	return nil, fmt.Errorf("--dlq %s is not the dead-letter file of any opensearch sink of %s, and it has %d; give the file of one of them (%s)", dlq, f.Name, len(all), files(all))
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

func files(ts []Target) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t.File
	}
	return s
}

// Read reads a target's dead letters; a file that does not exist holds none.
func Read(file string) ([]opensearch.DeadLetter, error) {
	fh, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	letters, err := opensearch.ReadDeadLetters(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return letters, nil
}

// Select keeps the letters whose _id is one of ids (all of them when ids is
// empty), in file order. unmatched lists the ids no letter has.
func Select(letters []opensearch.DeadLetter, ids []string) (kept []opensearch.DeadLetter, unmatched []string) {
	if len(ids) == 0 {
		return letters, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = false
	}
	for _, d := range letters {
		if _, ok := want[d.ID]; ok {
			kept = append(kept, d)
			want[d.ID] = true
		}
	}
	for _, id := range ids {
		if !want[id] {
			unmatched = append(unmatched, id)
			want[id] = true // once
		}
	}
	return kept, unmatched
}

// OutputPath is where letters refused again go: beside the original,
// <file without .jsonl>.redrive-<UTC time>.jsonl.
func OutputPath(file string, now time.Time) string {
	base := file
	if ext := filepath.Ext(base); ext == ".jsonl" {
		base = base[:len(base)-len(ext)]
	}
	return base + ".redrive-" + now.UTC().Format("20060102T150405.000Z") + ".jsonl"
}

// Replayer is the sink's replay (opensearch.Sink).
type Replayer interface {
	Replay(ctx context.Context, letters []opensearch.DeadLetter) (opensearch.ReplayResult, error)
	Close() error
}

// Report is the outcome of one target.
type Report struct {
	Target   Target
	Letters  int      // lines in the file
	Selected int      // lines chosen by --id (all without)
	Missing  []string // --id values no line has
	// NotReplayable are the selected letters of events a processor failed
	// on (_ids): their document is unprocessed, so they are never sent;
	// fix the item or the pipeline and run verify --repair instead.
	NotReplayable []string
	Result   opensearch.ReplayResult
	Output   string // file holding the letters refused again ("" when none)
}

// Run replays the selected letters of t through the replayer that
// newReplayer opens with output as its dead-letter file. With dryRun
// nothing is sent. An output file left empty is removed.
func Run(ctx context.Context, t Target, ids []string, dryRun bool, output string,
	newReplayer func(sink *config.OpenSearch, output string) (Replayer, error)) (Report, error) {
	r := Report{Target: t}
	letters, err := Read(t.File)
	if err != nil {
		return r, err
	}
	r.Letters = len(letters)
	sel, missing := Select(letters, ids)
	r.Selected, r.Missing = len(sel), missing
	kept := sel[:0:0]
	for _, l := range sel {
		if l.Error.Type == opensearch.ErrorTypeProcessor {
			r.NotReplayable = append(r.NotReplayable, l.ID)
			continue
		}
		kept = append(kept, l)
	}
	sel = kept
	if dryRun || len(sel) == 0 {
		return r, nil
	}
	rep, err := newReplayer(t.Sink, output)
	if err != nil {
		return r, err
	}
	res, err := rep.Replay(ctx, sel)
	cerr := rep.Close()
	r.Result = res
	if err == nil {
		err = cerr
	}
	if st, serr := os.Stat(output); serr == nil && st.Size() == 0 {
		_ = os.Remove(output)
	} else if serr == nil {
		r.Output = output
	}
	return r, err
}
