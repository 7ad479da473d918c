//go:build integration

package integration

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestStreamAllTypes: inserts, updates and deletes of every attribute type,
// exact 38-digit and tiny numbers, unicode and control characters, and
// composite keys with '|' in them converge exactly, on an index with no
// user mapping; then the hostile workload (concurrent writers, every type
// at its edges, (a|b,c) and (a,b|c), long and sha256: keys, hot keys)
// converges too.
func TestStreamAllTypes(t *testing.T) {
	e := newE2E(t, "types", types.ScalarAttributeTypeS, "")
	e.writePipeline("", "")
	e.start()
	k := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	with := func(key map[string]types.AttributeValue, kv ...any) map[string]types.AttributeValue {
		for i := 0; i < len(kv); i += 2 {
			key[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return key
	}
	e.put(with(k("a|b", "c|d"), "big", n("12345678901234567890123456789012345678"), "tiny", n("1E-130"), "neg", n("-0.000001")))
	e.put(with(k("uni", "☃"), "text", s("héllo \"q\" \\ \u0001\u001f\n\t <&> \u2028 🎉"), "ключ", s("значение")))
	e.put(with(k("sets", "1"), "ss", &types.AttributeValueMemberSS{Value: []string{"z", "a"}},
		"ns", &types.AttributeValueMemberNS{Value: []string{"3.5", "1.50"}},
		"bs", &types.AttributeValueMemberBS{Value: [][]byte{{0}, {255, 1}}},
		"bin", b([]byte{0, 1, 2, 255}), "nul", &types.AttributeValueMemberNULL{Value: true},
		"t", &types.AttributeValueMemberBOOL{Value: true},
		"l", &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), s("2")}},
		"lm", &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": s("y")}}}},
		"m", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": n("1"), "b": &types.AttributeValueMemberL{}}}))
	for i := 0; i < 20; i++ {
		e.put(with(k("bulk", fmt.Sprint(i)), "v", n(fmt.Sprint(i))))
	}
	e.converge(30 * time.Second)
	// Updates and deletes.
	e.put(with(k("a|b", "c|d"), "big", n("-99999999999999999999999999999999999999")))
	for i := 0; i < 20; i += 2 {
		e.del(k("bulk", fmt.Sprint(i)))
	}
	e.put(with(k("uni", "☃"), "text", s("changed")))
	if d := e.converge(30 * time.Second); d.items != 13 {
		t.Fatalf("expected 13 items, got %d", d.items)
	}
	e.hostileFor(workload.Config{Keys: 300}, 6*time.Second)
	e.converge(60 * time.Second)
	if code := e.stop(); code != 0 {
		t.Fatalf("graceful stop exit code %d", code)
	}
}

// TestStreamBinaryAndNumberKeys: binary partition keys (base64 _id) and
// number sort keys, then the hostile workload on that schema (a binary key
// longer than the _id limit, extreme numbers as sort keys).
func TestStreamBinaryAndNumberKeys(t *testing.T) {
	e := newE2E(t, "binkeys", types.ScalarAttributeTypeN, types.ScalarAttributeTypeB)
	e.writePipeline("", "")
	e.start()
	for i := 0; i < 10; i++ {
		e.put(map[string]types.AttributeValue{"pk": b([]byte{byte(i), 0xff, '|'}), "sk": n(fmt.Sprintf("%d.50", i)), "v": s("x")})
	}
	e.del(map[string]types.AttributeValue{"pk": b([]byte{3, 0xff, '|'}), "sk": n("3.5")})
	d := e.converge(30 * time.Second)
	if d.items != 9 {
		t.Fatalf("expected 9 items, got %d", d.items)
	}
	e.hostileFor(workload.Config{Keys: 300}, 6*time.Second)
	e.converge(60 * time.Second)
}

// TestStreamHostileNumberAndBinaryKeys: the hostile workload on a table
// keyed by a number (extreme values: 38 digits, 1E-130, ±9.99E+125) with
// a binary sort key (0x00, 0xff, '|' bytes, longer than the _id limit).
func TestStreamHostileNumberAndBinaryKeys(t *testing.T) {
	e := newE2E(t, "numkeys", types.ScalarAttributeTypeB, types.ScalarAttributeTypeN)
	e.writePipeline("", "")
	e.start()
	e.hostileFor(workload.Config{Keys: 300}, 6*time.Second)
	e.converge(60 * time.Second)
}

// TestStreamPointerIDRoutingIndex: a sink whose document_id, routing and
// index follow non-key attributes (${/docid}, ${/route}, ${/bucket}) that
// the hostile workload changes on updates, deletes and re-inserts: every
// item has exactly one document, with its _id, routing and index, and no
// old copy stays behind.
func TestStreamPointerIDRoutingIndex(t *testing.T) {
	e := newE2E(t, "pointer", "", "")
	e.writePipeline("", "")
	// The sink's own lines replace the Data Prepper key metadata.
	e.pipeline = e.h.WritePipeline(shared.Pipeline{Name: "e2e", Index: e.index + "-${/bucket}", SinkExtra: `document_id: "${/docid}"
routing: "${/route}"
action: "${getMetadata(\"opensearch_action\")}"
document_version: "${getMetadata(\"document_version\")}"
document_version_type: external`})
	e.h.Index = e.index + "-*"
	e.index = e.h.Index
	e.h.Place = shared.PointerPlacement(e.key, "docid", "route", strings.TrimSuffix(e.h.Index, "*"), "bucket")
	e.start()
	e.hostileFor(workload.Config{Keys: 200, Changing: true}, 6*time.Second)
	e.converge(60 * time.Second)
}

// TestSameSecondUpdatesAcrossSIGKILL: many updates of one key within one
// second, with ddbsync killed in between, converge to the last value (the
// versions computed after the restart continue the saved clock).
func TestSameSecondUpdatesAcrossSIGKILL(t *testing.T) {
	e := newE2E(t, "kill", "", "")
	e.writePipeline("", "")
	e.start()
	// Few keys: every writer's hot-key bursts and updates land on the same items.
	w := e.h.StartWorkload(e.hostile(workload.Config{Keys: 30}))
	for round := 0; round < 4; round++ {
		shared.Sleep(e.ctx, time.Duration(300+round*250)*time.Millisecond)
		e.kill()
		e.start()
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	e.put(map[string]types.AttributeValue{"pk": s("k00000"), "v": n("999999")})
	e.converge(60 * time.Second)
}

// TestRolloverContinuesLineage: updates of the same keys within one second
// straddle a forced shard rollover; the child shard continues the lineage.
func TestRolloverContinuesLineage(t *testing.T) {
	e := newE2E(t, "rollover", "", "")
	e.writePipeline("", "")
	e.start()
	w := e.h.StartWorkload(e.hostile(workload.Config{Keys: 50}))
	for r := 0; r < 3; r++ {
		for i := 0; i < 10; i++ {
			e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i%2)), "v": n(fmt.Sprint(r*10 + i))})
		}
		e.testControl(map[string]types.AttributeValue{"ACTION": s("ROLLOVER")})
		for i := 0; i < 10; i++ {
			e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i%2)), "v": n(fmt.Sprint(r*10 + i + 1000))})
		}
		if r == 1 {
			e.kill()
			e.start()
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	e.converge(60 * time.Second)
	if !strings.Contains(e.h.AllLogs(), "shard drained") {
		t.Fatalf("no shard was drained after ROLLOVER; log:\n%s", e.log())
	}
}

