package app

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// Coordination is the state store a pipeline uses: its own
// source_coordination block, else the one of the data-prepper-config.yaml
// (def, may be nil), else the local state directory.
func Coordination(p *config.Pipeline, def *config.Coordination) *config.Coordination {
	switch {
	case p.Coordination != nil:
		return p.Coordination
	case def != nil:
		return def
	}
	return &config.Coordination{Store: config.StoreLocal, LeaseTimeout: config.DefaultLeaseTimeout}
}

// stateStores opens each pipeline's state store: the one file store of the
// state directory (opened, and locked, only when some pipeline uses it),
// or a DynamoDB state table per pipeline.
type stateStores struct {
	dir    string
	log    *slog.Logger
	leases *metrics.Leases
	file   *checkpoint.FileStore
	shared []*checkpoint.DynamoStore
}

// forPipeline returns the pipeline's store, creating the state table when
// allowed and waiting (up to the start-up timeout) for it to be reachable.
func (s *stateStores) forPipeline(ctx context.Context, p *config.Pipeline, c *config.Coordination, o Options, waits *metrics.Waits) (checkpoint.Store, error) {
	if !c.Shared() {
		if s.file == nil {
			f, err := checkpoint.OpenFileStore(s.dir)
			if err != nil {
				return nil, err
			}
			s.file = f
		}
		return s.file, nil
	}
	ddb, err := stateClient(ctx, p, c)
	if err != nil {
		return nil, err
	}
	err = startupWait(ctx, o.StartupTimeout, waits, s.log, "dynamodb (state table "+c.TableName+")", func(ctx context.Context) error {
		return checkpoint.EnsureTable(ctx, ddb, c.TableName, !c.SkipTableCreation, s.log)
	})
	if err != nil {
		return nil, err
	}
	st := newDynamoStore(ddb, p, c, s.log.With("pipeline", p.Name), s.leases)
	st.Beat(ctx) // count the live nodes before the first fair share
	node := st.Node()
	s.log.Info("state in a shared DynamoDB table", "pipeline", p.Name, "state_table", c.TableName, "node", node,
		"lease_timeout", c.LeaseTimeout, "live_nodes", st.LiveNodes())
	s.shared = append(s.shared, st)
	return st, nil
}

// OpenSharedState returns a pipeline's shared state store for reading
// (`ddbsync status`): no table is created, no lease taken, no heartbeat.
func OpenSharedState(ctx context.Context, p *config.Pipeline, c *config.Coordination, log *slog.Logger) (*checkpoint.DynamoStore, error) {
	ddb, err := stateClient(ctx, p, c)
	if err != nil {
		return nil, err
	}
	return newDynamoStore(ddb, p, c, log, nil), nil
}

// stateClient is a DynamoDB client for the state table: its region (else
// the source's) and role.
func stateClient(ctx context.Context, p *config.Pipeline, c *config.Coordination) (*dynamodb.Client, error) {
	region := c.Region
	if region == "" {
		region = p.Source.AWS.Region
	}
	cfg, err := awsConfig(ctx, config.AWS{Region: region, STSRoleARN: c.STSRoleARN})
	if err != nil {
		return nil, fmt.Errorf("state table %s: %w", c.TableName, err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// No client-wide retry budget: the SDK's default one, drained by a
		// burst of throttled renewals, would fail every other call at once
		// ("retry quota exceeded"). The store retries transient failures of
		// its own calls besides (checkpoint.DynamoStore.update).
		o.Retryer = awsretry.NewStandard(func(so *awsretry.StandardOptions) { so.RateLimiter = ratelimit.None })
	}), nil
}

func newDynamoStore(ddb *dynamodb.Client, p *config.Pipeline, c *config.Coordination, log *slog.Logger, leases *metrics.Leases) *checkpoint.DynamoStore {
	node := c.NodeID
	if node == "" {
		node = defaultNodeID()
	}
	name := p.Name
	if c.PartitionPrefix != "" {
		name = c.PartitionPrefix + "/" + p.Name
	}
	return checkpoint.NewDynamoStore(ddb, checkpoint.DynamoOptions{
		Table: c.TableName, Pipeline: name, Node: node, LeaseTimeout: c.LeaseTimeout, Log: log, Metrics: leases,
	})
}

// run renews the shared stores' leases and heartbeats until ctx ends.
func (s *stateStores) run(ctx context.Context) error {
	var g errgroup.Group
	for _, st := range s.shared {
		g.Go(func() error { return st.Run(ctx) })
	}
	return g.Wait()
}

// Close releases the state directory's lock.
func (s *stateStores) Close() {
	if s.file != nil {
		s.file.Close()
	}
}

// defaultNodeID is unique per process: host name, process id and a random
// suffix (so a restarted container never mistakes a dead process's leases
// for its own).
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 3)
	_, _ = crand.Read(b)
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}
