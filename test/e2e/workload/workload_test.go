package workload

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// recorder is a fake API that records every change as text.
type recorder struct {
	mu  sync.Mutex
	log []string
	typ map[string]bool // attribute value types seen, at any depth
}

func (r *recorder) add(op string, item map[string]types.AttributeValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := ddbjson.Item(item)
	if err != nil {
		panic(err)
	}
	r.log = append(r.log, op+" "+string(b))
	if r.typ == nil {
		r.typ = map[string]bool{}
	}
	for _, av := range item {
		r.walk(av)
	}
}

func (r *recorder) walk(av types.AttributeValue) {
	r.typ[fmt.Sprintf("%T", av)] = true
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		for _, x := range v.Value {
			r.walk(x)
		}
	case *types.AttributeValueMemberL:
		for _, x := range v.Value {
			r.walk(x)
		}
	}
}

func (r *recorder) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.add("put", in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (r *recorder) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.add("update "+*in.UpdateExpression, in.Key)
	return &dynamodb.UpdateItemOutput{}, nil
}

func (r *recorder) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.add("delete", in.Key)
	return &dynamodb.DeleteItemOutput{}, nil
}

func (r *recorder) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for _, reqs := range in.RequestItems {
		for _, q := range reqs {
			r.add("batch", q.PutRequest.Item)
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

var schemas = map[string]KeySchema{
	"S":   {Partition: "pk", PartitionType: types.ScalarAttributeTypeS},
	"S-S": {Partition: "pk", PartitionType: types.ScalarAttributeTypeS, Sort: "sk", SortType: types.ScalarAttributeTypeS},
	"N":   {Partition: "pk", PartitionType: types.ScalarAttributeTypeN},
	"B-N": {Partition: "pk", PartitionType: types.ScalarAttributeTypeB, Sort: "sk", SortType: types.ScalarAttributeTypeN},
	"N-B": {Partition: "pk", PartitionType: types.ScalarAttributeTypeN, Sort: "sk", SortType: types.ScalarAttributeTypeB},
}

// TestDeterministic: one writer with a seed writes the same changes every time.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []string {
		r := &recorder{}
		w := New(r, "t", schemas["S-S"], Config{Seed: seed, Writers: 1, Steps: 50, Pace: 1, Changing: true})
		if err := w.Load(t.Context(), 30); err != nil {
			t.Fatal(err)
		}
		if err := w.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		return r.log
	}
	a, b, c := run(7), run(7), run(8)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatal("same seed, different writes")
	}
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Fatal("different seeds, same writes")
	}
}

// TestEveryTypeAndEdge: the workload writes every attribute type, the
// extreme numbers, and integral and fractional values of one attribute.
func TestEveryTypeAndEdge(t *testing.T) {
	r := &recorder{}
	w := New(r, "t", schemas["S"], Config{Seed: 1, Steps: 40, Pace: 1})
	if err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"} {
		if !r.typ["*types.AttributeValueMember"+typ] {
			t.Errorf("no %s value written", typ)
		}
	}
	all := strings.Join(r.log, "\n")
	for _, v := range ExtremeNumbers() {
		n, _ := ddbjson.Number(v)
		if !strings.Contains(all, n) {
			t.Errorf("extreme number %s never written", v)
		}
	}
	if !strings.Contains(all, `"amt":1`) && !strings.Contains(all, `"amt":2`) {
		t.Error("no integral amt")
	}
}

// TestSpecialKeys: the separator pairs collide under pk|sk, the long key
// exceeds the _id limit, and the sha256 key equals the long key's hashed
// _id; every key fits DynamoDB's key size limits.
func TestSpecialKeys(t *testing.T) {
	for name, ks := range schemas {
		t.Run(name, func(t *testing.T) {
			keys := ks.Special()
			naturals := map[string]int{}
			var long *Key
			for i, k := range keys {
				naturals[k.Natural]++
				if k.Label == "long" {
					long = &keys[i]
				}
				for a, av := range k.Attrs {
					limit := 2048
					if a == ks.Sort {
						limit = 1024
					}
					switch v := av.(type) {
					case *types.AttributeValueMemberS:
						if len(v.Value) == 0 || len(v.Value) > limit {
							t.Errorf("key %s: %s has %d bytes", k.Label, a, len(v.Value))
						}
					case *types.AttributeValueMemberB:
						if len(v.Value) == 0 || len(v.Value) > limit {
							t.Errorf("key %s: %s has %d bytes", k.Label, a, len(v.Value))
						}
					}
				}
			}
			if name == "N" { // a number key has at most 38 digits: no long key possible
				if long != nil {
					t.Fatalf("long key on a number-only schema: %q", long.Natural)
				}
				return
			}
			if long == nil || len(long.Natural) <= ddbjson.MaxIDBytes {
				t.Fatalf("no key longer than %d bytes", ddbjson.MaxIDBytes)
			}
			if name == "S" || name == "S-S" {
				found := false
				for _, k := range keys {
					found = found || k.Label == "sha256" && strings.Contains(k.Natural, ddbjson.HashID(long.Natural))
				}
				if !found {
					t.Error("no key equal to the long key's hashed _id")
				}
			}
			if name == "S-S" && naturals["a|b|c"] != 2 {
				t.Errorf("(a|b,c) and (a,b|c) do not both appear: %v", naturals)
			}
		})
	}
}
