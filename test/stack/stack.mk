# Local test stack (DESIGN.md §5): include from the top-level Makefile.
DDBSYNC_STACK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: stack-up stack-down

stack-up: ## start DynamoDB Local, OpenSearch and S3 on 127.0.0.1 (then: . test/stack/env.sh)
	bash $(DDBSYNC_STACK_DIR)/stack-up.sh

stack-down: ## stop the local stack and remove its data
	bash $(DDBSYNC_STACK_DIR)/stack-down.sh

# Extra search servers for the compatibility suite (test/compat), one at a time, on their own ports.
.PHONY: opensearch3-up opensearch3-down elasticsearch7-up elasticsearch7-down

opensearch3-up: ## start OpenSearch 3.x alone on 127.0.0.1:$OPENSEARCH3_PORT (19230; Java 21+)
	bash $(DDBSYNC_STACK_DIR)/compat-server.sh up opensearch3

opensearch3-down: ## stop OpenSearch 3.x and remove its data
	bash $(DDBSYNC_STACK_DIR)/compat-server.sh down opensearch3

elasticsearch7-up: ## start Elasticsearch 7.10.2 alone on 127.0.0.1:$ELASTICSEARCH7_PORT (19270)
	bash $(DDBSYNC_STACK_DIR)/compat-server.sh up elasticsearch7

elasticsearch7-down: ## stop Elasticsearch 7.10.2 and remove its data
	bash $(DDBSYNC_STACK_DIR)/compat-server.sh down elasticsearch7
