//go:build integration

package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// StartNode runs `ddbsync run` on the harness pipeline as one of several
// nodes sharing it (through a shared state store in the pipeline): each
// node start gets a state directory of its own (Dir/state-<name>-<n>, so
// every start is a container with an empty disk unless stateDir is
// given), its own log and metrics address, and DDBSYNC_NODE=<name> in its
// environment (a pipeline can set node_id: ${env:DDBSYNC_NODE}). The
// harness's cleanup stops every node.
func (h *Harness) StartNode(name, stateDir string) *Process {
	h.TB.Helper()
	return h.StartNodeEnv(name, stateDir)
}

// StartNodeEnv is StartNode with variables added to this node's
// environment only (they win over ExtraEnv), e.g. AWS endpoints through a
// proxy of its own.
func (h *Harness) StartNodeEnv(name, stateDir string, env ...string) *Process {
	h.TB.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nodeRuns++
	if stateDir == "" {
		stateDir = filepath.Join(h.Dir, fmt.Sprintf("state-%s-%02d", name, h.nodeRuns))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.TB.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := h.launch(fmt.Sprintf("node-%s-%02d.log", name, h.nodeRuns), name, stateDir, addr, append([]string{"DDBSYNC_NODE=" + name}, env...))
	h.nodes = append(h.nodes, p)
	return p
}

// Nodes lists every node started, running or not, in start order.
func (h *Harness) Nodes() []*Process {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Process(nil), h.nodes...)
}

// stopNodes stops every node still running, and prints the nodes' logs
// when the test failed.
func (h *Harness) stopNodes() {
	for _, p := range h.Nodes() {
		p.Stop()
		if h.TB.Failed() {
			b, _ := os.ReadFile(p.LogPath)
			h.TB.Logf("node %s log (%s):\n%s", p.Node, p.LogPath, Tail(string(b), 6000))
		}
	}
}
