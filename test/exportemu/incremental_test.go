package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

var (
	windowFrom = time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)
	windowTo   = windowFrom.Add(time.Minute)
)

// rec builds a stream record sec seconds after windowFrom.
func rec(event string, sec int, keys, oldImage, newImage string) streamRecord {
	var r streamRecord
	r.EventName = event
	r.Dynamodb.ApproximateCreationDateTime = epochTime{windowFrom.Add(time.Duration(sec) * time.Second)}
	r.Dynamodb.Keys = json.RawMessage(keys)
	if oldImage != "" {
		r.Dynamodb.OldImage = json.RawMessage(oldImage)
	}
	if newImage != "" {
		r.Dynamodb.NewImage = json.RawMessage(newImage)
	}
	return r
}

// changes is a stream around the window [10:00:00, 10:01:00): k1 updated twice inside it
// (after a change before it), k2 inserted (and changed again exactly at the window's end),
// k3 deleted, k4 created and deleted inside it, k5 with its key attributes in either order.
var changes = []streamRecord{
	rec("INSERT", -1, `{"pk":{"S":"k1"}}`, ``, `{"pk":{"S":"k1"},"v":{"N":"0"}}`),
	rec("MODIFY", 5, `{"pk":{"S":"k1"}}`, `{"pk":{"S":"k1"},"v":{"N":"0"}}`, `{"pk":{"S":"k1"},"v":{"N":"1"}}`),
	rec("INSERT", 10, `{"pk":{"S":"k2"}}`, ``, `{"pk":{"S":"k2"},"v":{"S":"<new>"}}`),
	rec("REMOVE", 20, `{"pk":{"S":"k3"}}`, `{"pk":{"S":"k3"},"v":{"N":"3"}}`, ``),
	rec("MODIFY", 30, `{"pk":{"S":"k1"}}`, `{"pk":{"S":"k1"},"v":{"N":"1"}}`, `{"pk":{"S":"k1"},"v":{"N":"2.000"}}`),
	rec("INSERT", 40, `{"pk":{"S":"k4"}}`, ``, `{"pk":{"S":"k4"}}`),
	rec("REMOVE", 50, `{"pk":{"S":"k4"}}`, `{"pk":{"S":"k4"}}`, ``),
	rec("INSERT", 51, `{"pk":{"S":"k5"},"sk":{"N":"1"}}`, ``, `{"pk":{"S":"k5"},"sk":{"N":"1"}}`),
	rec("MODIFY", 59, `{"sk":{"N":"1"}, "pk":{"S":"k5"}}`, `{"pk":{"S":"k5"},"sk":{"N":"1"}}`, `{"pk":{"S":"k5"},"sk":{"N":"1"},"x":{"BOOL":true}}`),
	rec("MODIFY", 60, `{"pk":{"S":"k2"}}`, `{"pk":{"S":"k2"},"v":{"S":"<new>"}}`, `{"pk":{"S":"k2"},"v":{"S":"later"}}`),
}

func fillChanges(view string) func(context.Context, *layout) error {
	return func(_ context.Context, l *layout) error {
		cs := newChangeSet(windowFrom, windowTo, view)
		for _, r := range changes {
			if err := cs.add(r); err != nil {
				return err
			}
		}
		return cs.writeTo(l)
	}
}

func TestChangeSetKeepsFirstOldAndLastNew(t *testing.T) {
	cs := newChangeSet(windowFrom, windowTo, "NEW_AND_OLD_IMAGES")
	for _, r := range changes {
		if err := cs.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if len(cs.order) != 5 {
		t.Fatalf("%d keys, want 5 (k1..k5)", len(cs.order))
	}
	k1 := cs.byKey[cs.order[0]]
	if string(k1.OldImage) != `{"pk":{"S":"k1"},"v":{"N":"0"}}` || string(k1.NewImage) != `{"pk":{"S":"k1"},"v":{"N":"2.000"}}` {
		t.Errorf("k1: old %s new %s", k1.OldImage, k1.NewImage)
	}
	if got := k1.Metadata.WriteTimestampMicros.N; got != "1714989630000000" {
		t.Errorf("k1 WriteTimestampMicros %s, want the last change's (10:00:30)", got)
	}
}
