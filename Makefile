# The verbs a user types. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO            ?= go
GOFLAGS_BUILD := -tags lambda.norpc -trimpath -ldflags="-s -w"
ARTIFACTS_DIR ?= bin
EVENT         ?= events/token-request.json
STACK_NAME    ?= trulience-token
FUZZTIME      ?= 10s
RIE_VERSION   := v0.0.0-20261030222936-bef5c4ba774d

.PHONY: help build build-TokenFunction test lint local invoke deploy smoke fuzz soak bench tools clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

build: ## Build the arm64 bootstrap (sam build when the SAM CLI is present, else bin/bootstrap)
	@if command -v sam >/dev/null 2>&1; then sam build; else $(MAKE) --no-print-directory build-TokenFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR) && ls -l $(ARTIFACTS_DIR)/bootstrap; fi

build-TokenFunction: ## The target sam build calls: the arm64 bootstrap in $(ARTIFACTS_DIR)
	mkdir -p "$(ARTIFACTS_DIR)"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/token

test: tools ## Run every test: Go (race detector, RIE, moto, browser), the template's, cfn-lint
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	python3 -m unittest discover -s tests/template
	cfn-lint template.yaml

lint: ## gofmt, go vet, staticcheck, shellcheck, cfn-lint
	@out=$$(gofmt -l functions internal scripts e2e); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	shellcheck scripts/*.sh .ci/run
	cfn-lint template.yaml

local: ## Run everything on loopback: function under the RIE, Secrets Manager, Trulience stand-in, front door :3000, site :8000
	@$(GO) build -o bin/local ./scripts/local
	@bin/local $(ARGS)

invoke: ## Run EVENT=events/<name>.json through the bootstrap under the Lambda RIE, with local stand-ins
	@$(GO) build -o bin/local ./scripts/local
	@bin/local -invoke "$(EVENT)"

deploy: ## sam build && sam deploy (add GUIDED=1 the first time)
	sam build
	sam deploy $(if $(GUIDED),--guided,)

smoke: ## Smoke-test the deployed stack STACK_NAME (ORIGIN=https://your.site)
	scripts/smoke-test.sh --stack-name "$(STACK_NAME)" $(if $(ORIGIN),--origin "$(ORIGIN)",)

fuzz: ## Run each fuzz target for FUZZTIME (default 10s)
	scripts/fuzz.sh "$(FUZZTIME)"

soak: ## 20,000 invocations through the RIE (SOAK_N=n to change); reports RSS, open files, connections
	SOAK=1 $(GO) test -count=1 -run TestSoak -v ./e2e/hardening/

bench: ## Print the performance table (size, init, latency, calls, memory) with budgets; ARGS=-short for a quick run
	$(GO) run ./scripts/bench $(ARGS)

tools: ## Install what the tests need when missing (aws-lambda-rie, moto, cfn-lint, aws CLI, chromium)
	@scripts/install-tools.sh

clean: ## Remove build output
	rm -rf bin .aws-sam
