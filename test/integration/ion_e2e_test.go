//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"
)

// TestExportIONLoadsHostileItems: with export.format ION, ddbsync asks for
// an ION export, reads its .ion.gz data files, and every document equals
// every item of the hostile workload (exact numbers, binary, sets, NULL,
// nested maps and lists; compared with the table's items through the one
// converter, so the Ion path gives the scan path's documents byte for byte).
func TestExportIONLoadsHostileItems(t *testing.T) {
	const count = 3000 // plus every special key; loading DynamoDB Local is the slow part
	e := newE2EStackKey(t, "exportion")
	e.loadHostile(count)
	e.enablePITR()
	e.writePipeline(e.exportBlock("  format: ION\n"), "")
	e.start()
	e.waitLog("export backfill complete", 3*time.Minute)
	d := e.converge(90 * time.Second)
	if d.items != e.loaded || d.docs != e.loaded {
		t.Fatalf("loaded %d items; compared %d items and %d documents", e.loaded, d.items, d.docs)
	}
	ionFiles := 0
	for k, p := range e.checkpoints() {
		if !strings.Contains(k, "/export/") {
			continue
		}
		if !strings.HasSuffix(k, ".ion.gz") {
			t.Fatalf("export data file %s is not Ion", k)
		}
		if !p.Done {
			t.Fatalf("data file %s not done: %+v", k, p)
		}
		ionFiles++
	}
	if ionFiles == 0 {
		t.Fatalf("no Ion data file checkpoints:\n%s", e.log())
	}
}

// TestExportIONCorruptFileFailsNamingTheKey: a truncated Ion data file
// fails the run naming its S3 key, and it is not marked done.
func TestExportIONCorruptFileFailsNamingTheKey(t *testing.T) {
	e := newE2EStackKey(t, "corruption")
	e.loadHostile(2000)
	e.enablePITR()
	emuCorrupt(t, map[string]string{"kind": "truncate", "tableName": e.table})
	e.writePipeline(e.exportBlock("  format: ION\n  parallelism: 1\n"), "")
	e.start()
	if code := e.wait(2 * time.Minute); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, e.log())
	}
	log := e.log()
	if !strings.Contains(log, "corrupt export data file s3://"+stackEnv(t, "DDBSYNC_EXPORT_BUCKET")+"/e2e/"+e.table) || !strings.Contains(log, ".ion.gz value ") {
		t.Fatalf("error does not name the Ion data file and value:\n%s", log)
	}
	for k, p := range e.checkpoints() {
		if k == "backfill/"+e.table+"/meta" && p.Done {
			t.Fatal("backfill marked done")
		}
		if strings.Contains(log, strings.TrimPrefix(k, "backfill/"+e.table+"/export/")+" value ") && p.Done {
			t.Fatalf("corrupt file %s marked done", k)
		}
	}
}
