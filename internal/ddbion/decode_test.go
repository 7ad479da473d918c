package ddbion

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestIonMatchesDynamoDBJSON pins DESIGN §2.5 for Ion exports: each
// testdata/<case>.ion holds the same items as <case>.json (DYNAMODB_JSON
// export lines), and both must give, item by item, the documents in
// <case>.golden and the same _ids.
func TestIonMatchesDynamoDBJSON(t *testing.T) {
	files, err := filepath.Glob("testdata/*.ion")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	key := ddbjson.Key{Partition: "pk", Sort: "sk"}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ion")
		t.Run(name, func(t *testing.T) {
			fromJSON := jsonRecords(t, "testdata/"+name+".json")
			fromIon := ionRecords(t, f)
			if len(fromIon) != len(fromJSON) {
				t.Fatalf("%d Ion records, %d JSON lines", len(fromIon), len(fromJSON))
			}
			var docs bytes.Buffer
			for i := range fromJSON {
				jd, err := ddbjson.Item(fromJSON[i].Item)
				if err != nil {
					t.Fatalf("record %d (JSON): %v", i+1, err)
				}
				id, err := ddbjson.Item(fromIon[i].Item)
				if err != nil {
					t.Fatalf("record %d (Ion): %v", i+1, err)
				}
				if !bytes.Equal(jd, id) {
					t.Fatalf("record %d: documents differ\nJSON %s\nIon  %s", i+1, jd, id)
				}
				if _, hasSK := fromJSON[i].Item["sk"]; hasSK {
					jk, err1 := key.KeyIDs(fromJSON[i].Item)
					ik, err2 := key.KeyIDs(fromIon[i].Item)
					if err1 != nil || err2 != nil || jk != ik {
						t.Fatalf("record %d: ids differ: JSON %+v (%v), Ion %+v (%v)", i+1, jk, err1, ik, err2)
					}
				}
				docs.Write(jd)
				docs.WriteByte('\n')
			}
			golden := "testdata/" + name + ".golden"
			if *update {
				if err := os.WriteFile(golden, docs.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if docs.String() != string(want) {
				t.Fatalf("documents differ from %s:\ngot\n%s\nwant\n%s", golden, docs.String(), want)
			}
		})
	}
}

func jsonRecords(t *testing.T, path string) []ddbjson.ExportLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ddbjson.ExportLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l, err := ddbjson.DecodeExportLine(sc.Bytes())
		if err != nil {
			t.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, l)
	}
	return out
}

func ionRecords(t *testing.T, path string) []ddbjson.ExportLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ddbjson.ExportLine
	d := NewDecoder(f)
	for {
		l, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s record %d: %v", path, len(out)+1, err)
		}
		out = append(out, l)
	}
}
