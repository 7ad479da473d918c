// Package workload is the hostile workload the end-to-end suites run
// against a table (STYLE.md habit 12): deterministic from a seed, written
// by concurrent writers, with every DynamoDB type at its edges, numbers
// that are integral in one writer and fractional in another on a fresh
// index (so first mappings race), keys with separators, a key longer than
// the _id limit and a key equal to its hashed _id, hot keys changed many
// times within a second, deletes and re-inserts, and optionally the
// attributes a sink's ${/pointer} document_id / routing / index read,
// changing under updates. It is never shaped to avoid a product failure.
package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// API is the part of the DynamoDB client the workload writes with.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Config shapes a workload. The zero value of each field takes the default.
type Config struct {
	Seed    uint64        // every random choice derives from it (printed by the suites)
	Writers int           // concurrent writers (default 4)
	Keys    int           // ordinary key space (default 500); writes also insert up to Keys/5 more
	Pace    time.Duration // pause between two steps of one writer (default 10 ms)
	Steps   int           // steps per writer for Run (0: until stopped)
	Pad     int           // items carry a Pad..3×Pad-byte filler (default 50)
	// Depth is how deep the "deep" map nests on ordinary items (default 8);
	// one special item always nests to DynamoDB's limit of 32 levels.
	Depth int
	// Changing adds the attributes "route", "docid" and "bucket" and changes
	// them on updates: for sinks whose routing, document_id or index read
	// them with ${/route}, ${/docid}, ${/bucket}.
	Changing bool
}

func (c Config) withDefaults() Config {
	if c.Writers <= 0 {
		c.Writers = 4
	}
	if c.Keys <= 0 {
		c.Keys = 500
	}
	if c.Pace <= 0 {
		c.Pace = 10 * time.Millisecond
	}
	if c.Pad == 0 {
		c.Pad = 50
	}
	if c.Depth <= 0 {
		c.Depth = 8
	}
	return c
}

// MaxDepth is DynamoDB's nesting limit for documents (maps and lists).
const MaxDepth = 32

// hotKeys is how many ordinary keys every writer hammers in bursts.
const hotKeys = 3

// Workload writes to one table.
type Workload struct {
	api     API
	table   string
	schema  KeySchema
	cfg     Config
	special []Key
	written atomic.Int64
	round   atomic.Int64 // Start calls, so each run draws fresh values
}

// New returns a workload for table, whose primary key is schema.
func New(api API, table string, schema KeySchema, cfg Config) *Workload {
	return &Workload{api: api, table: table, schema: schema, cfg: cfg.withDefaults(), special: schema.Special()}
}

// Config is the workload's configuration with defaults applied.
func (w *Workload) Config() Config { return w.cfg }

// Written counts the changes applied to the table so far.
func (w *Workload) Written() int64 { return w.written.Load() }

// SpecialKeys are the hostile keys the workload writes (see KeySchema.Special).
func (w *Workload) SpecialKeys() []Key { return w.special }

// Item builds a full item for key k: every attribute type, with numbers
// integral (integral 1), fractional (0) or either (-1) in "amt" and
// "m.amt". seq makes each write distinct.
func (w *Workload) Item(rng *rand.Rand, k Key, seq int64, integral int) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"seq":  nv(fmt.Sprint(seq)),
		"amt":  nv(numberFor(rng, integral)),
		"n":    nv(pick(rng, ExtremeNumbers())),
		"s":    sv(pick(rng, Strings())),
		"b":    bv(pick(rng, Binaries())),
		"t":    &types.AttributeValueMemberBOOL{Value: rng.IntN(2) == 0},
		"nul":  &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: stringSet(rng)},
		"ns":   &types.AttributeValueMemberNS{Value: numberSet(rng)},
		"bs":   &types.AttributeValueMemberBS{Value: binarySet(rng)},
		"l":    mixedList(rng),
		"lm":   mapList(rng),
		"deep": deepMap(rng, 1+rng.IntN(w.cfg.Depth)),
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"amt": nv(numberFor(rng, integral)),
			"big": nv(pick(rng, ExtremeNumbers())),
			"l":   &types.AttributeValueMemberL{Value: []types.AttributeValue{nv(pick(rng, ExtremeNumbers())), nv(numberFor(rng, integral))}},
			"m":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ns": &types.AttributeValueMemberNS{Value: numberSet(rng)}}},
			"e":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			"el":  &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		}},
	}
	if w.cfg.Pad > 0 {
		item["pad"] = sv(filler(rng, w.cfg.Pad))
	}
	if w.cfg.Changing {
		w.setChanging(rng, item, k)
	}
	for name, av := range k.Attrs {
		item[name] = av
	}
	return item
}

