package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// createTable creates the bench table (pk S, no stream: the bench only
// backfills) and waits until it is ACTIVE.
func createTable(ctx context.Context, db *dynamodb.Client, table string) error {
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		return fmt.Errorf("table %s never became active: %w", table, err)
	}
	return nil
}

// item is the i-th bench item: about 200 bytes as a document, with a
// string key, numbers (integer and decimal), a boolean, a string set, a
// nested map and a list of numbers. Each field keeps one JSON type in every
// item (decimals never whole), so concurrent dynamic mapping cannot conflict.
func item(i int) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	colors := [...]string{"red", "green", "blue", "amber", "violet"}
	return map[string]types.AttributeValue{
		"pk":      s(fmt.Sprintf("item-%08d", i)),
		"name":    s("customer " + strconv.Itoa(i*7919%1_000_003)),
		"balance": n(fmt.Sprintf("%d.%02d", i%100_000, i%99+1)), // never a whole number: always mapped as float
		"visits":  n(strconv.Itoa(i % 997)),
		"active":  &types.AttributeValueMemberBOOL{Value: i%3 != 0},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"t" + strconv.Itoa(i%13), "g" + strconv.Itoa(i%29)}},
		"attrs": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"color": s(colors[i%len(colors)]),
			"size":  n(strconv.Itoa(i % 50)),
			"dims":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"w": n(strconv.Itoa(i % 640)), "h": n(strconv.Itoa(i % 480))}},
		}},
		"scores": &types.AttributeValueMemberL{Value: []types.AttributeValue{n(strconv.Itoa(i%10) + ".5"), n(strconv.Itoa(i%100) + ".25"), n("0.5")}},
		"note":   s("lorem ipsum"),
	}
}

// load writes items [0, count) with BatchWriteItem from workers goroutines,
// retrying unprocessed items, and prints progress every 30 s.
func load(ctx context.Context, db *dynamodb.Client, table string, count, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	var done atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		start := time.Now()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := done.Load()
				fmt.Printf("  load:    %d/%d items, %.0f items/s\n", n, count, float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	per := (count + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, count)
		g.Go(func() error {
			for i := lo; i < hi; i += 25 {
				reqs := make([]types.WriteRequest, 0, 25)
				for j := i; j < min(i+25, hi); j++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(j)}})
				}
				for tries := 0; len(reqs) > 0; tries++ {
					if tries > 100 {
						return errors.New("BatchWriteItem: items still unprocessed after 100 tries")
					}
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						return fmt.Errorf("BatchWriteItem items %d..: %w", i, err)
					}
					reqs = out.UnprocessedItems[table]
				}
				done.Add(int64(min(i+25, hi) - i))
			}
			return nil
		})
	}
	return g.Wait()
}
