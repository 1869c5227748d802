# The verbs a user types. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO            ?= go
GOFLAGS_BUILD := -tags lambda.norpc -trimpath -ldflags="-s -w"
ARTIFACTS_DIR ?= bin
EVENT         ?= events/token-request.json
STACK_NAME    ?= trulience-token
ENV_FILE      ?=
FUZZTIME      ?= 10s
VENV          := .venv
GITHUB_REPO        ?=
GITHUB_ENVIRONMENT ?= production
OIDC_PROVIDER_ARN  ?=
DOMAIN_NAME        ?=
HOSTED_ZONE_ID     ?=
EXISTING_SECRET_ARN ?=
ROLE_STACK_NAME    ?= github-deploy-$(STACK_NAME)
PY            := $(VENV)/bin/python
# cfn-lint from the .venv's Python, wherever its script was installed.
CFN_LINT      := $(PY) -c "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
# The tests find moto, cfn-lint and (when installed there) the AWS CLI in .venv.
export PATH   := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help build build-TokenFunction build-WebhookFunction test test-short lint darwin local invoke sam-env deploy deploy-role smoke pause resume sessions webhook-header fuzz soak bench tools tools-local clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

build: ## Build the arm64 bootstraps (sam build when the SAM CLI is present, else bin/bootstrap and bin/webhook/bootstrap)
	@if command -v sam >/dev/null 2>&1; then sam build; else $(MAKE) --no-print-directory build-TokenFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR) && $(MAKE) --no-print-directory build-WebhookFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR)/webhook && ls -l $(ARTIFACTS_DIR)/bootstrap $(ARTIFACTS_DIR)/webhook/bootstrap; fi

build-TokenFunction: ## The target sam build calls: the arm64 bootstrap in $(ARTIFACTS_DIR)
	mkdir -p "$(ARTIFACTS_DIR)"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/token

build-WebhookFunction: ## The target sam build calls for the webhook: its arm64 bootstrap in $(ARTIFACTS_DIR)
	mkdir -p "$(ARTIFACTS_DIR)"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/webhook

test: tools ## Run every test: unit, integration (RIE, moto, browser), the template's, cfn-lint
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd dev && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	$(PY) -m unittest discover -s dev/template
	$(CFN_LINT) template.yaml

test-short: tools-local ## The quick loop: unit tests and the fast integration tests (under a minute)
	$(GO) test -count=1 ./...
	cd dev && $(GO) test -short -count=1 ./devstack ./e2e ./frontdoor ./layout ./proc ./standin/...

