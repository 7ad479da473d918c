//go:build integration

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// placedPipeline writes a pipeline whose opensearch sink places documents
// by non-key attributes (document_id, routing, index as given), with the
// default view_on_remove, and returns the sink config the test compares
// with (parsed by the product's own config loader).
func (e *e2e) placedPipeline(tableBlock, index, documentID, routing string) *config.OpenSearch {
	e.t.Helper()
	e.pipeline = e.h.WritePipeline(shared.Pipeline{Table: e.table, TableBlock: tableBlock, Index: index, DocumentID: documentID, Routing: routing})
	f, err := config.Load(e.pipeline, func(string) (string, bool) { return "", false })
	if err != nil {
		e.t.Fatal(err)
	}
	return f.Pipelines[0].Sinks[0].OpenSearch
}

// convergePlaced waits until every item has exactly one document, at the
// place the product's resolver gives it (index, _id, routing), with the
// item's body, and no other document exists under pattern.
func (e *e2e) convergePlaced(cfg *config.OpenSearch, pattern string, anyIndex bool, timeout time.Duration) {
	e.t.Helper()
	var d shared.PlaceDiff
	err := shared.Poll(e.ctx, timeout, 300*time.Millisecond, func(context.Context) (bool, error) {
		// Read with e.ctx, not the poll's: the last comparison finishes.
		items, err := shared.TablePlaced(e.ctx, e.ddb, e.table, e.key, cfg, time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		docs, err := shared.IndexPlaced(e.ctx, e.os, pattern)
		if err != nil {
			e.t.Fatal(err)
		}
		d = shared.ComparePlaced(items, docs, anyIndex)
		return d.OK(), nil
	})
	if err != nil {
		e.t.Fatalf("%s did not converge to table %s in %s: %s", pattern, e.table, timeout, d)
	}
	e.t.Logf("converged: %d items = %d documents", d.Items, d.Docs)
}

func moving(pk, sk, tenant, docNo string, v int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk), "tenant": s(tenant), "doc_no": s(docNo), "v": n(fmt.Sprint(v))}
}

// TestIDsRoutingFollowTheItem: document_id and routing read non-key
// attributes (NEW_AND_OLD_IMAGES stream, default view_on_remove). Items
// whose routing, id attribute or both change (also several times within
// one second, so within one bulk), that are deleted and re-inserted
// elsewhere, converge to exactly one document each at the place the
// product computes, on a 3-shard index (moves within and across shards),
// after a scan backfill and through the stream; verify agrees.
func TestIDsRoutingFollowTheItem(t *testing.T) {
	e := newE2E(t, "moves", types.ScalarAttributeTypeS, "")
	if st, b := e.osDo("PUT", "/"+e.index, []byte(`{"settings":{"number_of_shards":3,"number_of_replicas":0}}`)); st != 200 {
		t.Fatalf("create index: %d %s", st, b)
	}
	t.Cleanup(func() { e.osDo("DELETE", "/"+e.index, nil) })
	tenants := []string{"acme", "globex", "initech", "umbrella", "hooli"}
	const items = 12
	for i := range items {
		e.put(moving(fmt.Sprintf("p%d", i), "s", tenants[i%len(tenants)], fmt.Sprintf("D-%d", i), 0))
	}
	cfg := e.placedPipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", e.index, "${/doc_no}", "${/tenant}")
	e.start()
	e.convergePlaced(cfg, e.index, false, 60*time.Second)

	for round := 1; round <= 4; round++ {
		for i := range items {
			pk := fmt.Sprintf("p%d", i)
			tenant, docNo := tenants[i%len(tenants)], fmt.Sprintf("D-%d", i)
			switch i % 6 {
			case 0: // routing moves
				tenant = tenants[(i+round)%len(tenants)]
			case 1: // id moves
				docNo = fmt.Sprintf("D-%d-r%d", i, round)
			case 2: // both move
				tenant, docNo = tenants[(i+round)%len(tenants)], fmt.Sprintf("D-%d-r%d", i, round)
			case 3: // deleted, re-inserted elsewhere, deleted...
				if round%2 == 1 {
					e.del(map[string]types.AttributeValue{"pk": s(pk), "sk": s("s")})
					continue
				}
				tenant, docNo = tenants[(i+round)%len(tenants)], fmt.Sprintf("D-%d-r%d", i, round)
			case 4: // hot: many moves in one second, ending back where it started every other round
				for k := range 5 {
					e.put(moving(pk, "s", tenants[(k+round)%len(tenants)], fmt.Sprintf("D-%d-h%d", i, k), round*10+k))
				}
				if round%2 == 0 {
					tenant, docNo = tenants[i%len(tenants)], fmt.Sprintf("D-%d", i)
				} else {
					continue
				}
			case 5: // an attribute the placement does not read
			}
			e.put(moving(pk, "s", tenant, docNo, round))
		}
		e.convergePlaced(cfg, e.index, false, 60*time.Second)
	}
	// Items deleted for good, under the default view_on_remove (NEW_IMAGE):
	// the deletes are placed by the old image.
	for i := range items {
		if i%2 == 0 {
			e.del(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("p%d", i)), "sk": s("s")})
		}
	}
	e.convergePlaced(cfg, e.index, false, 60*time.Second)
	if strings.Contains(e.log(), "dead-letter") {
		t.Errorf("documents were dead-lettered:\n%s", e.log())
	}
	if code, r := e.verify("--recheck-after", "1s"); code != 0 || !r.Equal {
		t.Fatalf("verify after convergence: exit %d, report %+v", code, r)
	}
}

