package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
)

// registerDPConfig adds -c / --config: a Data Prepper
// data-prepper-config.yaml whose source_coordination block sets the state
// store of every pipeline that has none of its own.
func registerDPConfig(fs *flag.FlagSet) *string {
	p := fs.String("c", envOr("DDBSYNC_DATA_PREPPER_CONFIG", ""), "Data Prepper data-prepper-config.yaml; its source_coordination is the state store of pipelines without their own (env DDBSYNC_DATA_PREPPER_CONFIG)")
	fs.StringVar(p, "config", *p, "same as -c")
	return p
}

// loadDPConfig reads the source_coordination of a data-prepper-config.yaml
// ("" = none), printing every problem.
func loadDPConfig(path string, stderr io.Writer) (*config.Coordination, bool) {
	if path == "" {
		return nil, true
	}
	c, err := config.LoadServer(path, os.LookupEnv)
	if err != nil {
		printLoadError(stderr, path, err)
		return nil, false
	}
	return c, true
}

// printStateStores says which state store each pipeline would use.
func printStateStores(w io.Writer, f *config.File, def *config.Coordination) {
	dir := envOr("DDBSYNC_STATE_DIR", ".ddbsync")
	for _, p := range f.Pipelines {
		fmt.Fprintf(w, "pipeline %s state: %s\n", p.Name, app.Coordination(p, def).Describe(dir))
	}
}

// sharedState adds the records of pipelines whose state lives in a shared
// DynamoDB table to state, and returns those records with their leases.
func sharedState(f *config.File, def *config.Coordination, state map[string]checkpoint.Progress) ([]checkpoint.Partition, error) {
	var all []checkpoint.Partition
	for _, p := range f.Pipelines {
		c := app.Coordination(p, def)
		if !c.Shared() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		st, err := app.OpenSharedState(ctx, p, c, slog.New(slog.DiscardHandler))
		if err != nil {
			cancel()
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		var tables []string
		for _, t := range p.Source.Tables {
			tables = append(tables, t.TableName)
		}
		parts, err := st.Snapshot(ctx, tables)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		for _, part := range parts {
			state[part.Key] = part.Progress
		}
		all = append(all, parts...)
	}
	return all, nil
}
