//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// TestDeadLetterDefaultAndRedrive: without dlq_file, documents OpenSearch
// refuses for good go to <state-dir>/dlq/<pipeline>.jsonl and never block
// the rest of the table; /readyz says degraded, the metric counts them, the
// log names key and reason. Then redrive replays them with their original
// versions: one fixed on the OpenSearch side is applied, one whose item has
// changed since is reported superseded (the newer stream change is kept),
// one still refused goes to a new dead-letter file.
func TestDeadLetterDefaultAndRedrive(t *testing.T) {
	e := newE2E(t, "dlq", "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline("", "")
	startWithFieldLimit(t, e)

	// h is an object first...
	e.put(map[string]types.AttributeValue{"pk": s("obj"), "h": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1")}}})
	e.converge(60 * time.Second)
	// ...then a string in two items (a genuine, permanent conflict), one item
	// too wide for the limit, and ordinary items around them.
	for i := 0; i < 10; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("ok%02d", i)), "v": n(fmt.Sprint(i))})
	}
	e.put(map[string]types.AttributeValue{"pk": s("str"), "h": s("a string")})
	e.put(map[string]types.AttributeValue{"pk": s("str2"), "h": s("another string")})
	wideItem := func(pk, extra string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{"pk": s(pk)}
		for i := 0; i < 15; i++ {
			m[fmt.Sprintf("w%02d", i)] = n(fmt.Sprint(i))
		}
		if extra != "" {
			m["extra"] = s(extra)
		}
		return m
	}
	e.put(wideItem("wide", ""))
	e.put(wideItem("wide2", ""))
	for i := 10; i < 20; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("ok%02d", i)), "v": n(fmt.Sprint(i))})
	}

	// Every other item converges; exactly the three refused ones are missing.
	dlq := filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")
	refused := []string{"str", "str2", "wide", "wide2"}
	poll(t, "refused documents dead-lettered, the rest applied", 90*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		d := e.compare()
		sort.Strings(d.missing)
		return len(d.extra) == 0 && len(d.stale) == 0 && strings.Join(d.missing, ",") == strings.Join(refused, ","), nil
	})
	letters := readLetters(t, dlq)
	if got := letterIDs(letters); got != "str,str2,wide,wide2" {
		t.Fatalf("dead letters %s, want str,str2,wide,wide2", got)
	}
	for _, l := range letters {
		if l.Version == nil || l.VersionType != "external" || l.Status != 400 || l.Key.PartitionKey != l.ID || l.Error.Reason == "" || len(l.Document) < 10 {
			t.Errorf("dead letter lacks what a replay needs: %+v", l)
		}
	}
	ready := httpGet(t, e.metricsAddr, "/readyz")
	if ready.status != 503 || !strings.Contains(ready.body, "degraded: 4 document(s)") || !strings.Contains(ready.body, dlq) {
		t.Errorf("/readyz = %d %q, want 503 degraded naming 4 documents and %s", ready.status, ready.body, dlq)
	}
	if m := httpGet(t, e.metricsAddr, "/metrics").body; !strings.Contains(m, fmt.Sprintf(`ddbsync_documents_dead_lettered_total{table=%q} 4`, e.table)) {
		t.Errorf("metrics lack 4 dead letters:\n%s", grepLines(m, "dead_lettered"))
	}
	if l := e.log(); !strings.Contains(l, "id=str ") || !strings.Contains(l, "partition_key=str ") || !strings.Contains(l, "tried to parse field [h] as object") {
		t.Errorf("no log line names the key and the reason")
	}

	// The operator fixes what can be fixed: raises the limit (wide, wide2)
	// and changes the item str (its new version indexes). wide changes
	// too, through the stream: its letter is older than the index now and
	// would be accepted by the mapping, so only its version keeps redrive
	// from overwriting the newer change. str2 stays as it is.
	if st, body := e.osDo(http.MethodPut, "/"+e.index+"/_settings", []byte(`{"index.mapping.total_fields.limit":1000}`)); st != 200 {
		t.Fatalf("raise total_fields.limit: %d %s", st, body)
	}
	e.put(map[string]types.AttributeValue{"pk": s("str"), "h": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"text": s("a string")}}})
	e.put(wideItem("wide", "newer change"))
	poll(t, "the new versions of str and wide indexed", 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		idx, tbl := e.indexDocs(), e.tableDocs()
		return idx["str"] == tbl["str"] && idx["wide"] == tbl["wide"], nil
	})
	before := e.indexDocs()

	// Dry run: reports, sends nothing.
	out, code := e.redrive("--dry-run")
	if code != 0 || !strings.Contains(out, "4 dead letter(s), 4 selected") || !strings.Contains(out, "dry run") {
		t.Fatalf("redrive --dry-run: exit %d\n%s", code, out)
	}
	// Redrive while run keeps running.
	out, code = e.redrive()
	if code != 4 {
		t.Errorf("redrive exit %d, want 4 (str2 refused again)\n%s", code, out)
	}
	for _, want := range []string{"applied: 1", "superseded (the index holds this version or a newer change, kept): 2", "refused again: 1",
		`superseded: index ` + e.index + ` _id "str"`, `superseded: index ` + e.index + ` _id "wide"`, `refused: index ` + e.index + ` _id "str2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("redrive report lacks %q:\n%s", want, out)
		}
	}
	after := e.indexDocs()
	for _, id := range []string{"str", "wide"} {
		if after[id] != before[id] {
			t.Errorf("redrive overwrote the newer change of %s: %s, want %s", id, after[id], before[id])
		}
	}
	if after["wide2"] != e.tableDocs()["wide2"] {
		t.Errorf("redrive did not apply wide2: %q", after["wide2"])
	}
	again, _ := filepath.Glob(filepath.Join(e.dir, "state", "dlq", "e2e.redrive-*.jsonl"))
	if len(again) != 1 {
		t.Fatalf("new dead-letter files %v, want one", again)
	}
	if got := letterIDs(readLetters(t, again[0])); got != "str2" {
		t.Errorf("new dead-letter file holds %s, want str2", got)
	}
	if got := letterIDs(readLetters(t, dlq)); got != "str,str2,wide,wide2" {
		t.Errorf("the original file changed: %s", got)
	}
	// The remaining conflict goes away with its item; then index = table.
	e.del(key1("str2"))
	e.converge(60 * time.Second)

	// A second redrive of the same letters changes nothing: wide2's version
	// is in the index now, str's and wide's newer ones too.
	out, code = e.redrive("--id", "str", "--id", "wide", "--id", "wide2")
	if code != 0 || !strings.Contains(out, "3 selected") || !strings.Contains(out, "superseded (the index holds this version or a newer change, kept): 3") {
		t.Errorf("second redrive: exit %d\n%s", code, out)
	}
	e.converge(30 * time.Second)
}

// redrive runs `ddbsync redrive` on the scenario's pipeline and state dir:
// what it printed (standard output, then standard error) and its exit code.
func (e *e2e) redrive(args ...string) (string, int) {
	e.t.Helper()
	code, stdout, stderr := e.h.Command(append([]string{"redrive", "-f", e.pipeline, "--state-dir", filepath.Join(e.dir, "state")}, args...)...)
	return stdout + stderr, code
}

func readLetters(t *testing.T, path string) []sinkos.DeadLetter {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := sinkos.ReadDeadLetters(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func letterIDs(letters []sinkos.DeadLetter) string {
	var ids []string
	for _, l := range letters {
		ids = append(ids, l.ID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// startWithFieldLimit starts the run, waits for its index and lowers the
// index's total_fields.limit to 12: a limit an operator can raise later, so
// an item with more attributes (wideItem) is refused for good until then.
func startWithFieldLimit(t *testing.T, e *e2e) {
	t.Helper()
	e.start()
	poll(t, "index created", 60*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		st, _ := e.osDo(http.MethodHead, "/"+e.index, nil)
		return st == 200, nil
	})
	t.Cleanup(func() {
		e.osDo(http.MethodDelete, "/_template/"+e.index+"-ddbsync-numbers", nil)
		e.osDo(http.MethodDelete, "/"+e.index, nil)
	})
	if st, body := e.osDo(http.MethodPut, "/"+e.index+"/_settings", []byte(`{"index.mapping.total_fields.limit":12}`)); st != 200 {
		t.Fatalf("set total_fields.limit: %d %s", st, body)
	}
}

// wideItem is an item with 15 number attributes besides pk, more than
// startWithFieldLimit's limit.
func wideItem(pk string) map[string]types.AttributeValue {
	wide := map[string]types.AttributeValue{"pk": s(pk)}
	for i := 0; i < 15; i++ {
		wide[fmt.Sprintf("w%02d", i)] = n(fmt.Sprint(i))
	}
	return wide
}
