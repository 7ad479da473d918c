# Local test stack (DESIGN.md §5): include from the top-level Makefile.
DDBSYNC_STACK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: stack-up stack-down

stack-up: ## start DynamoDB Local, OpenSearch and S3 on 127.0.0.1 (then: . test/stack/env.sh)
	bash $(DDBSYNC_STACK_DIR)/stack-up.sh

stack-down: ## stop the local stack and remove its data
	bash $(DDBSYNC_STACK_DIR)/stack-down.sh
