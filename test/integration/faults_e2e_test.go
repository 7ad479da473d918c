//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// outageProxy forwards TCP to OpenSearch; down() refuses and cuts every
// connection (what ddbsync sees when OpenSearch is stopped), up() restores.
type outageProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{t: t, target: u.Host, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *outageProxy) url() string { return "http://" + p.addr }

func (p *outageProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
}

func (p *outageProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *outageProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *outageProxy) up() { p.listen(p.addr) }

// TestOpenSearchOutage: OpenSearch unreachable for 30 s mid-stream; ddbsync
// keeps retrying, loses nothing, and converges after it returns.
func TestOpenSearchOutage(t *testing.T) {
	e := newE2E(t, "outage", "", "")
	proxy := newOutageProxy(t, e.os)
	e.writePipeline("", "")
	// Point the sink at the proxy.
	b, _ := os.ReadFile(e.pipeline)
	os.WriteFile(e.pipeline, []byte(strings.Replace(string(b), e.os, proxy.url(), 1)), 0o644)
	e.start()
	for i := 0; i < 50; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i%10)), "v": n(fmt.Sprint(i))})
	}
	e.converge(30 * time.Second)
	proxy.down()
	// 30 s of writes while OpenSearch is away: the hostile workload and a
	// plain trickle of updates and deletes.
	w := e.h.StartWorkload(e.hostile(workload.Config{Keys: 200, Pace: 100 * time.Millisecond}))
	for i := 0; i < 300; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i%40)), "v": n(fmt.Sprint(1000 + i))})
		if i%7 == 0 {
			e.del(key1(fmt.Sprintf("k%d", (i+3)%40)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	proxy.up()
	e.converge(60 * time.Second)
	if e.proc == nil {
		t.Fatalf("ddbsync exited during the outage:\n%s", e.log())
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestMappingRejectionGoesToDLQ: a document OpenSearch rejects (a string
// where the mapping says object; a string in a number field is indexed
// under ddbsync's number mapping) lands in the dlq_file with everything
// needed to replay it, and the stream continues.
func TestMappingRejectionGoesToDLQ(t *testing.T) {
	e := newE2E(t, "dlq", "", "")
	dlq := filepath.Join(e.dir, "dlq.jsonl")
	e.writePipeline("", "dlq_file: "+dlq)
	e.start()
	obj := func(v string) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n(v)}}
	}
	e.put(map[string]types.AttributeValue{"pk": s("good"), "f": obj("1")})
	e.converge(30 * time.Second)
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": s("not a number")})
	e.put(map[string]types.AttributeValue{"pk": s("after"), "f": obj("2")})
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := e.compare()
		if len(d.missing) == 1 && d.missing[0] == "bad" && len(d.extra)+len(d.stale) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want exactly 'bad' missing: %s", d)
		}
		time.Sleep(300 * time.Millisecond)
	}
	f, err := os.Open(dlq)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("dlq line is not JSON: %s", sc.Text())
		}
		entries = append(entries, m)
	}
	if len(entries) != 1 {
		t.Fatalf("%d dlq entries", len(entries))
	}
	en := entries[0]
	doc, _ := json.Marshal(en["document"])
	if en["id"] != "bad" || en["action"] != "index" || en["version"] == nil || !strings.Contains(string(doc), "not a number") {
		t.Fatalf("dlq entry lacks what a replay needs: %v", en)
	}
	// A later valid change of the same item converges, and so does the
	// hostile workload after it.
	e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": obj("3")})
	e.converge(30 * time.Second)
	e.hostileFor(workload.Config{Keys: 100}, 3*time.Second)
	e.converge(60 * time.Second)
}

// TestTTLDeletes: TTL expiry deletes the document by default, and keeps it
// with ttl_deletes: keep.
func TestTTLDeletes(t *testing.T) {
	for _, mode := range []string{"delete", "keep"} {
		t.Run(mode, func(t *testing.T) {
			e := newE2E(t, "ttl"+mode, "", "")
			if _, err := e.ddb.UpdateTimeToLive(e.ctx, ttlInput(e.table)); err != nil {
				t.Fatalf("enable TTL: %v", err)
			}
			e.writePipeline(fmt.Sprintf("stream:\n  start_position: TRIM_HORIZON\n  ttl_deletes: %s", mode), "")
			e.start()
			past := fmt.Sprint(time.Now().Add(-time.Hour).Unix())
			e.put(map[string]types.AttributeValue{"pk": s("expires"), "exp": n(past)})
			e.put(map[string]types.AttributeValue{"pk": s("stays"), "v": n("1")})
			e.hostileFor(workload.Config{Keys: 100}, 3*time.Second) // no "exp": none of these expire
			// Wait for DynamoDB Local's TTL sweep to remove the item.
			deadline := time.Now().Add(4 * time.Minute)
			for {
				if _, ok := e.tableDocs()["expires"]; !ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("DynamoDB Local did not expire the item")
				}
				time.Sleep(time.Second)
			}
			if mode == "delete" {
				e.converge(30 * time.Second)
				return
			}
			e.put(map[string]types.AttributeValue{"pk": s("marker"), "v": n("1")})
			deadline = time.Now().Add(30 * time.Second)
			for {
				d := e.compare()
				if len(d.extra) == 1 && d.extra[0] == "expires" && len(d.missing)+len(d.stale) == 0 {
					return // the expired item's document was kept, everything else is equal
				}
				if time.Now().After(deadline) {
					t.Fatalf("want exactly 'expires' kept as extra: %s", d)
				}
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
}

// TestGapRebackfill: the stream trimmed past retention while ddbsync was
// down is detected, and with on_gap: rebackfill the table is backfilled
// again, documents of items deleted meanwhile are swept, and the stream
// continues.
func TestGapRebackfill(t *testing.T) {
	e := newE2E(t, "rebackfill", "", "")
	for i := 0; i < 50; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n("1")})
	}
	e.loadHostile(300)
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST\n  on_gap: rebackfill", "")
	e.start()
	e.waitLog("scan backfill complete", time.Minute)
	e.put(map[string]types.AttributeValue{"pk": s("k0"), "v": n("2")})
	e.converge(30 * time.Second)
	if code := e.stop(); code != 0 {
		t.Fatalf("stop exit %d", code)
	}
	// While ddbsync is down: deletes, updates, inserts, then the stream ages past retention.
	for i := 0; i < 10; i++ {
		e.del(key1(fmt.Sprintf("k%d", i)))
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", 20+i)), "v": n("3")})
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("new%d", i)), "v": n("1")})
	}
	e.hostileFor(workload.Config{Keys: 300}, 3*time.Second)
	e.testControl(map[string]types.AttributeValue{"ACTION": s("DILATE_TIME"), "HOURS": s("25")})
	e.start()
	e.waitLog("re-backfill complete", 2*time.Minute)
	e.put(map[string]types.AttributeValue{"pk": s("after"), "v": n("1")})
	e.hostileFor(workload.Config{Keys: 300}, 3*time.Second)
	e.converge(60 * time.Second)
	for _, want := range []string{"STREAM GAP", "orphan documents deleted after re-backfill"} {
		if !strings.Contains(e.log(), want) {
			t.Fatalf("log lacks %q", want)
		}
	}
	if e.proc == nil {
		t.Fatal("ddbsync exited")
	}
}