// TestTrimmedStreamFailsLoudly: a stream aged past retention while ddbsync
// was stopped makes `run` exit non-zero with a gap error, never skip.
func TestTrimmedStreamFailsLoudly(t *testing.T) {
	e := newE2E(t, "trim", "", "")
	e.writePipeline("", "")
	e.start()
	e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
	e.hostileFor(workload.Config{Keys: 100}, 3*time.Second)
	e.converge(60 * time.Second)
	if code := e.stop(); code != 0 {
		t.Fatalf("stop exit %d", code)
	}
	e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("1")})
	e.testControl(map[string]types.AttributeValue{"ACTION": s("DILATE_TIME"), "HOURS": s("25")})
	e.start()
	code := e.wait(60 * time.Second)
	if code != 3 {
		t.Fatalf("exit code %d, want 3 (stream gap); log:\n%s", code, e.log())
	}
	if !strings.Contains(e.log(), "STREAM GAP") {
		t.Fatalf("log does not say STREAM GAP:\n%s", e.log())
	}
	// The gap comes with its proof: the first trimmed answer alone is never one.
	if !strings.Contains(e.log(), "a fresh iterator on the closed shard still cannot read past") {
		t.Fatalf("the gap does not give the trimmed-data proof:\n%s", e.log())
	}
}

// TestMetricsAndHealth: /metrics counts what was read and written,
// /healthz and /readyz answer while replicating.
func TestMetricsAndHealth(t *testing.T) {
	e := newE2E(t, "metrics", "", "")
	e.metricsAddr = freeAddr(t)
	e.writePipeline("", "")
	e.start()
	// One change at a time: changes of one key inside one batch would be
	// coalesced, and the counters below count applied operations.
	e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
	e.converge(30 * time.Second)
	e.put(map[string]types.AttributeValue{"pk": s("b"), "v": n("1")})
	e.converge(30 * time.Second)
	e.del(key1("a"))
	e.converge(30 * time.Second)
	get := func(path string) (int, string) {
		a := httpGet(t, e.metricsAddr, path)
		return a.status, a.body
	}
	if code, body := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz %d %s", code, body)
	}
	_, m := get("/metrics")
	for _, want := range []string{
		fmt.Sprintf(`ddbsync_stream_records_read_total{table="%s"} 3`, e.table),
		fmt.Sprintf(`ddbsync_documents_indexed_total{table="%s"} 2`, e.table),
		fmt.Sprintf(`ddbsync_documents_deleted_total{table="%s"} 1`, e.table),
		fmt.Sprintf(`ddbsync_stream_open_shards{table="%s"} 1`, e.table),
		"ddbsync_bulk_request_duration_seconds_bucket",
		"ddbsync_stream_get_records_calls_total",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(m, e.secret) {
		t.Fatal("/metrics contains the AWS secret")
	}
	// The hostile workload, then: converged and ready.
	e.hostileFor(workload.Config{Keys: 100}, 4*time.Second)
	e.converge(60 * time.Second)
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after the hostile workload: %d %s", code, body)
	}
}

// freeAddr returns a free loopback address.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
