package export

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// ErrCorrupt marks a data file that fails its MD5 check or does not decode.
var ErrCorrupt = errors.New("corrupt export data file")

// loadFile stages one data file on local disk while hashing it, checks the
// MD5 from the manifest, then decodes it record by record (constant memory:
// lines of DYNAMODB_JSON, values of ION) and hands batches to h, saving the
// record count after each acknowledged batch. It fails with
// checkpoint.ErrLeaseHeld or ErrLeaseLost when another node loads the file.
func (x *Exporter) loadFile(ctx context.Context, bucket, format string, f dataFile, at time.Time, h backfill.Handler, prog *progress) (err error) {
	key := "backfill/" + x.table.Name + "/export/" + f.DataFileS3Key
	lctx, p, _, err := x.store.Acquire(ctx, key)
	if err != nil {
		return err
	}
	defer x.store.Release(context.WithoutCancel(ctx), key)
	defer func() { err = leaseErr(lctx, err) }()
	ctx = lctx
	if p.Done {
		prog.add(f.ItemCount)
		return nil
	}
	where := fmt.Sprintf("s3://%s/%s", bucket, f.DataFileS3Key)
	staged, err := retry.Do(ctx, x.log, "download data file", func() (*os.File, error) { return x.stage(ctx, bucket, f, where) })
	if err != nil {
		return err
	}
	defer os.Remove(staged.Name())
	defer staged.Close()

	zr, err := gzip.NewReader(staged)
	if errors.Is(err, io.EOF) { // a zero-byte object: no items
		return x.store.Complete(ctx, key, p)
	}
	if err != nil {
		return fmt.Errorf("%w %s: gzip: %v", ErrCorrupt, where, err)
	}
	if p.Lines > 0 {
		x.log.Info("resuming data file mid-file", "file", f.DataFileS3Key, "after_line", p.Lines)
		prog.add(p.Lines)
	}
	recs, err := newRecords(format, zr)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	unit := recs.unit()
	var n int64 // records read so far
	batch := make([]change.Event, 0, x.opts.BatchItems)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := h(ctx, batch); err != nil {
			return fmt.Errorf("write %s up to %s %d: %w", where, unit, n, err)
		}
		p.Lines = n
		if err := x.store.Save(ctx, key, p); err != nil {
			return err
		}
		prog.add(int64(len(batch)))
		batch = batch[:0]
		return nil
	}
	for {
		decode := n >= p.Lines // records up to p.Lines were acknowledged before a restart
		rec, err := recs.next(decode)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w %s %s %d: %v", ErrCorrupt, where, unit, n+1, err)
		}
		n++
		if !decode {
			continue
		}
		ev, err := x.event(rec, at)
		if err != nil {
			return fmt.Errorf("%w %s %s %d: %v", ErrCorrupt, where, unit, n, err)
		}
		batch = append(batch, ev)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if n < p.Lines {
		return fmt.Errorf("%w %s: the checkpoint says %d %ss were loaded, the file has %d", ErrCorrupt, where, p.Lines, unit, n)
	}
	if f.ItemCount > 0 && n != f.ItemCount {
		return fmt.Errorf("%w %s: manifest says %d items, file has %d %ss", ErrCorrupt, where, f.ItemCount, n, unit)
	}
	p.Lines = n
	return x.store.Complete(ctx, key, p)
}

// event turns one full-export record into a change event.
func (x *Exporter) event(l ddbjson.ExportLine, at time.Time) (change.Event, error) {
	if l.Item == nil {
		return change.Event{}, errors.New("incremental export records are not supported by a full backfill")
	}
	return x.table.Event(l.Item, at)
}

// stage downloads the object to a temporary file, checking its MD5.
func (x *Exporter) stage(ctx context.Context, bucket string, f dataFile, where string) (*os.File, error) {
	out, err := x.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(f.DataFileS3Key)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", withHint("get "+where, s3Hint(err)), err)
	}
	defer out.Body.Close()
	tmp, err := os.CreateTemp(x.opts.TempDir, "export-*.gz")
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", where, err)
	}
	sum := md5.New()
	if _, err := io.Copy(io.MultiWriter(tmp, sum), out.Body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("download %s: %w", where, err)
	}
	if got := base64.StdEncoding.EncodeToString(sum.Sum(nil)); f.MD5Checksum != "" && got != f.MD5Checksum {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("%w %s: md5 %s does not match the manifest's %s", ErrCorrupt, where, got, f.MD5Checksum)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// progress counts acknowledged items across files.
type progress struct {
	total  int64
	done   atomic.Int64
	report func(done, total int64)
}

func newProgress(total int64, report func(done, total int64)) *progress {
	return &progress{total: total, report: report}
}

func (p *progress) add(n int64) { p.report(p.done.Add(n), p.total) }
