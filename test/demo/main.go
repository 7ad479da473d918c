// Command demo drives `make demo`: it creates the demo table (with a
// stream), writes a few items, then changes one item per second and prints
// what OpenSearch holds, until interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const table = "ddbsync-demo"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg)
	if len(os.Args) > 1 && os.Args[1] == "create" {
		return create(ctx, db)
	}
	osURL := os.Getenv("OPENSEARCH_URL")
	for i := 1; ctx.Err() == nil; i++ {
		pk := fmt.Sprintf("user#%d", i%5)
		item := map[string]types.AttributeValue{
			"pk":      &types.AttributeValueMemberS{Value: pk},
			"visits":  &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
			"updated": &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339)},
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			return err
		}
		written := time.Now()
		// Wait (up to 5 s) until OpenSearch shows this write.
		var n int
		var doc string
		for time.Since(written) < 5*time.Second {
			if n, doc = search(ctx, osURL, pk); strings.Contains(doc, fmt.Sprintf(`"visits":%d`, i)) {
				break
			}
			if !sleep(ctx, 20*time.Millisecond) {
				return nil
			}
		}
		fmt.Printf("%s  put %s visits=%d  →  OpenSearch (%d docs) after %4dms: %s\n",
			time.Now().Format("15:04:05"), pk, i, n, time.Since(written).Milliseconds(), doc)
		if !sleep(ctx, time.Until(written.Add(time.Second))) {
			return nil
		}
	}
	return nil
}

func create(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		fmt.Println("demo table exists")
		return nil
	}
	if err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk":    &types.AttributeValueMemberS{Value: fmt.Sprintf("user#%d", i)},
			"name":  &types.AttributeValueMemberS{Value: fmt.Sprintf("User %d", i)},
			"tags":  &types.AttributeValueMemberSS{Value: []string{"demo", "sample"}},
			"score": &types.AttributeValueMemberN{Value: "12345678901234567890.5"},
		}})
		if err != nil {
			return err
		}
	}
	fmt.Println("created demo table with 5 items")
	return nil
}

// search returns the document count and one document's source.
func search(ctx context.Context, base, id string) (int, string) {
	var count struct{ Count int }
	get(ctx, base+"/"+table+"/_count", &count)
	var doc struct {
		Source json.RawMessage `json:"_source"`
		Found  bool            `json:"found"`
	}
	get(ctx, base+"/"+table+"/_doc/"+url.PathEscape(id), &doc)
	if !doc.Found {
		return count.Count, "(not yet)"
	}
	return count.Count, string(doc.Source)
}

func get(ctx context.Context, url string, into any) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, into)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