// setChanging sets the attributes ${/pointer} expressions read. docid
// stays unique per item (it embeds the key) but changes generation.
func (w *Workload) setChanging(rng *rand.Rand, item map[string]types.AttributeValue, k Key) {
	item["route"] = sv(fmt.Sprintf("r%d", rng.IntN(5)))
	item["docid"] = sv(fmt.Sprintf("%s~g%d", sha256Key(k.Natural)[7:23], rng.IntN(3)))
	item["bucket"] = sv(fmt.Sprintf("b%d", rng.IntN(2)))
}

// deepest is the special item that nests maps and lists to DynamoDB's
// limit: legal, and deeper than OpenSearch's default mapping depth.
func (w *Workload) deepest(rng *rand.Rand, k Key, seq int64) map[string]types.AttributeValue {
	item := w.Item(rng, k, seq, -1)
	item["deep"] = deepMap(rng, MaxDepth-1) // the item itself is not a level
	return item
}

// Load writes count ordinary items and every special key with
// BatchWriteItem, Writers batches at a time (a table for a backfill to
// read). Odd batches carry integral numbers and even ones fractional, so a
// parallel backfill races on first mappings too.
func (w *Workload) Load(ctx context.Context, count int) error {
	rng := rand.New(rand.NewPCG(w.cfg.Seed, 2))
	var items []map[string]types.AttributeValue
	for i := 0; i < count; i++ {
		items = append(items, w.Item(rng, w.schema.Ordinary(i), int64(i), (i/25)%2))
	}
	for i, k := range w.special {
		if i == 0 {
			items = append(items, w.deepest(rng, k, int64(count+i)))
			continue
		}
		items = append(items, w.Item(rng, k, int64(count+i), i%2))
	}
	batches := make(chan []types.WriteRequest)
	g, gctx := errgroup.WithContext(ctx)
	for range w.cfg.Writers {
		g.Go(func() error {
			ctx := gctx
			for reqs := range batches {
				if err := w.batch(ctx, reqs); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var reqs []types.WriteRequest
feed:
	for i, item := range items {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(reqs) == 25 || i == len(items)-1 {
			select {
			case batches <- reqs:
			case <-gctx.Done():
				break feed
			}
			reqs = nil
		}
	}
	close(batches)
	return g.Wait()
}

func (w *Workload) batch(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		out, err := w.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{w.table: reqs}})
		if err != nil {
			if attempt == 5 || ctx.Err() != nil {
				return fmt.Errorf("batch write %s: %w", w.table, err)
			}
			if err := retry.Sleep(ctx, time.Duration(200*(attempt+1))*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		w.written.Add(int64(len(reqs) - len(out.UnprocessedItems[w.table])))
		reqs = out.UnprocessedItems[w.table]
	}
	return nil
}

// Running is a workload writing in the background.
type Running struct {
	cancel context.CancelFunc
	g      *errgroup.Group
	once   sync.Once
	err    error
}

// Start runs Writers concurrent writers until Stop (or Steps steps each).
// They begin together, right after the start, with the first-mapping race:
// even writers write integral numbers and odd writers fractional ones into
// the same attributes, and the special keys are spread over the writers.
func (w *Workload) Start(ctx context.Context) *Running {
	ctx, cancel := context.WithCancel(ctx)
	round := uint64(w.round.Add(1))
	g, gctx := errgroup.WithContext(ctx)
	r := &Running{cancel: cancel, g: g}
	barrier := make(chan struct{})
	for i := range w.cfg.Writers {
		wr := &writer{w: w, id: i, rng: rand.New(rand.NewPCG(w.cfg.Seed, round<<16|uint64(i)+3)), seq: int64(round)<<40 | int64(i)<<32}
		g.Go(func() error {
			select {
			case <-barrier:
			case <-gctx.Done():
				return nil
			}
			return wr.run(gctx)
		})
	}
	close(barrier)
	return r
}

// Wait waits for the writers to finish their Steps (or fail).
func (r *Running) Wait() error {
	r.once.Do(func() { r.err = r.g.Wait(); r.cancel() })
	return r.err
}

// Stop stops the writers and returns the first write that failed.
func (r *Running) Stop() error {
	r.cancel()
	return r.Wait()
}

// RunFor runs the workload for d and stops it.
func (w *Workload) RunFor(ctx context.Context, d time.Duration) error {
	r := w.Start(ctx)
	_ = retry.Sleep(ctx, d)
	return r.Stop()
}

// Run runs Steps steps per writer (Steps must be set) and waits.
func (w *Workload) Run(ctx context.Context) error {
	if w.cfg.Steps <= 0 {
		return errors.New("workload: Run needs Config.Steps")
	}
	return w.Start(ctx).Wait()
}

// put, update and del are one change each, retried a few times (the SDK
// already retries throttling); a change that keeps failing stops the
// workload. A cancelled context ends them without error.
func (w *Workload) do(ctx context.Context, what string, f func(ctx context.Context) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if ctx.Err() != nil {
			return nil
		}
		// A request in flight is not cancelled by Stop: a cancelled request
		// may still be applied by the server after Stop returned, and a test
		// that changes the table's stream right after Stop must know that
		// every write happened before.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = f(rctx)
		cancel()
		if err == nil {
			w.written.Add(1)
			return nil
		}
		if retry.Sleep(ctx, time.Duration(200*(attempt+1))*time.Millisecond) != nil {
			return nil
		}
	}
	return fmt.Errorf("%s on %s failed 5 times: %w", what, w.table, err)
}

// Put writes item.
func (w *Workload) Put(ctx context.Context, item map[string]types.AttributeValue) error {
	return w.do(ctx, "put", func(ctx context.Context) error {
		_, err := w.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.table), Item: item})
		return err
	})
}

