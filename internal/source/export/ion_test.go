package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// The items of newFake's first data file, as AWS writes them in an ION export.
var ionItems = []string{
	`$ion_1_0 {Item:{pk:"a",n:1.50}}`,
	`$ion_1_0 {Item:{pk:"b"}}`,
	`$ion_1_0 {Item:{pk:"c"}}`,
}

// newIonFake is newFake with the export in ION: outputFormat ION, .ion.gz
// data files holding d1 (the first) and nothing (the second).
func newIonFake(t *testing.T, d1 []byte) *fakeAWS {
	f := newFake(t)
	f.objects = map[string][]byte{}
	d2 := gz()
	f.objects["p/AWSDynamoDB/1/data/one.ion.gz"] = d1
	f.objects["p/AWSDynamoDB/1/data/two.ion.gz"] = d2
	f.objects["p/AWSDynamoDB/1/manifest-summary.json"] = []byte(`{"manifestFilesS3Key":"p/AWSDynamoDB/1/manifest-files.json","itemCount":3,"outputFormat":"ION"}`)
	f.objects["p/AWSDynamoDB/1/manifest-files.json"] = []byte(
		fmt.Sprintf(`{"itemCount":3,"md5Checksum":"%s","dataFileS3Key":"p/AWSDynamoDB/1/data/one.ion.gz"}`+"\n", md5b64(d1)) +
			fmt.Sprintf(`{"itemCount":0,"md5Checksum":"%s","dataFileS3Key":"p/AWSDynamoDB/1/data/two.ion.gz"}`+"\n", md5b64(d2)))
	return f
}

const ionFileKey = "backfill/t/export/p/AWSDynamoDB/1/data/one.ion.gz"

// TestIonExportEqualsJSONExport: the same items exported as ION and as
// DYNAMODB_JSON give the same events (ids, documents, versions).
func TestIonExportEqualsJSONExport(t *testing.T) {
	cj := &collect{}
	if _, err := newExporter(t, newFake(t), store(t)).Run(context.Background(), cj.write); err != nil {
		t.Fatal(err)
	}
	ci := &collect{}
	if _, err := newExporter(t, newIonFake(t, gz(ionItems...)), store(t)).Run(context.Background(), ci.write); err != nil {
		t.Fatal(err)
	}
	if len(ci.events) != 3 || len(ci.events) != len(cj.events) {
		t.Fatalf("%d Ion events, %d JSON events", len(ci.events), len(cj.events))
	}
	for i := range cj.events {
		j, o := cj.events[i], ci.events[i]
		if j.ID != o.ID || j.Version != o.Version || !bytes.Equal(j.Doc, o.Doc) {
			t.Fatalf("event %d differs:\nJSON %s %d %s\nIon  %s %d %s", i, j.ID, j.Version, j.Doc, o.ID, o.Version, o.Doc)
		}
	}
}

// TestIonExportResumesMidFile: the file checkpoint counts Ion values, so a
// restart skips exactly the acknowledged ones, even when a value spans lines.
func TestIonExportResumesMidFile(t *testing.T) {
	spread := strings.ReplaceAll(ionItems[1], ",", ",\n") // a value over several lines
	f := newIonFake(t, gz(ionItems[0], spread, ionItems[2]))
	st := store(t)
	c := &collect{failAt: 2} // the second batch (value 3) fails
	if _, err := newExporter(t, f, st).Run(context.Background(), c.write); err == nil {
		t.Fatal("want the sink error")
	}
	p, _, _ := st.Get(context.Background(), ionFileKey)
	if p.Lines != 2 || p.Done {
		t.Fatalf("file checkpoint after failure: %+v", p)
	}
	c2 := &collect{}
	if _, err := newExporter(t, f, st).Run(context.Background(), c2.write); err != nil {
		t.Fatal(err)
	}
	if len(c2.events) != 1 || c2.events[0].ID != "c" {
		t.Fatalf("resume delivered %+v", c2.events)
	}
	if p, _, _ := st.Get(context.Background(), ionFileKey); !p.Done || p.Lines != 3 {
		t.Fatalf("file checkpoint at the end: %+v", p)
	}
}

// TestCorruptIonFilesNameTheKey: a data file that is not valid Ion fails
// with the S3 key and the value's number; nothing past the last good batch
// is acknowledged and the file is not done.
func TestCorruptIonFilesNameTheKey(t *testing.T) {
	full := gz(ionItems...)
	tests := []struct {
		name   string
		data   []byte
		want   string
		acked  int64 // the file checkpoint after the failure
		events int
	}{
		{"broken Ion text", gz(`$ion_1_0 {Item:{pk:"a",n:}}`, ionItems[1], ionItems[2]), "value 1", 0, 0},
		{"float number", gz(`$ion_1_0 {Item:{pk:"a",n:1.5e0}}`, ionItems[1], ionItems[2]), "float", 0, 0},
		{"value 3 is not a record", gz(ionItems[0], ionItems[1], `$ion_1_0 "c"`), "value 3", 2, 2},
		{"truncated gzip", full[:len(full)-12], "value", 2, 2},
		{"fewer values than the manifest", gz(ionItems[0], ionItems[1]), "manifest says 3 items, file has 2 values", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newIonFake(t, tt.data)
			st := store(t)
			c := &collect{}
			_, err := newExporter(t, f, st).Run(context.Background(), c.write)
			t.Log(err)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "s3://b/p/AWSDynamoDB/1/data/one.ion.gz") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCorrupt naming the key and %q", err, tt.want)
			}
			if len(c.events) != tt.events {
				t.Fatalf("acknowledged %d events, want %d", len(c.events), tt.events)
			}
			p, _, _ := st.Get(context.Background(), ionFileKey)
			if p.Done || p.Lines != tt.acked {
				t.Fatalf("file checkpoint %+v, want %d records and not done", p, tt.acked)
			}
			if meta, _, _ := st.Get(context.Background(), backfill.MetaKey("t")); meta.Done {
				t.Fatal("backfill marked done")
			}
		})
	}
}

// TestRequestsTheConfiguredFormat: export.format decides the ExportFormat
// of a new export; DYNAMODB_JSON is the default.
func TestRequestsTheConfiguredFormat(t *testing.T) {
	tests := []struct {
		configured string
		want       types.ExportFormat
	}{
		{"", types.ExportFormatDynamodbJson},
		{config.FormatDynamoDBJSON, types.ExportFormatDynamodbJson},
		{config.FormatION, types.ExportFormatIon},
	}
	for _, tt := range tests {
		t.Run(tt.configured, func(t *testing.T) {
			f := newFake(t)
			x := newExporter(t, f, store(t))
			x.cfg.Format = tt.configured
			if _, err := x.Run(context.Background(), (&collect{}).write); err != nil {
				t.Fatal(err)
			}
			if f.format != tt.want {
				t.Fatalf("requested %s, want %s", f.format, tt.want)
			}
		})
	}
}