// TestIDsDatePatternIndexConverges: the index name has a date pattern
// down to the second, so every change of an item falls into another
// index; the older copies are found and deleted, and each item ends with
// exactly one document (in the index of its last change).
func TestIDsDatePatternIndexConverges(t *testing.T) {
	e := newE2E(t, "dated", types.ScalarAttributeTypeS, "")
	pattern := e.index + "-*"
	t.Cleanup(func() { e.osDo("DELETE", "/"+pattern, nil) })
	// An unrelated index that the pattern's wildcard also matches keeps
	// its documents.
	other := e.index + "-archive"
	if st, b := e.osDo("PUT", "/"+other+"/_doc/D-0?routing=acme&refresh=true", []byte(`{"keep":true}`)); st != 201 {
		t.Fatalf("unrelated document: %d %s", st, b)
	}
	const items = 6
	for i := range items {
		e.put(moving(fmt.Sprintf("p%d", i), "s", "acme", fmt.Sprintf("D-%d", i), 0))
	}
	cfg := e.placedPipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", e.index+"-%{HH.mm.ss}", "${/doc_no}", "${/tenant}")
	e.start()
	within := func() {
		e.t.Helper()
		// Compare without the archive index (checked below), by _id and
		// routing: the index depends on the time of each item's last change.
		e.convergePlaced(cfg, e.index+"-*,-"+other, true, 60*time.Second)
	}
	within()
	for round := 1; round <= 3; round++ {
		time.Sleep(1100 * time.Millisecond) // the next change falls into another second, so another index
		for i := range items {
			switch i % 3 {
			case 0:
				e.put(moving(fmt.Sprintf("p%d", i), "s", "acme", fmt.Sprintf("D-%d", i), round))
			case 1:
				e.put(moving(fmt.Sprintf("p%d", i), "s", []string{"acme", "globex"}[round%2], fmt.Sprintf("D-%d", i), round))
			case 2:
				if round == 2 {
					e.del(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("p%d", i)), "sk": s("s")})
				} else {
					e.put(moving(fmt.Sprintf("p%d", i), "s", "acme", fmt.Sprintf("D-%d", i), round))
				}
			}
		}
		within()
	}
	if st, b := e.osDo("GET", "/"+other+"/_doc/D-0?routing=acme", nil); st != 200 {
		t.Fatalf("the unrelated index lost its document: %d %s", st, b)
	}
}

