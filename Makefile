# CaseXchange server. `make run` serves with demo data; `make test` runs every check.
SHELL := /bin/bash
GO ?= go
BIN := bin/casexchange
SPEC := api-reference/openapi.yml
REF_SPEC := ../shared/reference/openapi-2026-04-01.yml
NPX := node_modules/.bin
# Code generators are pinned in their own modfile, so the server's go.mod lists only what it runs.
CODEGEN := $(GO) tool -modfile=tools/codegen.mod

.PHONY: all build run test test-go contract newman lint generate verify bench clean tools

all: build

# The version (git describe) and commit are stamped into the binary: `casexchange version`,
# /health's version and the cx_build_info metric show them.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/casexchange/server/internal/buildinfo.version=$(VERSION) -X github.com/casexchange/server/internal/buildinfo.revision=$(REVISION)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/casexchange

run: build
	./$(BIN) serve

## test: Go tests against a private PostgreSQL (or DATABASE_URL), short fuzz runs, the contract gates, the reference's examples (mk/examples.mk),
## our own Postman collection and the published one (mk/postman.mk), the portman contract tests generated from our spec and the HA drills
## (mk/ha.mk: scale-out, failover, restore-drill).
test: lint test-go fuzz contract examples-check newman newman-reference portman chart image-test migration-compat portal-quickstart sdk-smoke scale-out failover restore-drill

## test-go: every Go package; the verification parts' one-line summaries are printed at the end.
test-go:
	@rm -f .test-summary
	@status=0; CX_TEST_SUMMARY=$(CURDIR)/.test-summary $(GO) run ./cmd/devdb -ephemeral -- $(GO) test -count=1 -timeout 20m ./... || status=$$?; \
	  if [ -f .test-summary ]; then echo "--- summaries"; sort .test-summary; fi; exit $$status

## contract: spec lint, breaking-change check against the reference release, generation is clean.
contract: node_modules
	bash scripts/contract-checks.sh

## lint: golangci-lint with the layering rules (mk/lint.mk); the spec linters run in contract.
lint: golangci

generate:
	@mkdir -p gen/apiclient
	for c in models server spec client; do $(CODEGEN) oapi-codegen -config oapi-codegen/$$c.yaml $(SPEC) || exit 1; done
	$(CODEGEN) sqlc generate
	$(GO) run ./internal/tools/oplist -readme README.md
	$(MAKE) -s portal-generate
	$(MAKE) -s postman-generate

## verify: fail when regeneration changes any tracked file.
verify: generate
	@git diff --exit-code --stat -- gen README.md internal/portal/site postman || (echo "generated code is stale: run make generate and commit" && exit 1)
	@test -z "$$(git status --porcelain -- gen internal/portal/site postman)" || (git status --porcelain -- gen internal/portal/site postman; echo "untracked generated files" && exit 1)

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

tools: node_modules

clean:
	rm -rf bin

## bench: list reads at the size of one large firm: seeds, when absent, the firm-size dataset (sending firms of
## 100, BENCH_FIRM_SIZE/20 and BENCH_FIRM_SIZE cases, a firm receiving BENCH_FIRM_SIZE referrals; database
## cx_bench_firms_<N>), then runs the firm-size growth table, ours versus the limit server (bench/limit), the exports and
## the write rows, and writes $(BENCH_OUT)/{results.md,results.json,throughput.svg}. The default size is a quick smoke run;
## the full run is `make bench BENCH_FIRM_SIZE=200000 BENCH_DURATION=3s BENCH_DATA=.data/bench` (BENCH_DATA keeps the cluster and the
## dataset between runs). Not part of test.
BENCH_FIRM_SIZE ?= 4000
BENCH_SCALE ?= 10
BENCH_DURATION ?= 1s
BENCH_CONCURRENCY ?= 1,16,64
BENCH_IMPORT_ROWS ?= 0
BENCH_DATA ?=
BENCH_DB ?=
BENCH_OUT ?= bench/results
BENCH_DEVDB = $(if $(BENCH_DATA),-data $(BENCH_DATA),-ephemeral)
BENCH_FLAGS = -scale $(BENCH_SCALE) -out $(BENCH_OUT) $(if $(BENCH_DB),-db $(BENCH_DB))
bench: build bench-bin
	$(GO) run ./cmd/devdb $(BENCH_DEVDB) -- bin/bench-load -firm-size $(BENCH_FIRM_SIZE) -out $(BENCH_OUT) -duration $(BENCH_DURATION) \
		-concurrency $(BENCH_CONCURRENCY) -import-rows $(BENCH_IMPORT_ROWS)

# Further targets (one file per part) live in mk/.
include $(wildcard mk/*.mk)
