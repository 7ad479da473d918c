package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// FileStore keeps all progress in one JSON file in a state directory,
// replaced atomically (write temp, fsync, rename, fsync dir) on every save.
// An exclusive flock on the directory stops a second process from sharing it.
type FileStore struct {
	path string
	lock *os.File

	mu   sync.Mutex
	data map[string]Progress
}

// stateFile is the name of the checkpoint file inside the state directory.
const stateFile = "checkpoints.json"

// OpenFileStore opens (creating if needed) the store in dir.
func OpenFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir %s: %w%s", dir, err, permissionHint(err))
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state dir %s is not usable: %w%s", dir, err, permissionHint(err))
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("state dir %s is in use by another ddbsync process: %w", dir, err)
	}
	s := &FileStore{path: filepath.Join(dir, stateFile), lock: lock, data: map[string]Progress{}}
	b, err := os.ReadFile(s.path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		lock.Close()
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	default:
		if err := json.Unmarshal(b, &s.data); err != nil {
			lock.Close()
			return nil, fmt.Errorf("parse %s: %w", s.path, err)
		}
	}
	return s, nil
}

// permissionHint says how to fix a state directory this process may not
// write: the usual case is a container's host directory mounted as root.
func permissionHint(err error) string {
	if !errors.Is(err, fs.ErrPermission) {
		return ""
	}
	return fmt.Sprintf(" (ddbsync runs as uid %d: make the directory writable by it, e.g. chown %d:%d DIR for a bind mount, "+
		"use a named volume in a container, or pass another --state-dir / DDBSYNC_STATE_DIR)", os.Getuid(), os.Getuid(), os.Getgid())
}

// Close releases the directory lock.
func (s *FileStore) Close() error { return s.lock.Close() }

// Acquire implements Store; a single process holds every lease, so lctx
// is ctx.
func (s *FileStore) Acquire(ctx context.Context, key string) (context.Context, Progress, bool, error) {
	p, found, err := s.Get(ctx, key)
	return ctx, p, found, err
}

// Create implements Store.
func (s *FileStore) Create(ctx context.Context, key string, p Progress) (Progress, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.data[key]; ok {
		return prev, false, nil
	}
	if err := s.saveLocked(key, p); err != nil {
		return Progress{}, false, err
	}
	return p, true, nil
}

// Get implements Store.
func (s *FileStore) Get(_ context.Context, key string) (Progress, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.data[key]
	return p, ok, nil
}

// Save implements Store.
func (s *FileStore) Save(_ context.Context, key string, p Progress) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked(key, p)
}

func (s *FileStore) saveLocked(key string, p Progress) error {
	prev, had := s.data[key]
	s.data[key] = p
	if err := s.flush(); err != nil {
		if had {
			s.data[key] = prev
		} else {
			delete(s.data, key)
		}
		return fmt.Errorf("save checkpoint %s: %w", key, err)
	}
	return nil
}

// Complete implements Store.
func (s *FileStore) Complete(ctx context.Context, key string, p Progress) error {
	p.Done = true
	return s.Save(ctx, key, p)
}

// Forget implements Store.
func (s *FileStore) Forget(_ context.Context, prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := map[string]Progress{}
	for k, v := range s.data {
		if strings.HasPrefix(k, prefix) {
			removed[k] = v
			delete(s.data, k)
		}
	}
	if err := s.flush(); err != nil {
		for k, v := range removed {
			s.data[k] = v
		}
		return fmt.Errorf("forget checkpoints %s*: %w", prefix, err)
	}
	return nil
}

// Release implements Store; a single process holds every lease.
func (s *FileStore) Release(context.Context, string) error { return nil }

// Snapshot returns a copy of all progress (for status output and tests).
func (s *FileStore) Snapshot() map[string]Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Progress, len(s.data))
	for k, v := range s.data {
		out[k] = v
	}
	return out
}

func (s *FileStore) flush() error {
	b, err := json.MarshalIndent(s.data, "", " ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(s.path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReadFileState reads the checkpoints of a state directory without taking
// its lock, for `ddbsync status` beside a running `run` (which holds the
// lock). The file is replaced atomically, so a read sees one whole version.
// A directory without checkpoints reads as empty.
func ReadFileState(dir string) (map[string]Progress, error) {
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]Progress{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := map[string]Progress{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return out, nil
}
