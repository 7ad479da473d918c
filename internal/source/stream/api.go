// Package stream tails a table's DynamoDB Stream: it discovers shards,
// reads each shard lineage in order (a child only after its parent is
// drained and acknowledged), turns records into change events with
// deterministic versions, and checkpoints a shard only after the handler
// acknowledged its records.
package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// API is the part of DynamoDB Streams the source uses.
type API interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Handler applies one ordered batch of events of one shard. The shard's
// checkpoint advances only when it returns nil.
type Handler func(ctx context.Context, events []change.Event) error

// GapError reports that stream data was lost before ddbsync could read it:
// trimmed records, a vanished shard, or a checkpoint older than retention.
// It is never treated as "done".
type GapError struct {
	Table  string
	Shard  string
	Reason string
	Err    error
	// StreamGone says the whole stream is gone (DescribeStream answers
	// ResourceNotFoundException): its table may have another stream now.
	StreamGone bool
	// Replaced says the table has another stream than the one whose
	// state was kept (see Replaced).
	Replaced bool
}

func (e *GapError) Error() string {
	msg := fmt.Sprintf("stream gap on table %s shard %s: %s", e.Table, e.Shard, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *GapError) Unwrap() error { return e.Err }

// EndedError reports that the stream was disabled (turned off, or its
// table deleted) and every record it held is applied and checkpointed:
// nothing more will come from it. What follows — waiting for a new stream,
// a replaced stream's gap, a deleted table — is the caller's to decide.
type EndedError struct {
	Table     string
	StreamARN string
}

func (e *EndedError) Error() string {
	return fmt.Sprintf("the stream %s of table %s is disabled and fully applied", e.StreamARN, e.Table)
}

// errorClass says how the reader reacts to a failed call.
type errorClass uint8

const (
	classFatal   errorClass = iota // return the error
	classRetry                     // back off and try again
	classExpired                   // get a fresh iterator from the last position
	classTrimmed                   // gap: records are gone
	classMissing                   // gap: the shard or stream is gone
)

// classify maps a DynamoDB Streams error to the reaction.
func classify(err error) errorClass {
	var (
		trimmed  *types.TrimmedDataAccessException
		expired  *types.ExpiredIteratorException
		missing  *types.ResourceNotFoundException
		limit    *types.LimitExceededException
		internal *types.InternalServerError
	)
	switch {
	case errors.As(err, &trimmed):
		return classTrimmed
	case errors.As(err, &expired):
		return classExpired
	case errors.As(err, &missing):
		return classMissing
	case errors.As(err, &limit), errors.As(err, &internal):
		return classRetry
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "TrimmedDataAccessException":
			return classTrimmed
		case "ExpiredIteratorException":
			return classExpired
		case "ResourceNotFoundException":
			return classMissing
		}
	}
	if retry.Transient(err) || errors.Is(err, context.DeadlineExceeded) {
		// A deadline here is callTimeout's: the callers check their own
		// context first.
		return classRetry
	}
	return classFatal
}