lint: tools darwin ## gofmt, go vet, staticcheck, shellcheck, cfn-lint
	@out=$$(gofmt -l functions internal dev); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd dev && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cd dev && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	shellcheck scripts/*.sh dev/*.sh .ci/run
	$(CFN_LINT) template.yaml deploy/github-oidc-role.yaml
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 .github/workflows/*.yml

darwin: ## Vet and build the development tools for macOS (arm64 and amd64)
	cd dev && for arch in arm64 amd64; do GOOS=darwin GOARCH=$$arch $(GO) vet ./... && GOOS=darwin GOARCH=$$arch $(GO) build -o /dev/null ./cmd/... || exit 1; done

local: tools-local ## Run everything on loopback: function under the RIE, moto, Trulience stand-in, front door :3000, site :8000
	@cd dev && $(GO) build -o ../bin/local ./cmd/local
	@bin/local $(ARGS)

invoke: tools-local ## Run EVENT=events/<name>.json through the bootstrap under the Lambda RIE, with local stand-ins
	@cd dev && $(GO) build -o ../bin/local ./cmd/local
	@bin/local -invoke "$(EVENT)"

sam-env: ## Write the --env-vars file for sam local invoke against deployed stack STACK_NAME (ENV_FILE=path; docs/development.md)
	scripts/sam-env.sh --stack-name "$(STACK_NAME)" $(if $(ENV_FILE),--output "$(ENV_FILE)",)

deploy: ## sam build && sam deploy; a new stack first asks four questions (scripts/deploy.py); GUIDED=1 asks every parameter
ifneq ($(GUIDED),)
	sam build
	sam deploy --guided
else
	@command -v python3 >/dev/null || { echo "make deploy: needs python3 to ask a new stack's questions; or: sam build && sam deploy --guided" >&2; exit 1; }
	scripts/deploy.py
endif

deploy-role: ## Create/update the IAM role GitHub Actions deploys STACK_NAME with (GITHUB_REPO=owner/name; docs/continuous-deployment.md)
	@[ -n "$(GITHUB_REPO)" ] || { echo "usage: make deploy-role GITHUB_REPO=owner/name [STACK_NAME=...] [GITHUB_ENVIRONMENT=production] [OIDC_PROVIDER_ARN=arn:...] [DOMAIN_NAME=... HOSTED_ZONE_ID=...] [EXISTING_SECRET_ARN=arn:...]" >&2; exit 2; }
	aws cloudformation deploy \
		--template-file deploy/github-oidc-role.yaml \
		--stack-name "$(ROLE_STACK_NAME)" \
		--capabilities CAPABILITY_NAMED_IAM \
		--no-fail-on-empty-changeset \
		--parameter-overrides \
			GitHubRepository="$(GITHUB_REPO)" \
			GitHubEnvironment="$(GITHUB_ENVIRONMENT)" \
			TokenStackName="$(STACK_NAME)" \
			ExistingOidcProviderArn="$(OIDC_PROVIDER_ARN)" \
			DomainName="$(DOMAIN_NAME)" \
			HostedZoneId="$(HOSTED_ZONE_ID)" \
			ExistingSecretArn="$(EXISTING_SECRET_ARN)"
	@# AWS_DEPLOY_ROLE_ARN and PERMISSIONS_BOUNDARY_ARN, the environment's variables.
	@aws cloudformation describe-stacks --stack-name "$(ROLE_STACK_NAME)" \
		--query "Stacks[0].Outputs[?OutputKey=='RoleArn' || OutputKey=='PermissionsBoundaryArn'].[OutputKey,OutputValue]" --output text

smoke: ## Smoke-test the deployed stack STACK_NAME (ORIGIN=https://your.site)
	scripts/smoke-test.sh --stack-name "$(STACK_NAME)" $(if $(ORIGIN),--origin "$(ORIGIN)",)

pause: ## Stop all token minting of stack STACK_NAME at once (reserved concurrency 0)
	scripts/pause.sh --stack-name "$(STACK_NAME)"

resume: ## Undo make pause: stack STACK_NAME mints tokens again
	scripts/resume.sh --stack-name "$(STACK_NAME)"

sessions: ## Live sessions and today's minutes per avatar in stack STACK_NAME's session ledger (SessionLedger=on)
	@scripts/sessions.sh --stack-name "$(STACK_NAME)"

webhook-header: ## Print stack STACK_NAME's webhook URL and secret header for Trulience's Custom Headers (the value to the terminal only)
	@scripts/webhook-header.sh --stack-name "$(STACK_NAME)"

fuzz: ## Run each fuzz target for FUZZTIME (default 10s)
	dev/fuzz.sh "$(FUZZTIME)"

soak: tools ## 20,000 invocations through the RIE (SOAK_N=n to change); reports RSS, open files, connections
	cd dev && SOAK=1 $(GO) test -count=1 -run TestSoak -v ./e2e/hardening/

bench: tools ## Print the performance tables: budgets on loopback, then the function against Go and Node.js peers with production latency (docs/performance.md); ARGS=-short for a quick run
	cd dev && $(GO) run ./cmd/bench $(ARGS)

tools: ## Install what the tests need when missing (.venv with moto and cfn-lint, aws-lambda-rie, chromium)
	@dev/install-tools.sh

tools-local: ## Install only what make local needs (.venv with moto, aws-lambda-rie)
	@dev/install-tools.sh --local

clean: ## Remove build output and the .venv
	rm -rf bin .aws-sam $(VENV)
