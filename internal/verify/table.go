package verify

import (
	"context"
	"errors"
	"fmt"
	"github.com/ddbsync/ddbsync/internal/processor"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// DynamoDB is the subset of the DynamoDB API verify needs;
// *dynamodb.Client implements it.
type DynamoDB interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// describeKey reads the table's key schema and the key attributes' types.
func describeKey(ctx context.Context, api DynamoDB, ref string, log *slog.Logger) (tableKey, error) {
	out, err := retry.Do(ctx, log, "describe table", func() (*dynamodb.DescribeTableOutput, error) {
		return api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(ref)})
	})
	if err != nil {
		return tableKey{}, fmt.Errorf("describe table %s: %w", ref, err)
	}
	k := tableKey{types: map[string]types.ScalarAttributeType{}}
	for _, e := range out.Table.KeySchema {
		switch e.KeyType {
		case types.KeyTypeHash:
			k.Partition = aws.ToString(e.AttributeName)
		case types.KeyTypeRange:
			k.Sort = aws.ToString(e.AttributeName)
		}
	}
	for _, d := range out.Table.AttributeDefinitions {
		k.types[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	if k.Partition == "" {
		return tableKey{}, fmt.Errorf("describe table %s: no partition key in the key schema", ref)
	}
	return k, nil
}

// converter turns an item into its document exactly as the sink would:
// the backfill converter for the body, the sink's resolver for index,
// _id and routing.
type converter struct {
	table backfill.Table
	res   *bulk.Resolver
	at    time.Time        // event time for %{date} index patterns
	proc  *processor.Chain // the pipeline's processors (nil: none)
}

// errDropped says that the pipeline's processors drop the item: it has
// no document.
var errDropped = errors.New("the pipeline's processors drop this item")

// convert returns the item's document (processed as run processes it) and
// where the sink writes it; errDropped when the processors drop it.
func (c converter) convert(item map[string]types.AttributeValue, version int64) (bulk.Item, error) {
	ev, err := c.table.Event(item, c.at)
	if err != nil {
		return bulk.Item{}, err
	}
	ev.Version = version
	dropped, err := c.proc.Apply(&ev)
	switch {
	case err != nil:
		return bulk.Item{}, fmt.Errorf("table %s item %q: %w (run dead-letters it)", ev.Table, ev.ID, err)
	case dropped:
		return bulk.Item{}, errDropped
	}
	return c.res.Resolve(&ev)
}

// scanned is the outcome of a table scan.
type scanned struct {
	items      int
	unresolved []*candidate                               // items the sink could not place (bad index template value, ...)
	keys       map[DocKey]map[string]types.AttributeValue // keys whose _id does not invert
	// indices are the index names items resolved to; the map also interns
	// the names, so millions of DocKeys share a few strings.
	indices map[string]bool
	names   map[string]string
}

// keyFor is the primary key of the item scanned as dk: its _id inverted,
// or the key kept aside when the _id does not invert to it.
func (s *scanned) keyFor(k tableKey, dk DocKey) map[string]types.AttributeValue {
	if key, ok := s.keys[dk]; ok {
		return key
	}
	key, _ := k.fromID(dk.ID)
	return key
}

// scanTable reads every item with a consistent parallel Scan and records
// each item's document fingerprint in cmp.
func scanTable(ctx context.Context, api DynamoDB, ref string, k tableKey, conv converter, cmp *comparer,
	segments, pageSize int, byID bool, progress func(n int), log *slog.Logger) (*scanned, error) {
	var mu sync.Mutex
	out := &scanned{keys: map[DocKey]map[string]types.AttributeValue{}, indices: map[string]bool{}, names: map[string]string{}}
	g, gctx := errgroup.WithContext(ctx)
	for seg := 0; seg < segments; seg++ {
		g.Go(func() error {
			var start map[string]types.AttributeValue
			for {
				in := &dynamodb.ScanInput{
					TableName: aws.String(ref), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments)),
					Limit: aws.Int32(int32(pageSize)), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
				}
				page, err := retry.Do(gctx, log, "scan", func() (*dynamodb.ScanOutput, error) { return api.Scan(gctx, in) })
				if err != nil {
					return fmt.Errorf("scan table %s segment %d: %w", ref, seg, err)
				}
				mu.Lock()
				err = out.add(page.Items, k, conv, cmp, byID)
				mu.Unlock()
				if err != nil {
					return fmt.Errorf("scan table %s segment %d: %w", ref, seg, err)
				}
				progress(len(page.Items))
				if len(page.LastEvaluatedKey) == 0 {
					return nil
				}
				start = page.LastEvaluatedKey
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// add records one page of items; the caller holds the lock.
func (s *scanned) add(items []map[string]types.AttributeValue, k tableKey, conv converter, cmp *comparer, byID bool) error {
	for _, item := range items {
		s.items++
		it, err := conv.convert(item, 0)
		if errors.Is(err, errDropped) {
			continue
		}
		if err != nil {
			ids, kerr := k.KeyIDs(item)
			if kerr != nil {
				return kerr // an item without its key: DynamoDB never returns one
			}
			s.unresolved = append(s.unresolved, &candidate{
				key: DocKey{ID: ids.ID}, first: state{hasItem: true}, itemKey: k.keyOf(item),
				reason: "the sink cannot place this item: " + err.Error(),
			})
			continue
		}
		name, ok := s.names[it.Index]
		if !ok {
			name = it.Index
			s.names[name], s.indices[name] = name, true
		}
		dk := DocKey{Index: name, ID: it.ID}
		if byID {
			dk.Index = ""
		}
		if !cmp.addItem(dk, FingerprintOf(it.Event.Doc)) {
			s.unresolved = append(s.unresolved, &candidate{
				key: dk, first: state{hasItem: true}, itemKey: k.keyOf(item),
				reason: "another item has the same index and _id (check document_id)",
			})
			continue
		}
		if inv, ok := k.fromID(it.ID); !ok || !k.sameKey(inv, item) {
			s.keys[dk] = k.keyOf(item)
		}
	}
	return nil
}

// getItem re-reads one item with a consistent read; nil when it is gone.
func getItem(ctx context.Context, api DynamoDB, ref string, key map[string]types.AttributeValue, log *slog.Logger) (map[string]types.AttributeValue, error) {
	out, err := retry.Do(ctx, log, "get item", func() (*dynamodb.GetItemOutput, error) {
		return api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ref), Key: key, ConsistentRead: aws.Bool(true)})
	})
	if err != nil {
		return nil, fmt.Errorf("get item of table %s: %w", ref, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}
