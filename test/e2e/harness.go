//go:build integration

package e2e

import (
	"context"
	"fmt"
	"github.com/ddbsync/ddbsync/internal/processor"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// Options shape a Harness; zero values take the defaults.
type Options struct {
	// Table is the table name ("" = "<Prefix>-<Name>-<hex>").
	Table, Prefix, Name string
	// Schema is the primary key (default pk of type S, no sort key).
	Schema workload.KeySchema
	// View is the stream view (default NEW_AND_OLD_IMAGES; "none" = no stream).
	View types.StreamViewType
	// NS is the DynamoDB Local namespace (default FreshNamespace).
	NS Namespace
	// Dir holds pipeline, state and logs ("" = a new temporary directory,
	// removed unless the test failed or E2E_KEEP is set).
	Dir string
	// OpenSearch is the search server's base URL ("" = $OPENSEARCH_URL,
	// the stack's; the compatibility suite points it at another server).
	OpenSearch string
}

// Harness is one scenario: a table in a namespace of its own, an index
// with no user mapping, a directory, and the ddbsync runs replicating them.
type Harness struct {
	TB  testing.TB
	Ctx context.Context
	// DDB talks to DynamoDB Local directly, Emu through the export emulator.
	DDB, Emu   *dynamodb.Client
	OpenSearch string // base URL
	NS         Namespace
	Table      string
	Index      string // name or pattern the comparison scrolls
	Schema     workload.KeySchema
	Key        ddbjson.Key
	Dir        string
	// PipelinePath is the pipeline Start runs (WritePipeline sets it).
	PipelinePath string
	// ExtraArgs are appended to run's command line (e.g. --until-caught-up).
	ExtraArgs []string
	// MetricsAddr is passed to --metrics-addr ("" = no server; see EnableMetrics).
	MetricsAddr string
	// ExtraEnv is added to ddbsync's environment.
	ExtraEnv []string
	// Container, when set, makes Start run the binary as an image would.
	Container *Container
	// Place says where each item's document must be (default: by key).
	Place Placer
	// Processing is the pipeline's processor chain (WritePipeline loads it
	// from the pipeline it writes): the comparison expects every item as
	// the chain processes it, and no document for an item it drops.
	Processing *processor.Chain
	// SameSource decides whether a document's _source matches its item's
	// converted document (nil: byte for byte, as ddbsync writes it). An
	// ingest pipeline re-serializes _source (key order, number spelling), so
	// a scenario behind one compares with SameJSON.
	SameSource func(got, want string) bool
	// Seed seeds the scenario's workload: $E2E_SEED (or the suite's) mixed
	// with the test name; logged, so a run can be repeated.
	Seed uint64

	mu       sync.Mutex
	proc     *Process
	runs     int
	nodes    []*Process // StartNode's processes
	nodeRuns int
	owned    bool                // Dir was created here
	writing  []*workload.Running // background workloads, stopped by the cleanup
	made     atomic.Uint64       // workloads made, so each gets a seed of its own
}

// SeedFromEnv is the suite seed: $E2E_SEED, else $FAULTS_SEED, else the clock.
func SeedFromEnv() (uint64, error) {
	for _, k := range []string{"E2E_SEED", "FAULTS_SEED"} {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s=%q is not a number", k, v)
			}
			return n, nil
		}
	}
	return uint64(time.Now().UnixNano()), nil
}

// New creates the scenario's table (with its stream), and registers the
// cleanup: stop ddbsync, print its log when the test failed, drop the
// table and the index. suiteSeed 0 takes SeedFromEnv.
func New(tb testing.TB, o Options, suiteSeed uint64) *Harness {
	tb.Helper()
	if suiteSeed == 0 {
		s, err := SeedFromEnv()
		if err != nil {
			tb.Fatal(err)
		}
		suiteSeed = s
	}
	if o.NS.AccessKey == "" {
		o.NS = FreshNamespace(tb, "e2e")
	}
	if o.Schema.Partition == "" {
		o.Schema.Partition, o.Schema.PartitionType = "pk", types.ScalarAttributeTypeS
	}
	if o.Schema.PartitionType == "" {
		o.Schema.PartitionType = types.ScalarAttributeTypeS
	}
	if o.Schema.Sort != "" && o.Schema.SortType == "" {
		o.Schema.SortType = types.ScalarAttributeTypeS
	}
	if o.Table == "" {
		if o.Prefix == "" {
			o.Prefix = "e2e"
		}
		o.Table = fmt.Sprintf("%s-%s-%s", o.Prefix, o.Name, RandomHex(tb, 8))
	}
	if o.OpenSearch == "" {
		o.OpenSearch = Env(tb, "OPENSEARCH_URL")
	}
	h := &Harness{TB: tb, Ctx: context.Background(), OpenSearch: o.OpenSearch, NS: o.NS,
		Table: o.Table, Index: strings.ToLower(o.Table), Schema: o.Schema,
		Key: ddbjson.Key{Partition: o.Schema.Partition, Sort: o.Schema.Sort}, Dir: o.Dir}
	h.Place = KeyPlacement(h.Key)
	hash := fnv.New64a()
	hash.Write([]byte(tb.Name()))
	h.Seed = suiteSeed ^ hash.Sum64()
	h.DDB, h.Emu = Clients(tb, o.NS)
	if h.Dir == "" {
		dir, err := os.MkdirTemp("", "ddbsync-e2e-"+o.Name+"-")
		if err != nil {
			tb.Fatal(err)
		}
		h.Dir, h.owned = dir, true
	}
	h.CreateTable(o.View)
	tb.Logf("harness: table %s, namespace %s/%s, dir %s, seed %d", h.Table, h.NS.AccessKey, h.NS.Region, h.Dir, h.Seed)
	tb.Cleanup(h.cleanup)
	return h
}

