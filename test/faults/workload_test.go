//go:build integration

package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The generated workload: inserts, overwrites, partial updates and deletes over a key space of
// "k00000".."k<keys>", and bursts of many back-to-back changes of one key (same-second
// updates, the case where stream versions need the per-second counter), some ending in a
// delete. Every item has the same attribute types, so no document hits a mapping conflict.

func keyName(i int) string { return fmt.Sprintf("k%05d", i) }

func pkOf(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}
}

var words = []string{"alpha", "beta", "gamma", "delta", "épsilon", "ζeta", "eta 🎉", "theta \"q\"", "iota\\", "kappa\n"}

// itemFor builds a full item for key k with a pad..3×pad-byte filler; seq makes each write
// distinct.
func itemFor(rng *rand.Rand, k string, seq int64, pad int) map[string]types.AttributeValue {
	tags := []string{words[rng.IntN(len(words))]}
	if w := words[rng.IntN(len(words))]; w != tags[0] {
		tags = append(tags, w)
	}
	return map[string]types.AttributeValue{
		"pk":  &types.AttributeValueMemberS{Value: k},
		"seq": &types.AttributeValueMemberN{Value: fmt.Sprint(seq)},
		// Never integral: OpenSearch maps a field by the first value it sees, and two first bulks
		// racing with 12 and 12.5 fail with "mapper [amt] cannot be changed from type [float] to
		// [long]" (a mapping question, not a fault this suite injects).
		"amt":  &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", rng.IntN(100000), 1+rng.IntN(99))},
		"word": &types.AttributeValueMemberS{Value: words[rng.IntN(len(words))]},
		"tags": &types.AttributeValueMemberSS{Value: tags},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"n": &types.AttributeValueMemberN{Value: fmt.Sprint(rng.IntN(1000))},
			"b": &types.AttributeValueMemberB{Value: []byte{byte(seq), byte(seq >> 8), 0xff}},
		}},
		"pad": &types.AttributeValueMemberS{Value: strings.Repeat("x", pad+rng.IntN(pad*2))},
	}
}

// load writes count items k00000.. with BatchWriteItem, four batches at a time (a table for
// a backfill to read).
func (s *scenario) load(count int) {
	s.t.Helper()
	start := time.Now()
	rng := rand.New(rand.NewPCG(s.seedN, 2))
	batches := make(chan []types.WriteRequest)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reqs := range batches {
				for len(reqs) > 0 {
					out, err := s.ddb.BatchWriteItem(s.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
					if err != nil {
						errc <- fmt.Errorf("load %s: %w", s.table, err)
						for range batches { // drain
						}
						return
					}
					reqs = out.UnprocessedItems[s.table]
				}
			}
		}()
	}
	var reqs []types.WriteRequest
	for i := 0; i < count; i++ {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: itemFor(rng, keyName(i), int64(i), s.pad)}})
		if len(reqs) == 25 || i == count-1 {
			batches <- reqs
			reqs = nil
		}
	}
	close(batches)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		s.t.Fatal(err)
	}
	s.written.Add(int64(count))
	s.t.Logf("%s: loaded %d items in %s", s.name, count, time.Since(start).Round(time.Millisecond))
}

// writer is the workload running in the background.
type writer struct {
	s    *scenario
	rng  *rand.Rand
	keys int
	pace time.Duration
	seq  int64
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// startWrites runs the workload over keys keys (new ones get inserted) until stopWrites;
// pace is the pause between steps (a step is one change, or a burst of 5-15 on one key).
func (s *scenario) startWrites(keys int, pace time.Duration) *writer {
	w := &writer{s: s, rng: rand.New(rand.NewPCG(s.seedN, 3)), keys: keys, pace: pace, stop: make(chan struct{}), done: make(chan struct{}), seq: 1_000_000}
	go w.run()
	return w
}

// stopWrites stops the workload and fails the scenario if a write failed.
func (w *writer) stopWrites() {
	w.s.t.Helper()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	if w.err != nil {
		w.s.t.Fatalf("workload: %v", w.err)
	}
}

func (w *writer) run() {
	defer close(w.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		if err := w.step(); err != nil {
			w.err = err
			return
		}
		t.Reset(w.pace)
	}
}

func (w *writer) step() error {
	k := keyName(w.rng.IntN(w.keys + w.keys/5 + 1))
	switch p := w.rng.Float64(); {
	case p < 0.35:
		return w.put(k)
	case p < 0.55:
		return w.update(k)
	case p < 0.70:
		return w.del(k)
	default: // a burst of same-second changes of one key
		n := 5 + w.rng.IntN(11)
		for i := 0; i < n; i++ {
			var err error
			switch q := w.rng.Float64(); {
			case i == n-1 && q < 0.3:
				err = w.del(k)
			case q < 0.1:
				err = w.del(k)
			case q < 0.55:
				err = w.update(k)
			default:
				err = w.put(k)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

func (w *writer) put(k string) error {
	w.seq++
	item := itemFor(w.rng, k, w.seq, w.s.pad)
	return w.do("put", func() error {
		_, err := w.s.ddb.PutItem(w.s.ctx, &dynamodb.PutItemInput{TableName: aws.String(w.s.table), Item: item})
		return err
	})
}

// update changes a few attributes in place (an upsert when the item does not exist).
func (w *writer) update(k string) error {
	w.seq++
	seq, word := w.seq, words[w.rng.IntN(len(words))]
	return w.do("update", func() error {
		_, err := w.s.ddb.UpdateItem(w.s.ctx, &dynamodb.UpdateItemInput{
			TableName:        aws.String(w.s.table),
			Key:              pkOf(k),
			UpdateExpression: aws.String("SET seq = :s, word = :w ADD hits :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": &types.AttributeValueMemberN{Value: fmt.Sprint(seq)}, ":w": &types.AttributeValueMemberS{Value: word},
				":one": &types.AttributeValueMemberN{Value: "1"},
			},
		})
		return err
	})
}

func (w *writer) del(k string) error {
	return w.do("delete", func() error {
		_, err := w.s.ddb.DeleteItem(w.s.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.s.table), Key: pkOf(k)})
		return err
	})
}

// do runs one write, retrying a few times (the SDK already retries throttling); a write that
// keeps failing stops the workload.
func (w *writer) do(what string, f func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = f(); err == nil {
			w.s.written.Add(1)
			return nil
		}
		time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
	}
	return errors.Join(fmt.Errorf("%s on %s failed 5 times", what, w.s.table), err)
}

// writeFor runs the workload for d and stops it (for scenarios where ddbsync is down).
func (s *scenario) writeFor(keys int, pace, d time.Duration) {
	s.t.Helper()
	w := s.startWrites(keys, pace)
	time.Sleep(d)
	w.stopWrites()
}
