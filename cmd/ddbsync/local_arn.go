package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
)

// printLocalARNs tells, for every table given by a DynamoDB Local ARN,
// which table and region run will address.
func printLocalARNs(w io.Writer, f *config.File, getenv func(string) string) {
	for _, p := range f.Pipelines {
		for _, t := range p.Source.Tables {
			if !t.LocalARN() {
				continue
			}
			region, from := p.Source.AWS.Region, "aws.region"
			if region == "" {
				region, from = getenv("AWS_REGION"), "AWS_REGION"
			}
			if region == "" {
				region, from = getenv("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"
			}
			fmt.Fprintf(w, "\nTable %s has a DynamoDB Local ARN (region %q): run addresses it by name %q", t.TableARN, config.LocalRegion, t.TableName)
			if region == "" {
				fmt.Fprintf(w, ", but no region is set: set AWS_REGION (or aws.region) to the region the table was created in.\n")
			} else {
				fmt.Fprintf(w, " in region %s (from %s).\n", region, from)
			}
			if getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" && getenv("AWS_ENDPOINT_URL") == "" {
				fmt.Fprintf(w, "  AWS_ENDPOINT_URL_DYNAMODB is not set: point it (and AWS_ENDPOINT_URL_DYNAMODB_STREAMS) at DynamoDB Local.\n")
			}
		}
	}
}

// envDuration reads a duration from the environment, or def.
func envDuration(key string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		fmt.Fprintf(os.Stderr, "ddbsync: %s=%q is not a duration (like 90s or 5m); using %s\n", key, v, def)
		return def
	}
	return d
}
