//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Toxiproxy is a Toxiproxy server started for one scenario (stopped by its
// PID when the test ends), driven through its HTTP API: the one client of
// every suite that puts network faults between ddbsync and a server.
type Toxiproxy struct {
	tb  testing.TB
	api string
}

// toxiproxyScript installs the server; the suites run two levels below the
// root (as Binary assumes).
const toxiproxyScript = "../../test/e2e/toxiproxy.sh"

// StartToxiproxy installs toxiproxy-server (test/e2e/toxiproxy.sh, unless
// $TOXIPROXY_BIN is set) and starts it on a free loopback port.
func StartToxiproxy(tb testing.TB) *Toxiproxy {
	tb.Helper()
	bin := os.Getenv("TOXIPROXY_BIN")
	if bin == "" {
		script, err := filepath.Abs(toxiproxyScript)
		if err != nil {
			tb.Fatal(err)
		}
		out, err := exec.Command("bash", script).Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			tb.Fatalf("install toxiproxy (%s): %v\n%s", script, err, stderr)
		}
		bin = strings.TrimSpace(string(out))
	}
	port := FreePort(tb)
	logf, err := os.Create(filepath.Join(tb.TempDir(), "toxiproxy.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("start %s: %v", bin, err)
	}
	tp := &Toxiproxy{tb: tb, api: fmt.Sprintf("http://127.0.0.1:%d", port)}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill() // by PID: the process this test started
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, _ := Do(tb.Context(), tp.api, "GET", "/version", nil); st == 200 {
			return tp
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			tb.Fatalf("toxiproxy not ready on %s:\n%s", tp.api, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Proxy creates a proxy to upstream (host:port) on a free loopback port
// and returns its address.
func (tp *Toxiproxy) Proxy(name, upstream string) string {
	tp.tb.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true})
	st, resp := Do(tp.tb.Context(), tp.api, "POST", "/proxies", body)
	if st != 201 && st != 200 {
		tp.tb.Fatalf("toxiproxy create %s: %d %s", name, st, resp)
	}
	var p struct {
		Listen string `json:"listen"`
	}
	if err := json.Unmarshal(resp, &p); err != nil || p.Listen == "" {
		tp.tb.Fatalf("toxiproxy create %s: %s", name, resp)
	}
	return p.Listen
}

// AddToxic adds a toxic to proxy; stream is "upstream" (client → server)
// or "downstream".
func (tp *Toxiproxy) AddToxic(proxy, name, typ, stream string, attrs map[string]any) {
	tp.tb.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	if st, resp := Do(tp.tb.Context(), tp.api, "POST", "/proxies/"+proxy+"/toxics", body); st != 200 {
		tp.tb.Fatalf("toxiproxy add %s to %s: %d %s", name, proxy, st, resp)
	}
}

// RemoveToxic removes a toxic AddToxic added.
func (tp *Toxiproxy) RemoveToxic(proxy, name string) {
	tp.tb.Helper()
	if st, resp := Do(tp.tb.Context(), tp.api, "DELETE", "/proxies/"+proxy+"/toxics/"+name, nil); st != 204 && st != 200 {
		tp.tb.Fatalf("toxiproxy remove %s from %s: %d %s", name, proxy, st, resp)
	}
}

// blackHole names the toxics Cut adds to each direction of a proxy.
const blackHole = "black-hole"

// Cut makes each proxy a black hole in both directions (a timeout toxic
// with timeout 0): connections stay open and nothing gets through; what
// was sent is held, and delivered when Reconnect removes the toxics — a
// partition that heals, with the writes sent during it arriving late.
func (tp *Toxiproxy) Cut(proxies ...string) {
	tp.tb.Helper()
	for _, p := range proxies {
		for _, stream := range []string{"upstream", "downstream"} {
			tp.AddToxic(p, blackHole+"-"+stream, "timeout", stream, map[string]any{"timeout": 0})
		}
	}
}

// Reconnect removes the toxics Cut added.
func (tp *Toxiproxy) Reconnect(proxies ...string) {
	tp.tb.Helper()
	for _, p := range proxies {
		for _, stream := range []string{"upstream", "downstream"} {
			tp.RemoveToxic(p, blackHole+"-"+stream)
		}
	}
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
