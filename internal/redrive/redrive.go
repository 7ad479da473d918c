// Package redrive replays dead letters: it finds each opensearch sink's
// dead-letter queue (dlq.s3 objects, dlq_file, or the default file under
// the state directory), selects letters by _id, and hands them to the
// sink's Replay, which sends them with their original versions through the
// sink's one write path. Letters refused again go to a new local
// dead-letter file; the original file or objects are never changed (a
// running `ddbsync run` may be appending to them).
package redrive

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// Target is one dead-letter queue and the sink whose letters it holds.
type Target struct {
	Pipeline string
	Sink     *config.OpenSearch
	// File is the dead-letter file, or for S3 the location as
	// s3://bucket/prefix (for reports).
	File string
	// S3 is set when the letters are S3 objects under a bucket and prefix.
	S3 *S3Location
	// n is the sink's ordinal among the pipeline's opensearch sinks.
	n int
}

// Targets lists the dead-letter queue of every opensearch sink of f: its
// dlq.s3 objects, its dlq_file, or opensearch.DefaultDLQPath under
// stateDir. With dlq set (a file, or s3://bucket/prefix), only the sink
// whose queue it is — or, when no sink has it, the file's only opensearch
// sink, reading dlq instead (letters moved or copied elsewhere).
func Targets(f *config.File, stateDir, dlq string) ([]Target, error) {
	var all []Target
	for _, p := range f.Pipelines {
		n := 0
		for _, sc := range p.Sinks {
			if sc.OpenSearch == nil {
				continue
			}
			t := Target{Pipeline: p.Name, Sink: sc.OpenSearch, File: sc.OpenSearch.DLQFile, n: n}
			switch {
			case sc.OpenSearch.DLQS3 != nil:
				l := sinkLocation(sc.OpenSearch)
				t.S3, t.File = &l, l.String()
			case t.File == "":
				t.File = opensearch.DefaultDLQPath(stateDir, p.Name, n)
			}
			n++
			all = append(all, t)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s has no opensearch sink", f.Name)
	}
	if dlq == "" {
		return all, nil
	}
	loc, isS3, err := ParseS3URL(dlq)
	if err != nil {
		return nil, fmt.Errorf("--dlq %w", err)
	}
	for _, t := range all {
		if (isS3 && t.S3 != nil && within(loc, *t.S3)) || (!isS3 && t.S3 == nil && samePath(t.File, dlq)) {
			if isS3 {
				t.S3, t.File = &loc, loc.String() // a prefix inside the sink's reads only that part
			}
			return []Target{t}, nil
		}
	}
	if len(all) == 1 {
		all[0].File, all[0].S3 = dlq, nil
		if isS3 {
			all[0].S3, all[0].File = &loc, loc.String()
		}
		return all, nil
	}
	return nil, fmt.Errorf("--dlq %s is not the dead-letter queue of any opensearch sink of %s, and it has %d; give the queue of one of them (%s)", dlq, f.Name, len(all), files(all))
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

// Reader reads a target's dead letters.
type Reader func(ctx context.Context, t Target) ([]opensearch.DeadLetter, error)

// NewReader reads file targets from disk and S3 targets through the client
// that newS3 opens for the target's sink (its dlq.s3 region and role);
// log hears of transient S3 failures (nil discards).
func NewReader(newS3 func(ctx context.Context, sink *config.OpenSearch) (ObjectReader, error), log *slog.Logger) Reader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, t Target) ([]opensearch.DeadLetter, error) {
		if t.S3 == nil {
			return Read(t.File)
		}
		c, err := newS3(ctx, t.Sink)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.S3, err)
		}
		return readS3(ctx, c, *t.S3, log)
	}
}

// OutputFor is where the letters of t refused again go: beside a file
// (OutputPath), or for S3 a local file under stateDir,
// dlq/<pipeline>[.n].s3-<bucket>.redrive-<UTC time>.jsonl.
func OutputFor(t Target, stateDir string, now time.Time) string {
	if t.S3 == nil {
		return OutputPath(t.File, now)
	}
	name := t.Pipeline
	if t.n > 0 {
		name += fmt.Sprintf(".%d", t.n)
	}
	return OutputPath(opensearch.DefaultDLQPath(stateDir, name+".s3-"+t.S3.Bucket, 0), now)
}

// Read reads a dead-letter file; a file that does not exist holds none.
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
	Letters  int      // letters in the file or objects
	Selected int      // lines chosen by --id (all without)
	Missing  []string // --id values no line has
	// NotReplayable are the selected letters of events a processor failed
	// on (_ids): their document is unprocessed, so they are never sent;
	// fix the item or the pipeline and run verify --repair instead.
	NotReplayable []string
	Result        opensearch.ReplayResult
	Output        string // file holding the letters refused again ("" when none)
}

// Run replays the selected letters of t, read with read, through the
// replayer that newReplayer opens with output as its dead-letter file.
// With dryRun nothing is sent. An output file left empty is removed.
func Run(ctx context.Context, t Target, ids []string, dryRun bool, output string, read Reader,
	newReplayer func(sink *config.OpenSearch, output string) (Replayer, error)) (Report, error) {
	r := Report{Target: t}
	letters, err := read(ctx, t)
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
