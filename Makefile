# model-runner developer entry points (kubebuilder habit).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
KUBE_VERSION ?= v1.35.4
CACHE_DIR ?= $(HOME)/.cache/model-runner
# The pinned Node LTS and the tools npm installs, then the Kubernetes binaries built by make install.
export PATH := $(CURDIR)/node_modules/.bin:$(CACHE_DIR)/kube/$(KUBE_VERSION)/bin:$(PATH)
NODE := $(CURDIR)/node_modules/.bin/node
TEST_FILES ?= test/**/*.test.ts

.PHONY: help install generate lint typecheck test test-unit test-integration stack-up stack-down stack-status stack-clean demo bench run deploy undeploy

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-18s %s\n", $$1, $$2 }'

install: ## Install everything: apt packages, npm, kube binaries, fake-gcs-server, Kafka jars
	@bash stack/install.sh

generate: install ## Regenerate CRD manifests, TypeScript types and the API reference from crds/*.schema.json
	@$(NODE) crds/generate.ts

lint: install ## ESLint, Prettier and the TypeScript compiler
	@eslint . && prettier --check --log-level warn . && tsc -p tsconfig.json

typecheck: install
	@tsc -p tsconfig.json

test: install stack-up ## The whole test suite (unit + integration) against the local stack
	@$(NODE) --test --test-concurrency=4 '$(TEST_FILES)'

test-unit: install ## Unit tests of pure logic only (no stack needed)
	@$(NODE) --test 'test/unit/**/*.test.ts'

test-integration: install stack-up ## Integration tests against the local stack
	@$(NODE) --test --test-concurrency=4 'test/integration/**/*.test.ts'

stack-up: install ## Start the local stack (idempotent); endpoints in .stack/env
	@bash stack/up.sh

stack-down: ## Stop exactly what stack-up started
	@bash stack/down.sh

stack-status: ## Each component, its version, address and health
	@bash stack/status.sh

stack-clean: stack-down ## Stop the stack and delete its state
	@bash stack/clean.sh

run: install stack-up ## The operator in the foreground against the local stack (Ctrl-C stops it)
	@$(NODE) devtools/stackOperator.ts run

deploy: install stack-up ## Install the operator into the stack's cluster (namespace model-runner-system) and wait until it leads
	@$(NODE) devtools/stackOperator.ts deploy

undeploy: ## Remove what make deploy installed (the CRDs stay)
	@$(NODE) devtools/stackOperator.ts undeploy

demo: install stack-up deploy ## The main job end to end: the operator deployed, ModelRuns applied with kubectl, checked against the chain
	@$(NODE) demo/run.ts

bench: install stack-up ## Benchmarks: worker ingest + erc20_transfers vs cryo (light and heavy chains); 1,000 ModelRuns through the operator; schedule planning and realtime latency; WorkerPool autoscaling (scripts, ~25 min)
	@$(NODE) bench/run.ts
	@$(NODE) bench/operatorDispatch.ts
	@$(NODE) bench/schedule.ts
	@$(NODE) bench/workerpool.ts
