package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func coordPipeline(block string) string {
	return `p:
  source_coordination:
` + block + `
  source:
    dynamodb:
      tables:
        - table_arn: arn:aws:dynamodb:us-east-1:123456789012:table/orders
          stream: {}
  sink:
    - stdout: {}
`
}

func TestCoordinationBlock(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  Coordination // checked fields: Store, TableName, Region, SkipTableCreation, LeaseTimeout, NodeID
		probs []string     // "line N: path: text" fragments, in order
	}{
		{name: "shorthand", block: "    store: dynamodb\n    table_name: ddbsync-state\n    region: us-west-2\n    lease_timeout: 15s\n    node_id: n1",
			want: Coordination{Store: StoreDynamoDB, TableName: "ddbsync-state", Region: "us-west-2", LeaseTimeout: 15 * time.Second, NodeID: "n1"}},
		{name: "data prepper plugin form", block: "    partition_prefix: blue\n    store:\n      dynamodb:\n        table_name: DataPrepperSourceCoordinationStore\n        region: us-east-1\n        skip_table_creation: true\n        ttl: P1D",
			want: Coordination{Store: StoreDynamoDB, TableName: "DataPrepperSourceCoordinationStore", Region: "us-east-1", SkipTableCreation: true, LeaseTimeout: DefaultLeaseTimeout}},
		{name: "local", block: "    store: local", want: Coordination{Store: StoreLocal, LeaseTimeout: DefaultLeaseTimeout}},
		{name: "unknown key and missing table", block: "    store: dynamodb\n    tabel_name: x",
			probs: []string{`line 4: p.source_coordination.tabel_name: unknown key (did you mean "table_name"?)`, `p.source_coordination.table_name: missing required key`}},
		{name: "short lease and bad store", block: "    store: dynamo\n    lease_timeout: 1s",
			probs: []string{`line 3: p.source_coordination.store: invalid value; did you mean "dynamodb"?`, `line 4: p.source_coordination.lease_timeout: only a dynamodb store takes this key`}},
		{name: "lease too short", block: "    store: dynamodb\n    table_name: state\n    lease_timeout: 1s",
			probs: []string{`line 5: p.source_coordination.lease_timeout: out of range (got 1s`}},
		{name: "plugin form unknown key", block: "    store:\n      dynamodb:\n        table_name: state\n        regoin: us-east-1",
			probs: []string{`line 6: p.source_coordination.store.dynamodb.regoin: unknown key (did you mean "region"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("p.yaml", []byte(coordPipeline(tt.block)), nil)
			if len(tt.probs) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				msg := err.Error()
				for _, p := range tt.probs {
					if !strings.Contains(msg, p) {
						t.Errorf("missing %q in:\n%s", p, msg)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := f.Pipelines[0].Coordination
			got := Coordination{Store: c.Store, TableName: c.TableName, Region: c.Region, SkipTableCreation: c.SkipTableCreation, LeaseTimeout: c.LeaseTimeout, NodeID: c.NodeID}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoadServerReadsDataPrepperSourceCoordination(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "ssl: false\nserverPort: 4900\nsource_coordination:\n  store:\n    dynamodb:\n      table_name: ${env:STATE_TABLE}\n      region: us-east-1\n      sts_role_arn: arn:aws:iam::123456789012:role/coord\n")
	env := func(k string) (string, bool) {
		return map[string]string{"STATE_TABLE": "coord-table"}[k], k == "STATE_TABLE"
	}
	c, err := LoadServer(good, env)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Shared() || c.TableName != "coord-table" || c.STSRoleARN == "" || !strings.Contains(c.Describe(""), "dynamodb table coord-table in us-east-1") {
		t.Fatalf("got %+v", c)
	}
	none, err := LoadServer(write("none.yaml", "ssl: false\n"), env)
	if err != nil || none.Shared() {
		t.Fatalf("no block: %+v %v", none, err)
	}
	_, err = LoadServer(write("bad.yaml", "ssl: false\nsorce_coordination: {}\n"), env)
	if err == nil || !strings.Contains(err.Error(), `line 2: sorce_coordination: unknown key (did you mean "source_coordination"?)`) {
		t.Fatalf("bad key: %v", err)
	}
}
