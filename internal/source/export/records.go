package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/ddbsync/ddbsync/internal/ddbion"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// The export formats a manifest summary's outputFormat can name.
const (
	formatJSON = "DYNAMODB_JSON"
	formatION  = "ION"
)

// records reads the records of one decompressed data file in order. A
// record is a line in DYNAMODB_JSON and a top-level value in ION; the file
// checkpoint (Progress.Lines) counts records either way.
type records interface {
	// next returns the next record, or io.EOF after the last one. With
	// decode false it only moves past the record (a resumed file).
	next(decode bool) (ddbjson.ExportLine, error)
	// unit names a record in messages ("line", "value").
	unit() string
}

// newRecords returns the reader for format (as a manifest names it).
func newRecords(format string, r io.Reader) (records, error) {
	switch format {
	case "", formatJSON:
		return &jsonRecords{br: bufio.NewReaderSize(r, 256<<10)}, nil
	case formatION:
		return &ionRecords{d: ddbion.NewDecoder(bufio.NewReaderSize(r, 256<<10))}, nil
	}
	return nil, fmt.Errorf("export format %s is not supported (want %s or %s)", format, formatJSON, formatION)
}

// jsonRecords reads DYNAMODB_JSON lines.
type jsonRecords struct {
	br  *bufio.Reader
	err error // the read error that ended the file (io.EOF at its end)
}

func (j *jsonRecords) unit() string { return "line" }

func (j *jsonRecords) next(decode bool) (ddbjson.ExportLine, error) {
	if j.err != nil {
		return ddbjson.ExportLine{}, j.err
	}
	raw, err := j.br.ReadBytes('\n')
	if err != nil {
		j.err = err
	}
	if len(raw) == 0 {
		return ddbjson.ExportLine{}, j.err
	}
	if !decode {
		return ddbjson.ExportLine{}, nil
	}
	l, derr := ddbjson.DecodeExportLine(raw)
	if derr != nil && err != nil && !errors.Is(err, io.EOF) {
		// A line cut short by a failed read: the read error says why.
		return l, fmt.Errorf("%v (%v)", err, derr)
	}
	return l, derr
}

// ionRecords reads Ion values.
type ionRecords struct {
	d *ddbion.Decoder
}

func (r *ionRecords) unit() string { return "value" }

func (r *ionRecords) next(decode bool) (ddbjson.ExportLine, error) {
	if !decode {
		return ddbjson.ExportLine{}, r.d.Skip()
	}
	return r.d.Next()
}
