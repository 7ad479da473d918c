# ddbsync — see README.md. Two commands matter: `make demo` and `make test`.
GO      ?= go
BIN     := bin/ddbsync
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build unit test test-integration demo bench bench-stream bench-catchup bench-backfill bench-shards bench-takeover vet fmt clean help

all: build

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

build: ## build bin/ddbsync
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/ddbsync

vet: ## go vet
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/...

unit: ## unit tests (no network)
	$(GO) test -count=1 ./...

test: ## everything CI runs: vet, unit tests, then the integration suite against the real local stack it starts and stops
	bash test/run-tests.sh

test-integration: build ## integration tests only, against a stack that is already up (make stack-up)
	bash test/run-tests.sh --integration-only

demo: build ## start the local stack and replicate a demo table live (Ctrl-C stops)
	bash test/demo.sh

bench: build ## every benchmark (short runs, about 10 min), then one table; not part of make test
	bash test/bench/run.sh all

bench-shards: build ## one node reading N idle tables' shards: RSS and CPU per shard, GetRecords/s per shard (BENCH_ARGS="-tables 100,500")
	bash test/bench/run.sh shards $(BENCH_ARGS)

bench-takeover: build ## two nodes on a DynamoDB state table over N one-shard tables: time for the survivor to read every shard after SIGKILL / SIGTERM, state table calls/s (BENCH_ARGS="-shards 100,300")
	bash test/bench/run.sh takeover $(BENCH_ARGS)

bench-stream: build ## stream latency at 1 per 2 s, 1/s, 50/s and max: default poll_interval vs 1s, interleaved (BENCH_ARGS="-rounds 5")
	bash test/bench/run.sh stream $(BENCH_ARGS)

bench-catchup: build ## stream catch-up records/s vs a bare GetRecords loop and a bare _bulk loader (BENCH_ARGS="-n 50000")
	bash test/bench/run.sh catchup $(BENCH_ARGS)

bench-backfill: build ## export backfill of a 1M-item table: ddbsync items/s and peak RSS vs a plain _bulk loader (BENCH_ARGS="-items 100000")
	bash test/bench/run.sh backfill $(BENCH_ARGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .ddbsync

include test/stack/stack.mk

# Fault-injection suite (test/faults, issue 5): SIGKILLs, OpenSearch killed / answering 429,
# Toxiproxy network faults, shard rollovers, stream gaps. Starts the stack if it is down (and
# leaves it up); kills and restarts the stack's OpenSearch once. The short subset runs in make test.
.PHONY: test-faults
test-faults: build ## full fault-injection suite against the local stack (brings it up; restarts its OpenSearch once)
	bash test/stack/stack-up.sh
	bash test/e2e/toxiproxy.sh >/dev/null
	bash -c '. test/stack/env.sh && DDBSYNC_BIN="$(CURDIR)/$(BIN)" $(GO) test -tags integration -count=1 -timeout 60m -v ./test/faults/' # env.sh needs bash

# Compatibility suite (test/compat, issue 12): the core end-to-end scenarios against OpenSearch 2.19
# (the stack's), then OpenSearch 3.x and Elasticsearch 7.10.2, each started alone and stopped again.
.PHONY: test-compat
test-compat: build ## compatibility suite against OpenSearch 2.19, 3.x and Elasticsearch 7.10.2 (stack already up)
	bash test/run-tests.sh --compat-only
