// Package checkpointtest holds a hand-written in-memory DynamoDB for tests
// of the shared state store and of the sources that use it.
package checkpointtest

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FakeDynamo is an in-memory table that evaluates the small expression
// language the store uses: conditions joined by OR and AND (no
// parentheses) of attribute_not_exists(a), begins_with(a, :v), and a = / <
// / > :v; updates "SET a = :v, b = if_not_exists(b, :v)". Calls are
// atomic, like DynamoDB's single-item writes.
type FakeDynamo struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
	fail  error // when set, every call fails with it (a cut-off node)
	stall bool  // when set, every call waits until its context ends (a black hole)
}

// NewFakeDynamo returns an empty table keyed on pk and sk.
func NewFakeDynamo() *FakeDynamo {
	return &FakeDynamo{items: map[string]map[string]types.AttributeValue{}}
}

// SetFail makes every later call fail with err (nil: succeed again), like
// a node cut off from DynamoDB.
func (f *FakeDynamo) SetFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func fkey(item map[string]types.AttributeValue) string {
	return item["pk"].(*types.AttributeValueMemberS).Value + "\x00" + item["sk"].(*types.AttributeValueMemberS).Value
}

// SetStall makes every later call wait until its context ends (false:
// answer again), like a node whose connections to DynamoDB go silent.
func (f *FakeDynamo) SetStall(stall bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stall = stall
}

func (f *FakeDynamo) check() error { return f.fail }

// wait holds a call while the table is stalled, until ctx ends.
func (f *FakeDynamo) wait(ctx context.Context) error {
	f.mu.Lock()
	stall := f.stall
	f.mu.Unlock()
	if !stall {
		return nil
	}
	<-ctx.Done()
	return fmt.Errorf("request canceled: %w", ctx.Err())
}

// GetItem implements checkpoint.DynamoAPI.
func (f *FakeDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{Item: maps.Clone(f.items[fkey(in.Key)])}, nil
}

// PutItem implements checkpoint.DynamoAPI.
func (f *FakeDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	k := fkey(in.Item)
	if in.ConditionExpression != nil && !eval(aws.ToString(in.ConditionExpression), f.items[k], in.ExpressionAttributeNames, in.ExpressionAttributeValues) {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("condition")}
	}
	f.items[k] = maps.Clone(in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

// UpdateItem implements checkpoint.DynamoAPI.
func (f *FakeDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	k := fkey(in.Key)
	cur := f.items[k]
	if in.ConditionExpression != nil && !eval(aws.ToString(in.ConditionExpression), cur, in.ExpressionAttributeNames, in.ExpressionAttributeValues) {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("condition")}
	}
	next := maps.Clone(cur)
	if next == nil {
		next = maps.Clone(in.Key)
	}
	if add, ok := strings.CutPrefix(aws.ToString(in.UpdateExpression), "ADD "); ok {
		lhs, rhs, _ := strings.Cut(add, " ")
		name := resolveName(lhs, in.ExpressionAttributeNames)
		have, by := int64(0), int64(0)
		if n, ok := next[name].(*types.AttributeValueMemberN); ok {
			have, _ = strconv.ParseInt(n.Value, 10, 64)
		}
		if n, ok := in.ExpressionAttributeValues[rhs].(*types.AttributeValueMemberN); ok {
			by, _ = strconv.ParseInt(n.Value, 10, 64)
		}
		next[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(have+by, 10)}
		f.items[k] = next
		return &dynamodb.UpdateItemOutput{}, nil
	}
	set, ok := strings.CutPrefix(aws.ToString(in.UpdateExpression), "SET ")
	if !ok {
		return nil, fmt.Errorf("fake: unsupported update %q", aws.ToString(in.UpdateExpression))
	}
	for _, a := range splitTop(set) {
		lhs, rhs, _ := strings.Cut(a, " = ")
		name := resolveName(lhs, in.ExpressionAttributeNames)
		if inner, ok := strings.CutPrefix(rhs, "if_not_exists("); ok {
			args := strings.Split(strings.TrimSuffix(inner, ")"), ", ")
			if _, has := cur[resolveName(args[0], in.ExpressionAttributeNames)]; has {
				continue
			}
			rhs = args[1]
		}
		next[name] = in.ExpressionAttributeValues[rhs]
	}
	f.items[k] = next
	return &dynamodb.UpdateItemOutput{}, nil
}

// DeleteItem implements checkpoint.DynamoAPI.
func (f *FakeDynamo) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	delete(f.items, fkey(in.Key))
	return &dynamodb.DeleteItemOutput{}, nil
}

// Query implements checkpoint.DynamoAPI.
func (f *FakeDynamo) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	var keys []string
	for k, it := range f.items {
		if eval(aws.ToString(in.KeyConditionExpression), it, in.ExpressionAttributeNames, in.ExpressionAttributeValues) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &dynamodb.QueryOutput{}
	for _, k := range keys {
		out.Items = append(out.Items, maps.Clone(f.items[k]))
	}
	return out, nil
}

// splitTop splits "a = :v, b = if_not_exists(b, :w)" at the top-level commas.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func resolveName(n string, names map[string]string) string {
	if strings.HasPrefix(n, "#") {
		return names[n]
	}
	return n
}

func eval(expr string, item map[string]types.AttributeValue, names map[string]string, vals map[string]types.AttributeValue) bool {
	for _, or := range strings.Split(expr, " OR ") {
		all := true
		for _, atom := range strings.Split(or, " AND ") {
			if !atomTrue(strings.TrimSpace(atom), item, names, vals) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func atomTrue(a string, item map[string]types.AttributeValue, names map[string]string, vals map[string]types.AttributeValue) bool {
	if inner, ok := strings.CutPrefix(a, "attribute_not_exists("); ok {
		_, has := item[resolveName(strings.TrimSuffix(inner, ")"), names)]
		return !has
	}
	if inner, ok := strings.CutPrefix(a, "begins_with("); ok {
		args := strings.Split(strings.TrimSuffix(inner, ")"), ", ")
		v, ok := item[resolveName(args[0], names)].(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(v.Value, vals[args[1]].(*types.AttributeValueMemberS).Value)
	}
	for _, op := range []string{" = ", " < ", " > "} {
		lhs, rhs, ok := strings.Cut(a, op)
		if !ok {
			continue
		}
		got, has := item[resolveName(lhs, names)]
		if !has {
			return false
		}
		c := compare(got, vals[rhs])
		switch op {
		case " = ":
			return c == 0
		case " < ":
			return c < 0
		default:
			return c > 0
		}
	}
	panic("fake: unsupported condition " + a)
}

func compare(a, b types.AttributeValue) int {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		return strings.Compare(x.Value, b.(*types.AttributeValueMemberS).Value)
	case *types.AttributeValueMemberN:
		p, _ := strconv.ParseInt(x.Value, 10, 64)
		q, _ := strconv.ParseInt(b.(*types.AttributeValueMemberN).Value, 10, 64)
		return int(p - q)
	case *types.AttributeValueMemberBOOL:
		if x.Value == b.(*types.AttributeValueMemberBOOL).Value {
			return 0
		}
		return 1
	}
	panic(fmt.Sprintf("fake: cannot compare %T", a))
}
