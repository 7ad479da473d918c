package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"
)

// run produces one export in the background: _started, data files, manifests, then (after
// the configured delay, so clients really poll) COMPLETED — or FAILED with a code and message.
func (s *server) run(ctx context.Context, e *export) {
	defer s.jobs.Done()
	log := s.log.With("table", e.table, "export", e.meta.ExportArn)

	fault := s.exports.takeArmed(e.table)
	var sum manifestSummary
	var err error
	if fault == faultFail {
		err = errInjectedFailure
	} else {
		s.mu.Lock()
		l := newLayout(e.meta, s.cfg.Files, s.rnd)
		s.mu.Unlock()
		var key string
		sum, key, err = writeExport(ctx, s.objects, l, s.fill(e), s.now, fault)
		if key != "" {
			log.Warn("export corrupted on request", "kind", fault, "file", key)
		}
	}
	if err == nil {
		t := time.NewTimer(s.cfg.Delay)
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
		t.Stop()
	}

	if err != nil {
		code := failureCode(err)
		if errors.Is(err, errInjectedFailure) {
			code = "EmulatorInjectedFailure"
		}
		log.Warn("export failed", "code", code, "err", err)
		s.exports.end(e, func(d *exportDescription) {
			d.ExportStatus, d.EndTime = "FAILED", newEpochTime(s.now())
			d.FailureCode, d.FailureMessage = code, err.Error()
		})
		return
	}
	end, _ := time.Parse(time.RFC3339Nano, sum.EndTime)
	s.exports.end(e, func(d *exportDescription) {
		d.ExportStatus, d.EndTime, d.ExportManifest = "COMPLETED", newEpochTime(end), e.meta.summaryKey()
		d.ItemCount, d.BilledSizeBytes = &sum.ItemCount, &sum.BilledSizeBytes
	})
	log.Info("export completed", "items", sum.ItemCount)
}

// fill is the export's content: a consistent parallel scan of the table (full), or the stream's changes
// inside the window (incremental).
func (s *server) fill(e *export) func(context.Context, *layout) error {
	if e.meta.Type == fullExport {
		return func(ctx context.Context, l *layout) error {
			g, ctx := errgroup.WithContext(ctx)
			for i := range l.files { // segment i fills file i
				g.Go(func() error {
					return s.up.scanSegment(ctx, e.id, e.table, i, len(l.files), func(item json.RawMessage) error {
						return l.addItemTo(i, item)
					})
				})
			}
			return g.Wait()
		}
	}
	return func(ctx context.Context, l *layout) error {
		cs := newChangeSet(e.meta.FromTime, e.meta.ToTime, e.meta.OutputView)
		if err := s.up.readStream(ctx, e.id, e.streamArn, cs.add); err != nil {
			return err
		}
		return cs.writeTo(l)
	}
}

// writeExport writes _started, lets fill add the lines, then writes the data files and the
// manifests. A fault (faults.go) is applied to the objects before they are written. It returns
// the summary and the corrupted data file's key, if any.
func writeExport(ctx context.Context, store objectStore, l *layout, fill func(context.Context, *layout) error,
	now func() time.Time, fault string) (manifestSummary, string, error) {
	bucket := l.meta.Bucket
	if err := store.Put(ctx, bucket, l.meta.startedKey(), []byte{}); err != nil {
		return manifestSummary{}, "", err
	}
	if err := fill(ctx, l); err != nil {
		return manifestSummary{}, "", err
	}
	objs, sum, err := l.finish(now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return manifestSummary{}, "", err
	}
	var corrupted string
	if fault != "" {
		if corrupted, err = corruptObjects(fault, objs); err != nil {
			return manifestSummary{}, "", err
		}
	}
	for _, o := range objs {
		if err := store.Put(ctx, bucket, o.Key, o.Body); err != nil {
			return manifestSummary{}, "", err
		}
	}
	return sum, corrupted, nil
}