// TestIDsUnambiguousKeys: keys that collided under "pk|sk" and "sha256:"
// hashing (a separator inside a key value, a key that is literally a
// hashed id, keys over 512 bytes) each get their own document, with the
// documented ids, through the scan backfill and the stream, including
// updates and deletes; verify agrees.
func TestIDsUnambiguousKeys(t *testing.T) {
	long := strings.Repeat("x", 600)
	t.Run("composite", func(t *testing.T) {
		e := newE2E(t, "idpipes", types.ScalarAttributeTypeS, "")
		k := func(pk, sk string) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
		}
		it := func(pk, sk, v string) map[string]types.AttributeValue {
			m := k(pk, sk)
			m["v"] = s(v)
			return m
		}
		keys := [][2]string{
			{"a|b", "c"}, {"a", "b|c"}, {"a|b|c", "d"}, {"a", "b|c|d"}, {"a%7Cb", "c"}, {"sha256:~a%7Cb", "c"},
			{strings.Repeat("|", 300), "s"}, {strings.Repeat("%7C", 300), "s"}, {long, "s"}, {"plain", "s"},
		}
		for _, kk := range keys[:5] {
			e.put(it(kk[0], kk[1], "scan"))
		}
		e.writePipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", "")
		e.start()
		for _, kk := range keys[5:] {
			e.put(it(kk[0], kk[1], "stream"))
		}
		d := e.converge(60 * time.Second)
		if d.items != len(keys) {
			t.Fatalf("%d items, want %d", d.items, len(keys))
		}
		docs := e.indexDocs()
		for _, id := range []string{"sha256:~a%7Cb|c", "a|b|c", "sha256:~a%7Cb%7Cc|d", "a|b|c|d", "a%7Cb|c", "sha256:~sha256:~a%257Cb|c", "plain|s",
			ddbjson.HashID(long + "|s"), ddbjson.HashID("sha256:~" + strings.Repeat("%7C", 300) + "|s")} {
			if _, ok := docs[id]; !ok {
				t.Errorf("no document with the documented _id %.80q", id)
			}
		}
		for i, kk := range keys {
			if i%2 == 0 {
				e.put(it(kk[0], kk[1], "updated"))
			} else {
				e.del(k(kk[0], kk[1]))
			}
		}
		e.converge(60 * time.Second)
		if code, r := e.verify("--recheck-after", "1s"); code != 0 || !r.Equal {
			t.Fatalf("verify: exit %d, report %+v", code, r)
		}
	})
	t.Run("hash-only", func(t *testing.T) {
		e := newE2E(t, "idhash", "", "")
		hashed := ddbjson.HashID(long)
		keys := []string{long, hashed, "sha256:~" + hashed, "sha256:", "a|b", "plain"}
		e.put(item(keys[0], 0))
		e.put(item(keys[1], 1))
		e.writePipeline("scan:\n  segments: 1\nstream:\n  start_position: LATEST", "")
		e.start()
		for i, pk := range keys[2:] {
			e.put(item(pk, i+2))
		}
		d := e.converge(60 * time.Second)
		if d.items != len(keys) {
			t.Fatalf("%d items, want %d", d.items, len(keys))
		}
		docs := e.indexDocs()
		for _, id := range []string{hashed, "sha256:~" + hashed, "sha256:~sha256:~" + hashed, "sha256:~sha256:", "a|b", "plain"} {
			if _, ok := docs[id]; !ok {
				t.Errorf("no document with the documented _id %q", id)
			}
		}
		// The item whose key is literally the long key's hashed id changes
		// and goes; the long key's document must not move with it.
		e.put(item(hashed, 100))
		e.converge(60 * time.Second)
		e.del(key1(hashed))
		e.put(item(long, 101))
		e.converge(60 * time.Second)
		if code, r := e.verify("--recheck-after", "1s"); code != 0 || !r.Equal {
			t.Fatalf("verify: exit %d, report %+v", code, r)
		}
	})
}

// TestIDsRunChecksStreamView: with a NEW_IMAGE stream, a routing on a
// non-key attribute cannot place deletes; run refuses to start (exit 1),
// naming the table, its view type, what reads the attribute and the view
// to use.
func TestIDsRunChecksStreamView(t *testing.T) {
	e := newE2E(t, "newimage", "", "")
	// Swap the harness's table for one with a NEW_IMAGE stream (the
	// harness's pipeline and cleanup use h.Table; drop the first one here).
	first := e.table
	e.table = first + "-ni"
	e.h.Table = e.table
	if _, err := e.ddb.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ddb.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(e.table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	}); err != nil {
		t.Fatal(err)
	}
	e.placedPipeline("stream:\n  start_position: TRIM_HORIZON", e.index, `${getMetadata("primary_key")}`, "${/tenant}")
	e.start()
	var line string
	poll(t, "run reports the stream view it cannot support", 30*time.Second, 200*time.Millisecond, func(context.Context) (bool, error) {
		l := e.log()
		i := strings.Index(l, "the table's stream has no old images")
		if i < 0 {
			return false, nil
		}
		line, _, _ = strings.Cut(l[i:], "\n")
		return true, nil
	})
	for _, want := range []string{"NEW_AND_OLD_IMAGES", e.table, "NEW_IMAGE", "routing /tenant"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up message lacks %q: %s", want, line)
		}
	}
	if code := e.wait(30 * time.Second); code != 1 {
		t.Errorf("exit %d, want 1: a stream that cannot keep the index equal is refused", code)
	}
}