// CreateTable creates the harness table with a stream of view type view
// (default NEW_AND_OLD_IMAGES; "none": no stream): New calls it, a test
// may again after deleting the table.
func (h *Harness) CreateTable(view types.StreamViewType) {
	h.TB.Helper()
	s := h.Schema
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(h.Table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(s.Partition), AttributeType: s.PartitionType}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(s.Partition), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if view == "" {
		view = types.StreamViewTypeNewAndOldImages
	}
	if view != "none" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view}
	}
	if s.Sort != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(s.Sort), AttributeType: s.SortType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(s.Sort), KeyType: types.KeyTypeRange})
	}
	if _, err := h.DDB.CreateTable(h.Ctx, in); err != nil {
		h.TB.Fatalf("create table %s: %v", h.Table, err)
	}
}

// keep reports whether the scenario's directory and index stay for a look.
func (h *Harness) keep() bool {
	return h.TB.Failed() || os.Getenv("E2E_KEEP") != "" || os.Getenv("FAULTS_KEEP") != ""
}

func (h *Harness) cleanup() {
	h.mu.Lock()
	writing := h.writing
	h.writing = nil
	h.mu.Unlock()
	for _, r := range writing {
		_ = r.Stop() // a test that ended early leaves writers running; their errors are moot now
	}
	h.Stop()
	h.stopNodes()
	if h.TB.Failed() && h.Proc() != nil {
		h.TB.Logf("last ddbsync log (%s):\n%s", h.logPath(), Tail(h.Log(), 8000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// DynamoDB Local slows down as a namespace fills: always drop the table.
	_, _ = h.DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(h.Table)})
	if h.keep() {
		h.TB.Logf("pipeline, state and logs kept in %s; index %s kept", h.Dir, h.Index)
		return
	}
	Do(ctx, h.OpenSearch, "DELETE", "/"+h.Index, nil)
	if h.owned {
		_ = os.RemoveAll(h.Dir)
	}
}

func (h *Harness) logPath() string {
	if p := h.Proc(); p != nil {
		return p.LogPath
	}
	return ""
}

// Workload returns the hostile workload for this table, seeded from the
// scenario's seed and how many came before it unless cfg sets a seed. It
// writes through DDB.
func (h *Harness) Workload(cfg workload.Config) *workload.Workload {
	if cfg.Seed == 0 {
		cfg.Seed = h.Seed + h.made.Add(1)*0x9e3779b97f4a7c15
	}
	return workload.New(h.DDB, h.Table, h.Schema, cfg)
}

// StartWorkload starts w in the background; the cleanup stops it if the
// test ends first.
func (h *Harness) StartWorkload(w *workload.Workload) *workload.Running {
	r := w.Start(h.Ctx)
	h.mu.Lock()
	h.writing = append(h.writing, r)
	h.mu.Unlock()
	return r
}

// TestControl sends a DynamoDB Local test-control action (ROLLOVER,
// DILATE_TIME) to the scenario's namespace: name/value pairs of S values.
func (h *Harness) TestControl(kv ...string) {
	h.TB.Helper()
	item := map[string]types.AttributeValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		item[kv[i]] = &types.AttributeValueMemberS{Value: kv[i+1]}
	}
	if _, err := h.DDB.PutItem(h.Ctx, &dynamodb.PutItemInput{TableName: aws.String("[TEST_CONTROL]"), Item: item}); err != nil {
		h.TB.Fatalf("test control %v: %v", kv, err)
	}
}

// EnablePITR turns on point-in-time recovery (through the export
// emulator, which answers it), which an export needs.
func (h *Harness) EnablePITR() {
	h.TB.Helper()
	_, err := h.Emu.UpdateContinuousBackups(h.Ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(h.Table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	if err != nil {
		h.TB.Fatalf("enable PITR: %v", err)
	}
}
