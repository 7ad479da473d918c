package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault injection for tests (README.md): break one non-empty data file of an export, or make
// an export fail, through POST /_emu/corrupt.

const (
	faultMD5      = "md5"      // data intact, wrong md5Checksum in manifest-files.json
	faultGzip     = "gzip"     // data file is not valid gzip from its first block (md5 matches)
	faultTruncate = "truncate" // data file cut in half: early lines decode, then unexpected EOF (md5 matches)
	faultFail     = "fail"     // the export ends FAILED (armed only)
)

var errInjectedFailure = errors.New("failure injected by the export emulator (POST /_emu/corrupt kind=fail)")

// takeArmed returns and clears the fault armed for table's next export.
func (st *exportStore) takeArmed(table string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.armed[table]
	delete(st.armed, table)
	return f
}

func (st *exportStore) arm(table, fault string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.armed[table] = fault
}

// corruptObjects applies fault to the first data file with items among objs (which must hold
// that data file and manifest-files.json) and returns the data file's key.
func corruptObjects(fault string, objs []object) (string, error) {
	var manifest *object
	for i := range objs {
		if strings.HasSuffix(objs[i].Key, "/manifest-files.json") {
			manifest = &objs[i]
		}
	}
	if manifest == nil {
		return "", errors.New("no manifest-files.json")
	}
	var entries []manifestFile
	for _, line := range bytes.Split(bytes.TrimSpace(manifest.Body), []byte("\n")) {
		var m manifestFile
		if err := json.Unmarshal(line, &m); err != nil {
			return "", fmt.Errorf("manifest-files.json: %w", err)
		}
		entries = append(entries, m)
	}
	for i, m := range entries {
		data := findObject(objs, m.DataFileS3Key)
		if m.ItemCount == 0 || data == nil {
			continue
		}
		switch fault {
		case faultMD5:
			sum := md5.Sum([]byte("not the data file"))
			entries[i].MD5Checksum = base64.StdEncoding.EncodeToString(sum[:])
		case faultGzip:
			// A gzip header, then a deflate block of the reserved type 3: "corrupt input".
			data.Body = append(append([]byte{}, data.Body[:10]...), bytes.Repeat([]byte{0xff}, 16)...)
			entries[i] = manifestEntry(m.DataFileS3Key, m.ItemCount, data.Body)
		case faultTruncate:
			data.Body = append([]byte{}, data.Body[:len(data.Body)/2]...)
			entries[i] = manifestEntry(m.DataFileS3Key, m.ItemCount, data.Body)
		default:
			return "", fmt.Errorf("unknown fault %q", fault)
		}
		var b bytes.Buffer
		for _, e := range entries {
			line, _ := marshal(e)
			b.Write(line)
			b.WriteByte('\n')
		}
		manifest.Body = b.Bytes()
		return m.DataFileS3Key, nil
	}
	return "", errors.New("no data file with items to corrupt (the table is empty)")
}

func findObject(objs []object, key string) *object {
	for i := range objs {
		if objs[i].Key == key {
			return &objs[i]
		}
	}
	return nil
}

type corruptRequest struct {
	ExportArn string `json:"exportArn"`
	TableName string `json:"tableName"`
	Kind      string `json:"kind"`
}

// control serves /_emu/ready and /_emu/corrupt.
func (s *server) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_emu/ready":
		writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	case r.URL.Path == "/_emu/corrupt" && r.Method == http.MethodPost:
		var in corruptRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		status, out := s.corrupt(r.Context(), in)
		writeJSON(w, status, out)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control endpoint " + r.Method + " " + r.URL.Path})
	}
}

func (s *server) corrupt(ctx context.Context, in corruptRequest) (int, any) {
	bad := func(status int, format string, args ...any) (int, any) {
		return status, map[string]string{"error": fmt.Sprintf(format, args...)}
	}
	switch in.Kind {
	case faultMD5, faultGzip, faultTruncate, faultFail:
	default:
		return bad(http.StatusBadRequest, "kind must be md5, gzip, truncate or fail, not %q", in.Kind)
	}
	if (in.ExportArn == "") == (in.TableName == "") {
		return bad(http.StatusBadRequest, "give exportArn (a completed export) or tableName (its next export)")
	}
	if in.TableName != "" {
		s.exports.arm(in.TableName, in.Kind)
		return http.StatusAccepted, map[string]any{"tableName": in.TableName, "kind": in.Kind, "armed": true}
	}
	if in.Kind == faultFail {
		return bad(http.StatusBadRequest, "kind fail needs tableName: it applies to an export not yet finished")
	}
	e := s.exports.get(in.ExportArn)
	if e == nil {
		return bad(http.StatusNotFound, "export not found: %s", in.ExportArn)
	}
	wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	select {
	case <-e.done:
	case <-wait.Done():
		return bad(http.StatusConflict, "export %s did not finish", in.ExportArn)
	}
	if st := s.exports.describe(e).ExportStatus; st != "COMPLETED" {
		return bad(http.StatusConflict, "export %s is %s", in.ExportArn, st)
	}
	key, err := s.corruptStored(ctx, e, in.Kind)
	if err != nil {
		return bad(http.StatusInternalServerError, "%v", err)
	}
	s.log.Warn("export corrupted on request", "table", e.table, "export", e.meta.ExportArn, "kind", in.Kind, "file", key)
	return http.StatusOK, map[string]string{"exportArn": in.ExportArn, "kind": in.Kind, "dataFileS3Key": key}
}

// corruptStored applies a fault to an export already in S3.
func (s *server) corruptStored(ctx context.Context, e *export, fault string) (string, error) {
	bucket := e.meta.Bucket
	manifest, err := s.objects.Get(ctx, bucket, e.meta.manifestFilesKey())
	if err != nil {
		return "", err
	}
	objs := []object{{Key: e.meta.manifestFilesKey(), Body: manifest}}
	for _, line := range bytes.Split(bytes.TrimSpace(manifest), []byte("\n")) {
		var m manifestFile
		if json.Unmarshal(line, &m) == nil && m.ItemCount > 0 {
			body, err := s.objects.Get(ctx, bucket, m.DataFileS3Key)
			if err != nil {
				return "", err
			}
			objs = append(objs, object{Key: m.DataFileS3Key, Body: body})
			break
		}
	}
	key, err := corruptObjects(fault, objs)
	if err != nil {
		return "", err
	}
	for _, o := range objs {
		if err := s.objects.Put(ctx, bucket, o.Key, o.Body); err != nil {
			return "", err
		}
	}
	return key, nil
}
