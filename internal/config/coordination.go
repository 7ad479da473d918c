package config

import (
	"fmt"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// State stores of `source_coordination.store`.
const (
	StoreLocal    = "local"     // the state directory (default)
	StoreDynamoDB = "dynamodb"  // a shared DynamoDB state table
	storeInMemory = "in_memory" // Data Prepper's name for a store of one node: local here
)

// Coordination bounds and defaults.
const (
	DefaultLeaseTimeout = 10 * time.Second
	minLeaseTimeout     = 3 * time.Second
)

// Coordination is `source_coordination`: where a pipeline keeps its
// checkpoints and leases. Written in the pipeline (`<pipeline>.source_coordination`,
// a ddbsync extension) or in Data Prepper's data-prepper-config.yaml (read
// with `run -c`), with the same keys: either
//
//	source_coordination: {store: dynamodb, table_name: ..., region: ...}
//
// or Data Prepper's plugin form
//
//	source_coordination: {store: {dynamodb: {table_name: ..., region: ...}}}
type Coordination struct {
	Store             string // StoreLocal or StoreDynamoDB
	TableName         string
	Region            string // default: the source's region
	STSRoleARN        string
	SkipTableCreation bool
	LeaseTimeout      time.Duration // default DefaultLeaseTimeout
	NodeID            string        // default: host name, process id and a random suffix
	PartitionPrefix   string        // Data Prepper's partition_prefix: keeps several deployments apart in one table
	From              string        // where it was written: "pipeline <name>" or a file name
	Line              int
	keyPath           string // YAML path of the block holding table_name etc.
}

// Shared reports whether the state lives in a DynamoDB table.
func (c *Coordination) Shared() bool { return c != nil && c.Store == StoreDynamoDB }

var coordinationKeys = []string{"table_name", "region", "sts_role_arn", "skip_table_creation", "lease_timeout", "node_id", "ttl"}

// coordination decodes a `source_coordination` block under parent.
func (d *decoder) coordination(parent *block, from string) *Coordination {
	n, path, line := parent.child("source_coordination")
	c := &Coordination{Store: StoreLocal, LeaseTimeout: DefaultLeaseTimeout, From: from, Line: line, keyPath: path}
	b := d.block(n, path, line, append([]string{"store", "partition_prefix"}, coordinationKeys...), nil)
	if b == nil {
		return c
	}
	b.str("partition_prefix", &c.PartitionPrefix)
	sn, spath, sline := b.child("store")
	switch {
	case sn == nil || isNull(sn):
		if b.present("table_name") {
			d.missing(spath, line, "store: dynamodb (a table_name needs a dynamodb store)")
		}
	case sn.Kind == yaml.MappingNode:
		sb := d.block(sn, spath, sline, []string{StoreDynamoDB, storeInMemory}, nil)
		if sb == nil {
			break
		}
		if sb.present(StoreDynamoDB) && sb.present(storeInMemory) {
			d.add(sline, spath, "one store only (got both dynamodb and in_memory)")
		}
		if sb.present(StoreDynamoDB) {
			c.Store = StoreDynamoDB
			dn, dpath, dline := sb.child(StoreDynamoDB)
			if db := d.block(dn, dpath, dline, coordinationKeys, nil); db != nil {
				c.keyPath = dpath
				fillCoordination(db, c)
			}
		}
	default:
		var s string
		b.enum("store", &s, StoreDynamoDB, StoreLocal, storeInMemory)
		if s == StoreDynamoDB {
			c.Store = StoreDynamoDB
		}
	}
	fillCoordination(b, c)
	return c
}

func fillCoordination(b *block, c *Coordination) {
	b.str("table_name", &c.TableName)
	b.str("region", &c.Region)
	b.str("sts_role_arn", &c.STSRoleARN)
	b.boolean("skip_table_creation", &c.SkipTableCreation)
	b.duration("lease_timeout", &c.LeaseTimeout, 0)
	b.str("node_id", &c.NodeID)
	var ttl time.Duration // Data Prepper's TTL of its records: ddbsync sets its own per record kind
	b.duration("ttl", &ttl, 0)
}

// ddbTableName is DynamoDB's table naming rule.
var ddbTableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// coordination validates a decoded block.
func (v *validator) coordination(c *Coordination) {
	if c == nil || c.Line == 0 {
		return
	}
	kp := c.keyPath
	if !c.Shared() {
		for _, k := range []string{"table_name", "region", "sts_role_arn", "skip_table_creation", "lease_timeout", "node_id"} {
			if v.idx.has(kp+"."+k) && !v.bad(kp+"."+k) {
				v.add(kp+"."+k, "only a dynamodb store takes this key (add store: dynamodb)")
			}
		}
		return
	}
	if v.required(kp+".table_name", c.TableName, "the name of the state table (created on first start unless skip_table_creation)") && !ddbTableName.MatchString(c.TableName) {
		v.invalid(kp+".table_name", c.TableName, "invalid table name", nil, "3 to 255 of A-Z a-z 0-9 _ - .")
	}
	v.aws(kp, AWS{Region: c.Region, STSRoleARN: c.STSRoleARN})
	if c.LeaseTimeout < minLeaseTimeout && v.idx.has(kp+".lease_timeout") && !v.bad(kp+".lease_timeout") {
		v.add(kp+".lease_timeout", gotWant("out of range", c.LeaseTimeout.String(), fmt.Sprintf("at least %s (renewals run every third of it)", minLeaseTimeout)))
	}
}

// Describe says in one line which state store a pipeline uses.
func (c *Coordination) Describe(stateDir string) string {
	if !c.Shared() {
		return "local state directory " + stateDir + " (one node)"
	}
	s := fmt.Sprintf("dynamodb table %s", c.TableName)
	if c.Region != "" {
		s += " in " + c.Region
	}
	if c.STSRoleARN != "" {
		s += ", role " + c.STSRoleARN
	}
	if c.SkipTableCreation {
		s += ", must exist (skip_table_creation)"
	} else {
		s += ", created on first start"
	}
	s += fmt.Sprintf(", lease timeout %s", c.LeaseTimeout)
	if c.From != "" {
		s += " (from " + c.From + ")"
	}
	return s
}
