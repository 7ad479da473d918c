package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// fakeScan splits items pk0..pkN-1 by index modulo the segment count and
// pages them by Limit, with the pk as LastEvaluatedKey.
type fakeScan struct {
	n     int
	mu    sync.Mutex
	calls int
}

func (f *fakeScan) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	seg, total, limit := int(*in.Segment), int(*in.TotalSegments), int(*in.Limit)
	start := 0
	if in.ExclusiveStartKey != nil {
		k, _ := strconv.Atoi(in.ExclusiveStartKey["pk"].(*types.AttributeValueMemberS).Value[2:])
		start = k + 1
	}
	out := &dynamodb.ScanOutput{}
	for i := start; i < f.n; i++ {
		if i%total != seg {
			continue
		}
		if len(out.Items) == limit {
			out.LastEvaluatedKey = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("pk%d", i-total)}}
			break
		}
		out.Items = append(out.Items, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("pk%d", i)}})
	}
	return out, nil
}

type sink struct {
	mu    sync.Mutex
	ids   []string
	fail  string // fail a batch containing this id
	calls int
}

func (s *sink) write(_ context.Context, evs []change.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		if ev.ID == s.fail {
			return errors.New("sink down")
		}
	}
	for _, ev := range evs {
		s.ids = append(s.ids, ev.ID)
	}
	return nil
}

func TestScanResumesPerSegment(t *testing.T) {
	store, err := checkpoint.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	table := backfill.Table{Name: "t", Key: ddbjson.Key{Partition: "pk"}, Overlap: time.Minute}
	now := func() time.Time { return time.Unix(5000, 0) }
	f := &fakeScan{n: 20}
	s1 := &sink{fail: "pk13"} // segment 1, third page
	_, err = New(f, store, table, slog.New(slog.DiscardHandler), Options{Segments: 2, PageSize: 3, Now: now}).Run(context.Background(), s1.write)
	if err == nil {
		t.Fatal("want the sink error")
	}
	s2 := &sink{}
	cutoff, err := New(f, store, table, slog.New(slog.DiscardHandler), Options{Segments: 2, PageSize: 3, Now: func() time.Time { return time.Unix(9999, 0) }}).Run(context.Background(), s2.write)
	if err != nil {
		t.Fatal(err)
	}
	if cutoff != 5000-60 {
		t.Fatalf("cutoff %d: the restart must keep the first start's time", cutoff)
	}
	all := map[string]int{}
	for _, id := range append(s1.ids, s2.ids...) {
		all[id]++
	}
	if len(all) != 20 {
		t.Fatalf("got %d distinct items", len(all))
	}
	// Segment 1 resumed after its last acknowledged page (pk7..pk11), not from the start.
	sort.Strings(s2.ids)
	for _, id := range s2.ids {
		if id == "pk1" || id == "pk3" {
			t.Fatalf("segment 1 restarted from the beginning: %v", s2.ids)
		}
	}
	meta, _, _ := store.Get(context.Background(), backfill.MetaKey("t"))
	if !meta.Done {
		t.Fatal("backfill not marked done")
	}
	_ = aws.String
}
