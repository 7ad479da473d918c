// Command stream is the stream latency benchmark (make bench-stream): it
// writes new items at a steady rate, measures for each the time from
// PutItem returning to the document being readable with a realtime
// multi-get, and prints p50/p95/p99 plus ddbsync's resident memory.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func main() {
	rate := flag.Int("rate", 200, "writes per second")
	dur := flag.Duration("duration", 60*time.Second, "how long to write")
	bin := flag.String("bin", "bin/ddbsync", "ddbsync binary")
	flag.Parse()
	if err := run(*rate, *dur, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench-stream:", err)
		os.Exit(1)
	}
}

func run(rate int, dur time.Duration, bin string) error {
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg)
	osURL := os.Getenv("OPENSEARCH_URL")
	table := fmt.Sprintf("bench-stream-%d", time.Now().Unix())
	index := table
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ddbsync-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pipeline := fmt.Sprintf(`e2e:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/%s"
          stream: {start_position: TRIM_HORIZON}
  sink:
    - opensearch:
        hosts: ["%s"]
        index: "%s"
`, table, osURL, index)
	pf := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(pf, []byte(pipeline), 0o644); err != nil {
		return err
	}
	logf, _ := os.Create(filepath.Join(dir, "ddbsync.log"))
	cmd := exec.Command(bin, "run", "-f", pf, "--state-dir", filepath.Join(dir, "state"), "--metrics-addr", "")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()

	// Warm up: one document through the whole path.
	put(ctx, db, table, "warmup")
	for !exists(osURL, index, []string{"warmup"})["warmup"] {
		time.Sleep(50 * time.Millisecond)
	}

	var mu sync.Mutex
	pending := map[string]time.Time{}
	var lat []time.Duration
	done := make(chan struct{})
	go func() { // the checker: realtime _mget of everything pending
		defer close(done)
		for {
			mu.Lock()
			ids := make([]string, 0, len(pending))
			for id := range pending {
				ids = append(ids, id)
			}
			mu.Unlock()
			if len(ids) > 0 {
				found := exists(osURL, index, ids)
				now := time.Now()
				mu.Lock()
				for id := range found {
					lat = append(lat, now.Sub(pending[id]))
					delete(pending, id)
				}
				mu.Unlock()
			} else if writingDone.Load() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var rssPeak int64
	tick := time.NewTicker(time.Second / time.Duration(rate))
	end := time.Now().Add(dur)
	// Writers run concurrently so that a slow PutItem does not lower the
	// rate; latency counts from each PutItem's return.
	sem := make(chan struct{}, 16)
	var writers sync.WaitGroup
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		id := "w" + strconv.Itoa(i)
		sem <- struct{}{}
		writers.Add(1)
		go func() {
			defer func() { <-sem; writers.Done() }()
			put(ctx, db, table, id)
			mu.Lock()
			pending[id] = time.Now()
			mu.Unlock()
		}()
		if i%rate == 0 {
			rssPeak = max(rssPeak, rss(cmd.Process.Pid, "VmRSS"))
		}
	}
	tick.Stop()
	writers.Wait()
	writingDone.Store(true)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%d documents never arrived", len(pending))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	hwm := rss(cmd.Process.Pid, "VmHWM")
	fmt.Printf("bench-stream: %d writes at %d/s for %s (DynamoDB Local → ddbsync → OpenSearch, realtime GET)\n", len(lat), rate, dur)
	fmt.Printf("  latency p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50), pct(0.95), pct(0.99), lat[len(lat)-1].Round(time.Millisecond))
	fmt.Printf("  ddbsync RSS sampled max %.1f MiB, peak (VmHWM) %.1f MiB\n", float64(rssPeak)/1024, float64(hwm)/1024)
	fmt.Printf("  vs targets: p99/1s = %.2f, peak RSS/64MiB = %.2f; OpenSearch Ingestion's ~7 s per change / p99 = %.1fx\n",
		pct(0.99).Seconds(), float64(hwm)/1024/64, 7/max(pct(0.99).Seconds(), 0.001))
	return nil
}

var writingDone atomicBool

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) Store(v bool) { b.mu.Lock(); b.v = v; b.mu.Unlock() }
func (b *atomicBool) Load() bool   { b.mu.Lock(); defer b.mu.Unlock(); return b.v }

func put(ctx context.Context, db *dynamodb.Client, table, id string) {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: id}, "payload": &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)},
		}})
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond) // DynamoDB Local's lock timeouts under load
	}
	fmt.Fprintln(os.Stderr, "put:", err)
	os.Exit(1)
}

// exists returns which ids are readable now (realtime multi-get).
func exists(base, index string, ids []string) map[string]bool {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	resp, err := http.Post(base+"/"+index+"/_mget?_source=false", "application/json", bytes.NewReader(body))
	out := map[string]bool{}
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Docs []struct {
			ID    string `json:"_id"`
			Found bool   `json:"found"`
		} `json:"docs"`
	}
	_ = json.Unmarshal(b, &r)
	for _, d := range r.Docs {
		if d.Found {
			out[d.ID] = true
		}
	}
	return out
}

// rss reads a /proc/<pid>/status field in KiB.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	return 0
}
