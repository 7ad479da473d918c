package stream

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// ttlPrincipal is the identity DynamoDB puts on REMOVE records issued by TTL.
const ttlPrincipal = "dynamodb.amazonaws.com"

// isTTLDelete reports whether a record is a TTL expiry.
func isTTLDelete(r st.Record) bool {
	return r.EventName == st.OperationTypeRemove && r.UserIdentity != nil &&
		aws.ToString(r.UserIdentity.Type) == "Service" && aws.ToString(r.UserIdentity.PrincipalId) == ttlPrincipal
}

// toEvent converts one record; the version is assigned by the caller.
func (t *Table) toEvent(r st.Record) (change.Event, error) {
	sr := r.Dynamodb
	if sr == nil {
		return change.Event{}, fmt.Errorf("record %s has no dynamodb section", aws.ToString(r.EventID))
	}
	keys, err := ddbjson.FromStreamItem(sr.Keys)
	if err != nil {
		return change.Event{}, fmt.Errorf("keys: %w", err)
	}
	ids, err := t.Key.KeyIDs(keys)
	if err != nil {
		return change.Event{}, err
	}
	ev := change.Event{
		Table:        t.Name,
		ID:           ids.ID,
		PartitionKey: ids.Partition,
		SortKey:      ids.Sort,
		EventName:    string(r.EventName),
		Timestamp:    aws.ToTime(sr.ApproximateCreationDateTime).UTC(),
		Sequence:     aws.ToString(sr.SequenceNumber),
	}
	var image map[string]types.AttributeValue
	switch r.EventName {
	case st.OperationTypeInsert, st.OperationTypeModify:
		if sr.NewImage == nil {
			return change.Event{}, fmt.Errorf("%s record without NewImage (stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES)", r.EventName)
		}
		ev.Op = change.OpIndex
		if image, err = ddbjson.FromStreamItem(sr.NewImage); err != nil {
			return change.Event{}, fmt.Errorf("new image: %w", err)
		}
	case st.OperationTypeRemove:
		ev.Op = change.OpDelete
		ev.TTLDelete = isTTLDelete(r)
		image = keys
	default:
		return change.Event{}, fmt.Errorf("unknown event name %q", r.EventName)
	}
	// The old image places the old copy (DESIGN §2.11) whatever
	// view_on_remove says; view_on_remove only chooses a delete's body.
	if sr.OldImage != nil && r.EventName != st.OperationTypeInsert &&
		(!t.SkipOldImages || (ev.Op == change.OpDelete && t.ViewOnRemove == "OLD_IMAGE")) {
		old, err := ddbjson.FromStreamItem(sr.OldImage)
		if err != nil {
			return change.Event{}, fmt.Errorf("old image: %w", err)
		}
		if ev.OldDoc, err = ddbjson.Item(old); err != nil {
			return change.Event{}, fmt.Errorf("old image: %w", err)
		}
	}
	if ev.Op == change.OpDelete && t.ViewOnRemove == "OLD_IMAGE" && ev.OldDoc != nil {
		ev.Doc = ev.OldDoc
		return ev, nil
	}
	if ev.Doc, err = ddbjson.Item(image); err != nil {
		return change.Event{}, fmt.Errorf("image: %w", err)
	}
	return ev, nil
}

// createdSecond is the record's ApproximateCreationDateTime.
func createdAt(r st.Record) time.Time {
	if r.Dynamodb == nil {
		return time.Time{}
	}
	return aws.ToTime(r.Dynamodb.ApproximateCreationDateTime)
}
