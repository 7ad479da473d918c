package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// deadItem is a bulk item OpenSearch rejected for good.
type deadItem struct {
	entry  bulk.Entry
	status int
	typ    string
	reason string
}

// dlqEntry is one line of the dead-letter file. It holds everything needed
// to send the item again as a bulk action: index, _id, action, routing,
// pipeline, version and version type, and the document itself.
type dlqEntry struct {
	Time        string          `json:"time"`
	Table       string          `json:"table"`
	Index       string          `json:"index"`
	ID          string          `json:"id"`
	Action      string          `json:"action"`
	Version     *int64          `json:"version,omitempty"`
	VersionType string          `json:"version_type"`
	Routing     string          `json:"routing,omitempty"`
	Pipeline    string          `json:"pipeline,omitempty"`
	Status      int             `json:"status"`
	Error       dlqError        `json:"error"`
	Document    json.RawMessage `json:"document"`
	Key         dlqKey          `json:"key"`
	Sequence    string          `json:"sequence,omitempty"`
}

type dlqError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type dlqKey struct {
	PartitionKey string `json:"partition_key"`
	SortKey      string `json:"sort_key,omitempty"`
}

// appendDLQLine appends the JSON line for d, stamped with now. The document
// is embedded as JSON, byte for byte (numbers keep every digit); a document
// that is not valid JSON is embedded as a string so the line stays valid.
func appendDLQLine(dst []byte, d deadItem, now time.Time) ([]byte, error) {
	it := d.entry.Item
	ev := it.Event
	e := dlqEntry{
		Time:        now.UTC().Format(time.RFC3339Nano),
		Table:       ev.Table,
		Index:       it.Index,
		ID:          it.ID,
		Action:      string(it.Action),
		VersionType: it.VersionType,
		Routing:     it.Routing,
		Pipeline:    it.Pipeline,
		Status:      d.status,
		Error:       dlqError{Type: d.typ, Reason: d.reason},
		Document:    json.RawMessage("null"),
		Key:         dlqKey{PartitionKey: ev.PartitionKey, SortKey: ev.SortKey},
		Sequence:    ev.Sequence,
	}
	if it.Versioned() {
		v := it.Version
		e.Version = &v
	} else {
		e.VersionType = bulk.VersionInternal
	}
	switch {
	case len(ev.Doc) == 0:
	case json.Valid(ev.Doc):
		e.Document = ev.Doc
	default:
		s, _ := json.Marshal(string(ev.Doc))
		e.Document = s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // Encode ends the line with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&e); err != nil {
		return dst, fmt.Errorf("encode dead-letter entry for %s/%s: %w", it.Index, it.ID, err)
	}
	return append(dst, b.Bytes()...), nil
}

// deadLetterQueue keeps documents OpenSearch refused for good: the
// dead-letter file (dlq_file, or the default file) or dlq.s3. write returns
// nil only once the items are durable (fsynced, or PutObject succeeded), and
// where they went.
type deadLetterQueue interface {
	write(ctx context.Context, items []deadItem, now time.Time) (string, error)
	where() string
	Close() error
}

// dlqFile is the append-only dead-letter file (dlq_file). Safe for
// concurrent use: each call appends whole lines and fsyncs before returning.
type dlqFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openDLQ(path string) (*dlqFile, error) {
	// 0600: the file holds whole documents.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open dlq_file: %w", err)
	}
	return &dlqFile{path: path, f: f}, nil
}

// write appends the lines for items and fsyncs. On failure it cuts the file
// back to its previous size, so a half-written line never precedes the next.
func (d *dlqFile) write(_ context.Context, items []deadItem, now time.Time) (string, error) {
	var buf []byte
	for _, it := range items {
		var err error
		if buf, err = appendDLQLine(buf, it, now); err != nil {
			return "", err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.f.Stat()
	if err != nil {
		return "", fmt.Errorf("dlq_file %s: %w", d.path, err)
	}
	if _, err := d.f.Write(buf); err != nil {
		_ = d.f.Truncate(st.Size())
		return "", fmt.Errorf("write dlq_file %s: %w", d.path, err)
	}
	if err := d.f.Sync(); err != nil {
		return "", fmt.Errorf("fsync dlq_file %s: %w", d.path, err)
	}
	return d.path, nil
}

func (d *dlqFile) where() string { return d.path }

func (d *dlqFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}
