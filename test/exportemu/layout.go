package main

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The AWS export layout (DESIGN.md §5). A full export keeps everything under
// <prefix>/AWSDynamoDB/<ExportId>/; an incremental one puts its data files in the shared
// <prefix>/AWSDynamoDB/data/ and only its manifests under <ExportId>/.

const (
	fullExport        = "FULL_EXPORT"
	incrementalExport = "INCREMENTAL_EXPORT"
)

// exportMeta is what the manifests say about an export besides its data.
type exportMeta struct {
	ExportID     string
	ExportArn    string
	TableArn     string
	TableID      string
	Bucket       string
	Prefix       string // as requested; "" for none
	SseAlgorithm string
	SseKmsKeyID  string
	Type         string // fullExport or incrementalExport
	StartTime    time.Time
	ExportTime   time.Time // full exports
	FromTime     time.Time // incremental exports
	ToTime       time.Time
	OutputView   string // incremental exports: NEW_AND_OLD_IMAGES or NEW_IMAGE
	Format       string // formatJSON ("" too) or formatION
}

// ion says whether the export is written in Amazon Ion.
func (m exportMeta) ion() bool { return m.Format == formatION }

// dataExt is the data files' suffix: .json.gz, or .ion.gz for ION.
func (m exportMeta) dataExt() string {
	if m.ion() {
		return ".ion.gz"
	}
	return ".json.gz"
}

// root is "<prefix>/AWSDynamoDB" (no leading slash when there is no prefix).
func (m exportMeta) root() string {
	p := strings.Trim(m.Prefix, "/")
	if p == "" {
		return "AWSDynamoDB"
	}
	return p + "/AWSDynamoDB"
}

func (m exportMeta) dir() string              { return m.root() + "/" + m.ExportID }
func (m exportMeta) startedKey() string       { return m.dir() + "/_started" }
func (m exportMeta) manifestFilesKey() string { return m.dir() + "/manifest-files.json" }
func (m exportMeta) summaryKey() string       { return m.dir() + "/manifest-summary.json" }

func (m exportMeta) dataDir() string {
	if m.Type == incrementalExport {
		return m.root() + "/data"
	}
	return m.dir() + "/data"
}

// object is one S3 object of an export.
type object struct {
	Key  string
	Body []byte
}

