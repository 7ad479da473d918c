package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exportDescription is DynamoDB's ExportDescription.
type exportDescription struct {
	ExportArn                      string
	ExportStatus                   string     // IN_PROGRESS, COMPLETED, FAILED
	StartTime                      *epochTime `json:",omitempty"`
	EndTime                        *epochTime `json:",omitempty"`
	ExportManifest                 string     `json:",omitempty"`
	TableArn                       string
	TableId                        string
	ExportTime                     *epochTime `json:",omitempty"`
	ClientToken                    string     `json:",omitempty"`
	S3Bucket                       string
	S3BucketOwner                  string `json:",omitempty"`
	S3Prefix                       string `json:",omitempty"`
	S3SseAlgorithm                 string
	S3SseKmsKeyId                  string `json:",omitempty"`
	FailureCode                    string `json:",omitempty"`
	FailureMessage                 string `json:",omitempty"`
	ExportFormat                   string
	BilledSizeBytes                *int64 `json:",omitempty"`
	ItemCount                      *int64 `json:",omitempty"`
	ExportType                     string
	IncrementalExportSpecification *incrementalSpec `json:",omitempty"`
}

type incrementalSpec struct {
	ExportFromTime *epochTime `json:",omitempty"`
	ExportToTime   *epochTime `json:",omitempty"`
	ExportViewType string     `json:",omitempty"`
}

// export is one export job. desc changes under exportStore.mu; done closes when the job ends.
type export struct {
	meta      exportMeta
	id        identity
	table     string
	streamArn string // incremental exports
	token     string // namespaced ClientToken, "" for none
	request   string // the request minus its ClientToken, to detect a reused token
	desc      exportDescription
	done      chan struct{}
}

// exportStore holds every export of this process, in start order.
type exportStore struct {
	mu      sync.Mutex
	all     []*export
	byArn   map[string]*export
	byToken map[string]*export
	armed   map[string]string // table name → fault for its next export (see faults.go)
}

func newExportStore() *exportStore {
	return &exportStore{byArn: map[string]*export{}, byToken: map[string]*export{}, armed: map[string]string{}}
}

// add registers e, unless its ClientToken already names an export: then that one is returned.
func (st *exportStore) add(e *export) (*export, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if prev, ok := st.byToken[e.token]; ok && e.token != "" {
		return prev, false
	}
	st.all = append(st.all, e)
	st.byArn[e.meta.ExportArn] = e
	if e.token != "" {
		st.byToken[e.token] = e
	}
	return e, true
}

func (st *exportStore) byClientToken(token string) *export {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.byToken[token]
}

func (st *exportStore) get(arn string) *export {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.byArn[arn]
}

// describe returns a copy of e's description.
func (st *exportStore) describe(e *export) exportDescription {
	st.mu.Lock()
	defer st.mu.Unlock()
	return e.desc
}

// end moves e to its final state and releases whoever waits on it.
func (st *exportStore) end(e *export, update func(*exportDescription)) {
	st.mu.Lock()
	update(&e.desc)
	st.mu.Unlock()
	close(e.done)
}

type exportInput struct {
	TableArn                       string
	ExportTime                     *epochTime
	ClientToken                    string `json:",omitempty"`
	S3Bucket                       string
	S3BucketOwner                  string
	S3Prefix                       string
	S3SseAlgorithm                 string
	S3SseKmsKeyId                  string
	ExportFormat                   string
	ExportType                     string
	IncrementalExportSpecification *incrementalSpec
}

