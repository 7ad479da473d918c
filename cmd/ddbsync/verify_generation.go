package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ddbsync/ddbsync/internal/app"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
)

// tableGeneration is the table's current version generation, which
// repairs are written in: from the shared state table when the pipeline
// keeps its state there (several nodes), else from the state directory
// (read without its lock, beside a running `run`).
func tableGeneration(ctx context.Context, p *config.Pipeline, def *config.Coordination, stateDir, table string) (int64, error) {
	c := app.Coordination(p, def)
	if !c.Shared() {
		return checkpoint.ReadGeneration(stateDir, table)
	}
	store, err := app.OpenSharedState(ctx, p, c, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, fmt.Errorf("state table %s: %w", c.TableName, err)
	}
	gen, err := checkpoint.Generation(ctx, store, table)
	if err != nil {
		return 0, fmt.Errorf("read the version generation of table %s from state table %s: %w", table, c.TableName, err)
	}
	return gen, nil
}
