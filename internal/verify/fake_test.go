package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// fakeTable is a one-table DynamoDB with a string partition key "pk".
type fakeTable struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
	// onGet runs before each GetItem (to change the table in flight).
	onGet func(pk string)
}

func newFakeTable(items ...map[string]types.AttributeValue) *fakeTable {
	f := &fakeTable{items: map[string]map[string]types.AttributeValue{}}
	for _, it := range items {
		f.put(it)
	}
	return f
}

func (f *fakeTable) put(item map[string]types.AttributeValue) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[item["pk"].(*types.AttributeValueMemberS).Value] = item
}

func (f *fakeTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
	}}, nil
}

func (f *fakeTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &dynamodb.ScanOutput{}
	if aws.ToInt32(in.Segment) != 0 {
		return out, nil
	}
	keys := make([]string, 0, len(f.items))
	for k := range f.items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Items = append(out.Items, f.items[k])
	}
	return out, nil
}

func (f *fakeTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	pk := in.Key["pk"].(*types.AttributeValueMemberS).Value
	if f.onGet != nil {
		f.onGet(pk)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &dynamodb.GetItemOutput{Item: f.items[pk]}, nil
}

type fakeDoc struct {
	src     string
	version int64
}

// fakeIndex is an OpenSearch index with external versioning.
type fakeIndex struct {
	mu   sync.Mutex
	docs map[DocKey]fakeDoc
	// onGet runs before each _mget.
	onGet func()
	// tombstones, when not nil, keeps the version of deleted documents
	// (OpenSearch does for index.gc_deletes): a write must outrank it.
	tombstones map[DocKey]int64
}

func (x *fakeIndex) set(index, id, src string, version int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.docs == nil {
		x.docs = map[DocKey]fakeDoc{}
	}
	x.docs[DocKey{index, id}] = fakeDoc{src, version}
}

func (x *fakeIndex) doc(index, id string) (fakeDoc, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	d, ok := x.docs[DocKey{index, id}]
	return d, ok
}

func (x *fakeIndex) Refresh(context.Context, []string) {}

func (x *fakeIndex) Read(_ context.Context, _ []string, fn func(Hit) error) error {
	x.mu.Lock()
	keys := make([]DocKey, 0, len(x.docs))
	for k := range x.docs {
		keys = append(keys, k)
	}
	sortKeys(keys)
	hits := make([]Hit, len(keys))
	for i, k := range keys {
		d := x.docs[k]
		hits[i] = Hit{Index: k.Index, ID: k.ID, Version: d.version, Source: json.RawMessage(d.src)}
	}
	x.mu.Unlock()
	for _, h := range hits {
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

func (x *fakeIndex) Get(_ context.Context, reqs []GetRequest) ([]Hit, error) {
	if x.onGet != nil {
		x.onGet()
	}
	out := make([]Hit, len(reqs))
	for i, r := range reqs {
		out[i] = Hit{Index: r.Index, ID: r.ID}
		if d, ok := x.doc(r.Index, r.ID); ok {
			out[i].Found, out[i].Version, out[i].Source = true, d.version, json.RawMessage(d.src)
		}
	}
	return out, nil
}

// WriteItems applies items like OpenSearch under external versions and
// reports them as the sink's write path would.
func (x *fakeIndex) WriteItems(_ context.Context, _ string, items []bulk.Item, _ sinkos.ItemOptions) ([]sinkos.ItemResult, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.docs == nil {
		x.docs = map[DocKey]fakeDoc{}
	}
	out := make([]sinkos.ItemResult, len(items))
	for i, it := range items {
		k := DocKey{it.Index, it.ID}
		cur, exists := x.docs[k]
		curV, known := cur.version, exists
		if tv := x.tombstones[k]; !exists && tv > 0 {
			curV, known = tv, true
		}
		switch {
		case it.VersionType != bulk.VersionExternal:
			out[i] = sinkos.ItemResult{Outcome: sinkos.ItemFailed, Status: http.StatusBadRequest, Type: "not external"}
		case known && it.Version <= curV:
			out[i] = sinkos.ItemResult{Outcome: sinkos.ItemSuperseded, Status: http.StatusConflict, Type: "version_conflict_engine_exception"}
		case it.Action == bulk.ActionDelete && !exists:
			x.tomb(k, it.Version)
			out[i] = sinkos.ItemResult{Outcome: sinkos.ItemGone, Status: http.StatusNotFound}
		case it.Action == bulk.ActionDelete:
			delete(x.docs, k)
			x.tomb(k, it.Version)
			out[i] = sinkos.ItemResult{Outcome: sinkos.ItemApplied, Status: http.StatusOK}
		default:
			x.docs[k] = fakeDoc{string(it.Event.Doc), it.Version}
			delete(x.tombstones, k)
			out[i] = sinkos.ItemResult{Outcome: sinkos.ItemApplied, Status: http.StatusCreated}
		}
	}
	return out, nil
}

// tomb remembers a deleted document's version when tombstones are kept.
func (x *fakeIndex) tomb(k DocKey, v int64) {
	if x.tombstones != nil {
		x.tombstones[k] = v
	}
}