// manifestFile is one line of manifest-files.json.
type manifestFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// manifestSummary is manifest-summary.json, field for field in AWS's order.
type manifestSummary struct {
	Version            string  `json:"version"`
	ExportArn          string  `json:"exportArn"`
	StartTime          string  `json:"startTime"`
	EndTime            string  `json:"endTime"`
	TableArn           string  `json:"tableArn"`
	TableID            string  `json:"tableId"`
	ExportTime         string  `json:"exportTime,omitempty"`
	ExportFromTime     string  `json:"exportFromTime,omitempty"`
	ExportToTime       string  `json:"exportToTime,omitempty"`
	S3Bucket           string  `json:"s3Bucket"`
	S3Prefix           *string `json:"s3Prefix"`
	S3SseAlgorithm     string  `json:"s3SseAlgorithm"`
	S3SseKmsKeyID      *string `json:"s3SseKmsKeyId"`
	ManifestFilesS3Key string  `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64   `json:"billedSizeBytes"`
	ItemCount          int64   `json:"itemCount"`
	OutputFormat       string  `json:"outputFormat"`
	OutputView         string  `json:"outputView,omitempty"`
	ExportType         string  `json:"exportType"`
}

// layout builds an export's objects in memory, in a fixed number of gzip data files (a small
// table leaves some empty, as small partitions do on AWS). Each file may be filled by its own
// goroutine (one Scan segment per file); nothing else is shared until finish.
type layout struct {
	meta  exportMeta
	files []*dataFile
	next  int // addLine's round robin
}

type dataFile struct {
	key     string
	buf     bytes.Buffer
	gz      *gzip.Writer
	items   int64
	rawSize int64 // uncompressed bytes: the emulator's billedSizeBytes
}

// exportIDAt is AWS's ExportId: 14-digit epoch milliseconds, a dash, 8 hex digits.
func exportIDAt(t time.Time, rnd *rand.Rand) string {
	return fmt.Sprintf("%014d-%08x", t.UnixMilli(), rnd.Uint32())
}

// fileNameChars are the characters of AWS's 26-character data file names.
const fileNameChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// newLayout names nfiles data files with rnd (a fixed seed gives fixed names).
func newLayout(meta exportMeta, nfiles int, rnd *rand.Rand) *layout {
	l := &layout{meta: meta}
	for range max(nfiles, 1) {
		name := make([]byte, 26)
		for i := range name {
			name[i] = fileNameChars[rnd.IntN(len(fileNameChars))]
		}
		f := &dataFile{key: meta.dataDir() + "/" + string(name) + meta.dataExt()}
		f.gz = gzip.NewWriter(&f.buf) // zero header time: the bytes depend on the data only
		l.files = append(l.files, f)
	}
	return l
}

// addItemTo adds a full-export record {"Item":{...}} for one item in DynamoDB JSON to file i
// (in Ion for an ION export).
func (l *layout) addItemTo(i int, item json.RawMessage) error {
	var b bytes.Buffer
	b.WriteString(`{"Item":`)
	if err := json.Compact(&b, item); err != nil {
		return fmt.Errorf("item is not JSON: %w", err)
	}
	b.WriteString("}")
	return l.add(l.files[i], b.Bytes())
}

// addLine adds one NDJSON line (without its newline), the files taking turns.
func (l *layout) addLine(line []byte) error {
	f := l.files[l.next]
	l.next = (l.next + 1) % len(l.files)
	return l.add(f, line)
}

// add writes one record, given in DynamoDB JSON, to f in the export's format.
func (l *layout) add(f *dataFile, line []byte) error {
	if l.meta.ion() {
		ionLine, err := ionRecord(line)
		if err != nil {
			return fmt.Errorf("write as Ion: %w", err)
		}
		line = ionLine
	}
	return f.add(line)
}

func (f *dataFile) add(line []byte) error {
	if _, err := f.gz.Write(append(line, '\n')); err != nil {
		return err
	}
	f.items++
	f.rawSize += int64(len(line)) + 1
	return nil
}

// finish closes the data files and returns every object to write after _started, in order:
// the data files, manifest-files.json, then manifest-summary.json (written last, as on AWS,
// so a reader that finds it finds everything it names).
func (l *layout) finish(end time.Time) ([]object, manifestSummary, error) {
	var objs []object
	var manifest bytes.Buffer
	for _, f := range l.files {
		if err := f.gz.Close(); err != nil {
			return nil, manifestSummary{}, err
		}
		body := f.buf.Bytes()
		objs = append(objs, object{Key: f.key, Body: body})
		line, _ := marshal(manifestEntry(f.key, f.items, body))
		manifest.Write(line)
		manifest.WriteByte('\n')
	}
	objs = append(objs, object{Key: l.meta.manifestFilesKey(), Body: manifest.Bytes()})

	s := l.summary(end)
	sum, err := marshal(s)
	if err != nil {
		return nil, manifestSummary{}, err
	}
	objs = append(objs, object{Key: l.meta.summaryKey(), Body: sum})
	return objs, s, nil
}

func manifestEntry(key string, items int64, body []byte) manifestFile {
	sum := md5.Sum(body)
	return manifestFile{
		ItemCount:     items,
		MD5Checksum:   base64.StdEncoding.EncodeToString(sum[:]),
		ETag:          hex.EncodeToString(sum[:]),
		DataFileS3Key: key,
	}
}

func (l *layout) summary(end time.Time) manifestSummary {
	m := l.meta
	var items, raw int64
	for _, f := range l.files {
		items, raw = items+f.items, raw+f.rawSize
	}
	s := manifestSummary{
		Version:            "2020-06-30",
		ExportArn:          m.ExportArn,
		StartTime:          isoMillis(m.StartTime),
		EndTime:            isoMillis(end),
		TableArn:           m.TableArn,
		TableID:            m.TableID,
		S3Bucket:           m.Bucket,
		S3SseAlgorithm:     m.SseAlgorithm,
		ManifestFilesS3Key: m.manifestFilesKey(),
		BilledSizeBytes:    raw,
		ItemCount:          items,
		OutputFormat:       formatJSON,
		ExportType:         m.Type,
	}
	if m.ion() {
		s.OutputFormat = formatION
	}
	if m.Prefix != "" {
		s.S3Prefix = &m.Prefix
	}
	if m.SseKmsKeyID != "" {
		s.S3SseKmsKeyID = &m.SseKmsKeyID
	}
	if m.Type == incrementalExport {
		s.Version = "2023-08-01"
		s.ExportFromTime = isoMillis(m.FromTime)
		s.ExportToTime = isoMillis(m.ToTime)
		s.OutputView = m.OutputView
	} else {
		s.ExportTime = isoMillis(m.ExportTime)
	}
	return s
}
