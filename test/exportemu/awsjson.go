package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"net/http"
	"strconv"
	"time"
)

// errorTypePrefix is how the DynamoDB JSON protocol qualifies error codes in "__type".
const errorTypePrefix = "com.amazonaws.dynamodb.v20120810#"

// apiError is an AWS error answered with HTTP 400 (the SDKs map Code to a typed error).
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func validationf(format string, args ...any) *apiError {
	return errorf("ValidationException", format, args...)
}

// writeJSON answers in the DynamoDB JSON protocol.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, errorBody("InternalServerError", err.Error())
	}
	writeRaw(w, status, body)
}

// writeError answers an apiError with 400 and anything else with 500 InternalServerError.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeRaw(w, http.StatusBadRequest, errorBody(ae.Code, ae.Message))
		return
	}
	writeRaw(w, http.StatusInternalServerError, errorBody("InternalServerError", err.Error()))
}

// writeRaw sends body with DynamoDB's headers, X-Amz-Crc32 included: the SDKs check it.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorBody(code, msg string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{errorTypePrefix + code, msg})
	return b
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// epochTime is a timestamp in the JSON protocol's form: seconds since the epoch, with
// milliseconds as a fraction (what DynamoDB sends, e.g. 1604468914.028).
type epochTime struct{ time.Time }

func newEpochTime(t time.Time) *epochTime { return &epochTime{t} }

// MarshalJSON writes whole milliseconds, never exponent form.
func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return fmt.Appendf(nil, "%d.%03d", ms/1000, ms%1000), nil
}

// UnmarshalJSON accepts a number of seconds (fraction optional), as every SDK sends it.
func (t *epochTime) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("timestamp %s: want seconds since the epoch", b)
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// marshal is json.Marshal without HTML escaping: export lines keep DynamoDB's bytes ("<" stays
// "<", as in AWS's files).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// isoMillis is the form of the manifest's times: "2020-11-04T07:28:34.028Z".
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