func (s *server) exportTableToPointInTime(ctx context.Context, id identity, body []byte) (any, error) {
	var in exportInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	token, clientToken := "", in.ClientToken
	if clientToken != "" {
		token = id.namespace() + "/" + clientToken
	}
	in.ClientToken = ""
	request, _ := json.Marshal(in)
	if prev := s.exports.byClientToken(token); prev != nil {
		return s.sameRequest(prev, string(request))
	}

	name, err := tableNameOf(in.TableArn)
	if err != nil {
		return nil, err
	}
	t, err := s.up.describeTable(ctx, id, name)
	if err != nil {
		return nil, err
	}
	if !s.pitrOf(id, t).Enabled {
		return nil, errorf("PointInTimeRecoveryUnavailableException",
			"Point in time recovery is not enabled for table '%s' (enable it with UpdateContinuousBackups)", name)
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	exportID := exportIDAt(now, s.rnd)
	s.mu.Unlock()
	e := &export{id: id, table: name, token: token, request: string(request), done: make(chan struct{})}
	// The caller's ARN, not DynamoDB Local's ("ddblocal" region): on AWS they are the same, and
	// clients may check that the export ARN starts with the table ARN they sent.
	e.meta = exportMeta{
		ExportID: exportID, ExportArn: in.TableArn + "/export/" + exportID,
		TableArn: in.TableArn, TableID: t.tableID(), Bucket: in.S3Bucket, Prefix: in.S3Prefix,
		SseAlgorithm: in.S3SseAlgorithm, SseKmsKeyID: in.S3SseKmsKeyId, Type: in.ExportType, StartTime: now,
		Format: in.ExportFormat,
	}
	if err := s.setTimes(&in, &e.meta, now); err != nil {
		return nil, err
	}
	if in.ExportType == incrementalExport {
		if e.streamArn, err = incrementalStream(t, e.meta.OutputView); err != nil {
			return nil, err
		}
	}
	e.desc = initialDescription(e.meta, in)
	e.desc.ClientToken = clientToken

	e, created := s.exports.add(e)
	if !created { // a concurrent call with the same token won
		return s.sameRequest(e, string(request))
	}
	s.log.Info("export started", "table", name, "export", e.meta.ExportArn, "type", in.ExportType, "format", in.ExportFormat)
	s.jobs.Add(1)
	go s.run(s.jobCtx, e) // at once: the export should show the table as of ExportTime
	return map[string]any{"ExportDescription": s.exports.describe(e)}, nil
}

func (s *server) sameRequest(prev *export, request string) (any, error) {
	if prev.request != request {
		return nil, errorf("ExportConflictException",
			"ClientToken was used for a different export request (%s)", prev.meta.ExportArn)
	}
	return map[string]any{"ExportDescription": s.exports.describe(prev)}, nil
}

func (in *exportInput) validate() error {
	if in.TableArn == "" || in.S3Bucket == "" {
		return validationf("TableArn and S3Bucket are required")
	}
	if in.ExportFormat == "" {
		in.ExportFormat = formatJSON
	}
	switch in.ExportFormat {
	case formatJSON, formatION:
	default:
		return validationf("ExportFormat must be DYNAMODB_JSON or ION, not %q", in.ExportFormat)
	}
	if in.ExportType == "" {
		in.ExportType = fullExport
	}
	if in.ExportType != fullExport && in.ExportType != incrementalExport {
		return validationf("ExportType must be FULL_EXPORT or INCREMENTAL_EXPORT, not %q", in.ExportType)
	}
	if in.S3SseAlgorithm == "" {
		in.S3SseAlgorithm = "AES256"
	}
	if in.S3SseAlgorithm != "AES256" && in.S3SseAlgorithm != "KMS" {
		return validationf("S3SseAlgorithm must be AES256 or KMS, not %q", in.S3SseAlgorithm)
	}
	if in.ExportType == incrementalExport {
		spec := in.IncrementalExportSpecification
		if spec == nil || spec.ExportFromTime == nil {
			return validationf("IncrementalExportSpecification.ExportFromTime is required for INCREMENTAL_EXPORT")
		}
		if spec.ExportViewType == "" {
			spec.ExportViewType = "NEW_AND_OLD_IMAGES"
		}
		if spec.ExportViewType != "NEW_AND_OLD_IMAGES" && spec.ExportViewType != "NEW_IMAGE" {
			return validationf("ExportViewType must be NEW_AND_OLD_IMAGES or NEW_IMAGE, not %q", spec.ExportViewType)
		}
	} else if in.IncrementalExportSpecification != nil {
		return validationf("IncrementalExportSpecification is only valid with INCREMENTAL_EXPORT")
	}
	return nil
}

// setTimes checks the requested times against now. The emulator reads the table as it is, so
// a full export's ExportTime may only be (about) now.
func (s *server) setTimes(in *exportInput, m *exportMeta, now time.Time) error {
	if in.ExportType == fullExport {
		m.ExportTime = now
		if in.ExportTime != nil {
			t := in.ExportTime.Time
			if t.After(now.Add(time.Second)) {
				return errorf("InvalidExportTimeException", "ExportTime %s is in the future", isoMillis(t))
			}
			if t.Before(now.Add(-10 * time.Second)) {
				return errorf("InvalidExportTimeException",
					"the export emulator exports the table as it is now; ExportTime %s is too far in the past", isoMillis(t))
			}
			m.ExportTime = t
		}
		return nil
	}
	spec := in.IncrementalExportSpecification
	m.FromTime, m.ToTime, m.OutputView = spec.ExportFromTime.Time, now, spec.ExportViewType
	if spec.ExportToTime != nil {
		m.ToTime = spec.ExportToTime.Time
	}
	if !m.FromTime.Before(m.ToTime) || m.ToTime.After(now.Add(time.Second)) {
		return errorf("InvalidExportTimeException", "want ExportFromTime < ExportToTime <= now, got %s .. %s",
			isoMillis(m.FromTime), isoMillis(m.ToTime))
	}
	return nil
}

// incrementalStream is the stream an incremental export is rebuilt from (the emulator has no
// PITR history): the table must have one with the images the view needs.
func incrementalStream(t tableInfo, view string) (string, error) {
	spec := t.StreamSpecification
	if spec == nil || !spec.StreamEnabled || t.LatestStreamArn == "" {
		return "", validationf("the export emulator builds incremental exports from the table's stream; enable a NEW_AND_OLD_IMAGES stream on %s", t.TableName)
	}
	if spec.StreamViewType != "NEW_AND_OLD_IMAGES" && !(view == "NEW_IMAGE" && spec.StreamViewType == "NEW_IMAGE") {
		return "", validationf("the export emulator needs a NEW_AND_OLD_IMAGES stream on %s for a %s incremental export (it has %s)",
			t.TableName, view, spec.StreamViewType)
	}
	return t.LatestStreamArn, nil
}

func initialDescription(m exportMeta, in exportInput) exportDescription {
	d := exportDescription{
		ExportArn: m.ExportArn, ExportStatus: "IN_PROGRESS", StartTime: newEpochTime(m.StartTime),
		TableArn: m.TableArn, TableId: m.TableID, S3Bucket: m.Bucket, S3BucketOwner: in.S3BucketOwner,
		S3Prefix: m.Prefix, S3SseAlgorithm: m.SseAlgorithm, S3SseKmsKeyId: m.SseKmsKeyID,
		ExportFormat: in.ExportFormat, ExportType: m.Type,
	}
	if m.Type == incrementalExport {
		d.IncrementalExportSpecification = &incrementalSpec{
			ExportFromTime: newEpochTime(m.FromTime), ExportToTime: newEpochTime(m.ToTime), ExportViewType: m.OutputView,
		}
	} else {
		d.ExportTime = newEpochTime(m.ExportTime)
	}
	return d
}

// tableNameOf reads the table name from "arn:aws:dynamodb:<region>:<account>:table/<name>".
func tableNameOf(arn string) (string, error) {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !strings.HasPrefix(arn, "arn:") || !ok || rest == "" {
		return "", validationf("invalid table ARN %q", arn)
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, nil
}

func (s *server) describeExport(_ context.Context, _ identity, body []byte) (any, error) {
	var in struct{ ExportArn string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	e := s.exports.get(in.ExportArn)
	if e == nil {
		return nil, errorf("ExportNotFoundException", "Export not found: %s", in.ExportArn)
	}
	return map[string]any{"ExportDescription": s.exports.describe(e)}, nil
}

type exportSummary struct {
	ExportArn    string
	ExportStatus string
	ExportType   string
}

func (s *server) listExports(_ context.Context, id identity, body []byte) (any, error) {
	var in struct {
		TableArn   string
		MaxResults int
		NextToken  string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	table := ""
	if in.TableArn != "" {
		var err error
		if table, err = tableNameOf(in.TableArn); err != nil {
			return nil, err
		}
	}
	skip := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, validationf("invalid NextToken")
		}
		skip = n
	}
	limit := in.MaxResults
	if limit <= 0 || limit > 25 {
		limit = 25
	}

	s.exports.mu.Lock()
	defer s.exports.mu.Unlock()
	out := struct {
		ExportSummaries []exportSummary
		NextToken       string `json:",omitempty"`
	}{ExportSummaries: []exportSummary{}}
	seen := 0
	for _, e := range s.exports.all {
		if e.id.namespace() != id.namespace() || (table != "" && e.table != table) {
			continue
		}
		seen++
		if seen <= skip {
			continue
		}
		if len(out.ExportSummaries) == limit {
			out.NextToken = strconv.Itoa(skip + limit)
			break
		}
		out.ExportSummaries = append(out.ExportSummaries, exportSummary{e.desc.ExportArn, e.desc.ExportStatus, e.desc.ExportType})
	}
	return out, nil
}
