package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// bodies are pre-built _bulk request bodies for the ceiling loader.
type bodies struct {
	index string
	files int // data files in the export
	limit bodyLimit
	bufs  [][]byte
	items []int // operations per body
	total int   // operations in all bodies
	bytes int
}

// bodyLimit is how large one body may grow.
type bodyLimit struct {
	bytes int // like ddbsync's bulk_size
	items int // 0: no limit
}

// buildBodies reads the export once and encodes every item as ddbsync
// would send it (same converter, same _id, same backfill version, same
// action line), cut into bodies under each of limits: one body set per
// limit. Bodies of different data files are interleaved, as ddbsync loads
// files in parallel.
func buildBodies(ctx context.Context, s3c *s3.Client, bucket, summaryKey, table, index string, at time.Time, limits []bodyLimit) ([]*bodies, error) {
	bt := backfill.Table{Name: table, Key: ddbjson.Key{Partition: "pk"}, Overlap: config.DefaultOverlap}
	var mu sync.Mutex
	perFile := map[int][]*fileBodies{} // file → one builder per limit
	builders := func(i int) []*fileBodies {
		mu.Lock()
		defer mu.Unlock()
		if perFile[i] == nil {
			for _, l := range limits {
				perFile[i] = append(perFile[i], &fileBodies{limit: l})
			}
		}
		return perFile[i]
	}
	nfiles, err := readExport(ctx, s3c, bucket, summaryKey, func(file int, it map[string]types.AttributeValue) error {
		ev, err := bt.Event(it, at)
		if err != nil {
			return err
		}
		bi := bulk.Item{Action: bulk.ActionIndex, Index: index, ID: ev.ID, Version: ev.Version, VersionType: bulk.VersionExternal, Event: &ev}
		l, err := bulk.AppendItem(nil, &bi)
		if err != nil {
			return err
		}
		for _, f := range builders(file) {
			f.add(l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*bodies, len(limits))
	for li, l := range limits {
		b := &bodies{index: index, limit: l, files: nfiles}
		for round := 0; ; round++ {
			more := false
			for i := 0; i < nfiles; i++ {
				fs := perFile[i]
				if fs == nil {
					continue
				}
				f := fs[li]
				f.flush()
				if round < len(f.bufs) {
					more = true
					b.bufs = append(b.bufs, f.bufs[round])
					b.items = append(b.items, f.items[round])
					b.total += f.items[round]
					b.bytes += len(f.bufs[round])
				}
			}
			if !more {
				break
			}
		}
		out[li] = b
	}
	return out, nil
}

// fileBodies cuts one data file's operations into bodies.
type fileBodies struct {
	limit bodyLimit
	cur   []byte
	n     int
	bufs  [][]byte
	items []int
}

// add appends one operation's lines.
func (f *fileBodies) add(line []byte) {
	if f.n > 0 && (len(f.cur)+len(line) > f.limit.bytes || f.limit.items > 0 && f.n == f.limit.items) {
		f.flush()
	}
	if f.cur == nil {
		f.cur = make([]byte, 0, min(f.limit.bytes, 1<<20))
	}
	f.cur = append(f.cur, line...)
	f.n++
}

func (f *fileBodies) flush() {
	if f.n == 0 {
		return
	}
	f.bufs = append(f.bufs, f.cur)
	f.items = append(f.items, f.n)
	f.cur, f.n = nil, 0
}

// sendBodies posts every body to _bulk from conc goroutines (each with at
// most one request in flight, like ddbsync's per-file writers) and fails if
// any operation was not applied.
func sendBodies(ctx context.Context, hc *http.Client, base string, b *bodies, conc int) error {
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for w := 0; w < conc; w++ {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(b.bufs) {
					return nil
				}
				if err := postBulk(ctx, hc, base, b.bufs[i]); err != nil {
					return fmt.Errorf("body %d: %w", i, err)
				}
			}
		})
	}
	return g.Wait()
}

// bulkFilterPath trims the answer the way ddbsync's sink does.
const bulkFilterPath = "errors,items.*.status,items.*.error"

func postBulk(ctx context.Context, hc *http.Client, base string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/_bulk?filter_path="+bulkFilterPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("_bulk: %s: %.300s", resp.Status, rb)
	}
	var r struct {
		Errors bool `json:"errors"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return fmt.Errorf("_bulk answer: %w", err)
	}
	if r.Errors {
		return fmt.Errorf("_bulk: some operations failed: %.300s", rb)
	}
	return nil
}
