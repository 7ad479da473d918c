//go:build integration

package integration

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// image is what the Dockerfile's final stage sets: environment, working
// directory, user and command. The test reads it from the Dockerfile, so it
// follows the image.
type image struct {
	env      map[string]string
	workDir  string
	uid, gid uint32
	cmd      []string
}

func readImage(t *testing.T) image {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the final stage counts.
	text := string(b)
	text = text[strings.LastIndex(text, "\nFROM "):]
	text = strings.ReplaceAll(text, "\\\n", " ")
	img := image{env: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "ENV":
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				img.env[k] = v
			}
		case "WORKDIR":
			img.workDir = f[1]
		case "USER":
			u, g, _ := strings.Cut(f[1], ":")
			uid, err1 := strconv.Atoi(u)
			gid, err2 := strconv.Atoi(g)
			if err1 != nil || err2 != nil {
				t.Fatalf("Dockerfile USER %q: want numeric uid:gid", f[1])
			}
			img.uid, img.gid = uint32(uid), uint32(gid)
		case "CMD":
			rest := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "CMD"))
			for _, a := range strings.Split(strings.Trim(rest, "[]"), ",") {
				img.cmd = append(img.cmd, strings.Trim(strings.TrimSpace(a), `"`))
			}
		}
	}
	if img.uid == 0 || img.workDir == "" || img.env["DDBSYNC_STATE_DIR"] == "" || len(img.cmd) == 0 {
		t.Fatalf("Dockerfile: final stage lacks a non-root USER, WORKDIR, DDBSYNC_STATE_DIR or CMD: %+v", img)
	}
	return img
}

// fakeRoot is a directory standing for the container's file system: the
// image's paths live under it, readable by the image's user.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "ddbsync-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestContainerImageLayout runs the binary as the image does (its user,
// environment, working directory and command, the pipeline mounted
// read-only and root-owned): with the image's state directory it
// replicates, and its state and default dead-letter file land in the
// state directory; with a root-owned directory mounted there instead it
// exits 1 at once, saying which directory and how to fix it.
func TestContainerImageLayout(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the binary as the image's user") // CI runs as root
	}
	img := readImage(t)
	for _, tc := range []struct {
		name      string
		stateUID  int // owner of the state directory (the volume)
		wantWorks bool
	}{
		{"image state directory", int(img.uid), true},
		{"root-owned bind mount", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, "image", "", "")
			e.writePipeline("", "")
			root := fakeRoot(t)
			at := func(p string) string { return filepath.Join(root, p) }
			bin := at("/usr/local/bin/ddbsync")
			copyFile(t, shared.Binary(t), bin, 0o755)
			pipeline := img.cmd[len(img.cmd)-1] // CMD ends with run -f <pipeline>
			copyFile(t, e.pipeline, at(pipeline), 0o644)
			state := at(img.env["DDBSYNC_STATE_DIR"])
			if err := os.MkdirAll(state, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(state, tc.stateUID, tc.stateUID); err != nil {
				t.Fatal(err)
			}
			args := append([]string(nil), img.cmd...)
			args[len(args)-1] = at(pipeline)
			metrics := freeAddr(t)
			// The image's environment, with its paths under the fake root and
			// its metrics address on loopback (tests bind 127.0.0.1 only).
			for k, v := range img.env {
				switch k {
				case "DDBSYNC_STATE_DIR":
					v = state
				case "DDBSYNC_METRICS_ADDR":
					v = metrics
				}
				e.h.ExtraEnv = append(e.h.ExtraEnv, k+"="+v)
			}
			e.h.Container = &shared.Container{Binary: bin, Args: args, WorkDir: at(img.workDir), UID: img.uid, GID: img.gid}
			e.start()
			if !tc.wantWorks {
				if code := e.wait(30 * time.Second); code != 1 {
					t.Fatalf("exit %d, want 1:\n%s", code, e.log())
				}
				msg := shared.ErrorLine(e.log())
				for _, want := range []string{state, "uid " + strconv.Itoa(int(img.uid)), "chown"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error lacks %q: %s", want, msg)
					}
				}
				return
			}
			e.put(map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
			// A string where the mapping holds an object: a dead letter in
			// the default file, which must be writable too.
			e.put(map[string]types.AttributeValue{"pk": s("o"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1")}}})
			e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": s("text")})
			poll(t, "dead letter written", 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
				fi, err := os.Stat(filepath.Join(state, "dlq", "e2e.jsonl"))
				return err == nil && fi.Size() > 0, nil
			})
			e.put(map[string]types.AttributeValue{"pk": s("bad"), "f": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("2")}}})
			e.converge(60 * time.Second)
			if code := e.stop(); code != 0 {
				t.Fatalf("exit %d on SIGTERM:\n%s", code, e.log())
			}
			fi, err := os.Stat(filepath.Join(state, "checkpoints.json"))
			if err != nil {
				t.Fatalf("no checkpoints in the image's state directory: %v", err)
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != img.uid {
				t.Errorf("checkpoints owned by uid %d, want the image's %d", st.Uid, img.uid)
			}
		})
	}
}
