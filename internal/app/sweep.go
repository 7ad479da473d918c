package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/verify"
)

// osSweeper runs the orphan sweep of a re-backfill against every opensearch
// sink of the table's pipeline.
type osSweeper struct {
	ddb   verify.DynamoDB
	ref   string // how DynamoDB calls address the table (name or ARN)
	sinks []*config.OpenSearch
	aws   []*aws.Config // SigV4 config per sink (nil without an aws block)
	log   *slog.Logger
}

// newSweeper returns the sweeper for a table, or nil when the pipeline has
// no opensearch sink or the table keeps TTL-expired documents (those would
// look like orphans).
func newSweeper(ctx context.Context, ddb verify.DynamoDB, ref string, p *config.Pipeline, t config.Table, log *slog.Logger) (Sweeper, error) {
	if t.Stream != nil && t.Stream.TTLDeletes == config.TTLKeep {
		return nil, nil
	}
	s := &osSweeper{ddb: ddb, ref: ref, log: log}
	for _, sc := range p.Sinks {
		if sc.OpenSearch == nil {
			continue
		}
		var awsCfg *aws.Config
		if sc.OpenSearch.AWS != nil {
			cfg, err := awsConfig(ctx, *sc.OpenSearch.AWS)
			if err != nil {
				return nil, err
			}
			awsCfg = &cfg
		}
		s.sinks = append(s.sinks, sc.OpenSearch)
		s.aws = append(s.aws, awsCfg)
	}
	if len(s.sinks) == 0 {
		return nil, nil
	}
	return s, nil
}

// Sweep implements Sweeper.
func (s *osSweeper) Sweep(ctx context.Context, table string, generation int64) (int, error) {
	total := 0
	for i, sink := range s.sinks {
		n, err := verify.Sweep(ctx, s.ddb, table, s.ref, sink, s.log, verify.SweepOptions{AWSConfig: s.aws[i], Generation: generation})
		total += n
		if err != nil {
			return total, fmt.Errorf("sink %d: %w", i, err)
		}
	}
	return total, nil
}
