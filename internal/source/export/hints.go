package export

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Hint says how to fix a failed S3 read, or "" when it has no advice.
func s3Hint(err error) string {
	code := ""
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	var resp *smithyhttp.ResponseError
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchBucket":
		return "the bucket does not exist: create it or correct export.s3_bucket"
	case code == "NoSuchKey":
		return "the object is missing: was the export deleted, or is export.s3_prefix wrong?"
	case status == 403 || code == "AccessDenied" || code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId":
		return "access denied: check ddbsync's AWS credentials and that they allow s3:GetObject on the export prefix (and kms:Decrypt for SSE-KMS exports)"
	}
	return ""
}

// failureHint says how to fix a FAILED export from AWS's failure code.
func failureHint(code, message string) string {
	text := code + " " + message
	switch {
	case strings.Contains(text, "NoSuchBucket"):
		return "the bucket does not exist: create it or correct export.s3_bucket"
	case strings.Contains(text, "AccessDenied"):
		return "DynamoDB could not write to the bucket: allow s3:PutObject/s3:AbortMultipartUpload for the caller on the bucket (and set s3_bucket_owner for a bucket in another account)"
	}
	return ""
}

// withHint appends a hint to an error message when there is one.
func withHint(msg, hint string) string {
	if hint == "" {
		return msg
	}
	return msg + " (" + hint + ")"
}