// Delete deletes the item with key k.
func (w *Workload) Delete(ctx context.Context, k Key) error {
	return w.do(ctx, "delete", func(ctx context.Context) error {
		_, err := w.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.table), Key: k.Attrs})
		return err
	})
}

// update changes attributes in place (an upsert when the item is gone):
// a number that is integral or fractional, an extreme number set or
// removed, a counter, and with Changing the pointer attributes.
func (w *Workload) update(ctx context.Context, rng *rand.Rand, k Key, seq int64) error {
	names := map[string]string{"#seq": "seq", "#amt": "amt", "#s": "s", "#hits": "hits"}
	values := map[string]types.AttributeValue{
		":seq": nv(fmt.Sprint(seq)), ":amt": nv(numberFor(rng, -1)), ":s": sv(pick(rng, Strings())), ":one": nv("1"),
	}
	set := []string{"#seq = :seq", "#amt = :amt", "#s = :s"}
	var remove []string
	switch rng.IntN(3) {
	case 0:
		names["#n"] = "n"
		remove = append(remove, "#n")
	case 1:
		names["#n"], values[":n"] = "n", nv(pick(rng, ExtremeNumbers()))
		set = append(set, "#n = :n")
	}
	if w.cfg.Changing {
		item := map[string]types.AttributeValue{}
		w.setChanging(rng, item, k)
		for _, a := range []string{"route", "docid", "bucket"} {
			names["#"+a], values[":"+a] = a, item[a]
			set = append(set, "#"+a+" = :"+a)
		}
	}
	expr := "SET " + strings.Join(set, ", ") + " ADD #hits :one"
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return w.do(ctx, "update", func(ctx context.Context) error {
		_, err := w.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(w.table), Key: k.Attrs, UpdateExpression: aws.String(expr),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
		return err
	})
}
