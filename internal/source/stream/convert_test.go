package stream

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// TestToEventOldImage: the old image is kept for MODIFY and REMOVE
// whatever view_on_remove says; view_on_remove only chooses a delete's body.
func TestToEventOldImage(t *testing.T) {
	sv := func(v string) st.AttributeValue { return &st.AttributeValueMemberS{Value: v} }
	keys := map[string]st.AttributeValue{"pk": sv("k")}
	oldImg := map[string]st.AttributeValue{"pk": sv("k"), "tenant": sv("A")}
	newImg := map[string]st.AttributeValue{"pk": sv("k"), "tenant": sv("B")}
	rec := func(name st.OperationType, oldI, newI map[string]st.AttributeValue) st.Record {
		return st.Record{EventName: name, Dynamodb: &st.StreamRecord{
			Keys: keys, OldImage: oldI, NewImage: newI, SequenceNumber: aws.String("1"),
			ApproximateCreationDateTime: aws.Time(time.Unix(1700000000, 0)),
		}}
	}
	tests := []struct {
		name        string
		view        string
		skip        bool
		rec         st.Record
		doc, oldDoc string
	}{
		{"insert", "NEW_IMAGE", false, rec(st.OperationTypeInsert, nil, newImg), `{"pk":"k","tenant":"B"}`, ""},
		{"modify", "NEW_IMAGE", false, rec(st.OperationTypeModify, oldImg, newImg), `{"pk":"k","tenant":"B"}`, `{"pk":"k","tenant":"A"}`},
		{"modify without old image", "NEW_IMAGE", false, rec(st.OperationTypeModify, nil, newImg), `{"pk":"k","tenant":"B"}`, ""},
		{"remove, view NEW_IMAGE", "NEW_IMAGE", false, rec(st.OperationTypeRemove, oldImg, nil), `{"pk":"k"}`, `{"pk":"k","tenant":"A"}`},
		{"remove, view OLD_IMAGE", "OLD_IMAGE", false, rec(st.OperationTypeRemove, oldImg, nil), `{"pk":"k","tenant":"A"}`, `{"pk":"k","tenant":"A"}`},
		{"remove without old image", "OLD_IMAGE", false, rec(st.OperationTypeRemove, nil, nil), `{"pk":"k"}`, ""},
		{"modify, old images skipped", "NEW_IMAGE", true, rec(st.OperationTypeModify, oldImg, newImg), `{"pk":"k","tenant":"B"}`, ""},
		{"remove, view NEW_IMAGE, old images skipped", "NEW_IMAGE", true, rec(st.OperationTypeRemove, oldImg, nil), `{"pk":"k"}`, ""},
		{"remove, view OLD_IMAGE, old images skipped", "OLD_IMAGE", true, rec(st.OperationTypeRemove, oldImg, nil), `{"pk":"k","tenant":"A"}`, `{"pk":"k","tenant":"A"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &Table{Name: "t", Key: ddbjson.Key{Partition: "pk"}, ViewOnRemove: tt.view, SkipOldImages: tt.skip}
			ev, err := tb.toEvent(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if string(ev.Doc) != tt.doc || string(ev.OldDoc) != tt.oldDoc {
				t.Fatalf("doc %s old %s, want %s and %s", ev.Doc, ev.OldDoc, tt.doc, tt.oldDoc)
			}
		})
	}
}
