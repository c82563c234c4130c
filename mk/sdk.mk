# SDKs generated from the contract, both committed:
# - sdk/go: the Go module github.com/casexchange/server/sdk/go (package casexchange), models and
#   client with typed responses by oapi-codegen (oapi-codegen/sdk-go.yaml), plus auth.go;
# - sdk/ts: the npm package @casexchange/sdk, types by openapi-typescript (src/schema.d.ts) and a
#   small openapi-fetch wrapper (src/index.ts).
# make generate runs sdk; sdk-verify (in make contract) fails when a regeneration changes sdk/;
# sdk-smoke (in make test) drives each SDK against a fresh demo server.
.PHONY: sdk sdk-go sdk-ts sdk-verify sdk-smoke

## sdk: regenerate both SDKs from the contract.
sdk: sdk-go sdk-ts

generate: sdk

sdk-go:
	$(CODEGEN) oapi-codegen -config oapi-codegen/sdk-go.yaml $(SPEC)

sdk-ts: node_modules
	@out=$$($(NPX)/openapi-typescript $(SPEC) --default-non-nullable false -o sdk/ts/src/schema.d.ts 2>&1) || { echo "$$out"; exit 1; }

## sdk-verify: the committed SDKs are byte for byte what the contract generates, and the TypeScript
## package type-checks, with its smoke flow.
sdk-verify: sdk
	@git diff --exit-code --stat -- sdk || { echo "sdk: the SDKs are stale: run make sdk and commit"; exit 1; }
	@! git status --porcelain -- sdk | grep '^??' || { echo "sdk: untracked generated files"; exit 1; }
	@$(NPX)/tsc -p sdk/ts --noEmit
	@$(NPX)/tsc -p sdk/ts/test
	@echo "sdk: sdk/go and sdk/ts regenerate byte for byte; sdk/ts type-checks with its smoke flow"

## sdk-smoke: each SDK against a fresh demo server: sign in, mint a key, list sent cases, create a
## case, read it back, find it, and a 404 decoded as the error envelope.
sdk-smoke: build node_modules
	$(GO) run ./cmd/devdb -ephemeral -- scripts/sdk-smoke.sh
