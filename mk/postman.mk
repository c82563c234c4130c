# Our own Postman collection: postman/collection.json and environment.json are generated
# from the contract by internal/tools/postmangen (make generate runs postman-generate) and
# committed; the portal serves them. make newman runs them against a fresh demo server with no
# allow-list; make newman-reference runs the published CaseXchange collection as a compatibility
# gate where ../shared/reference exists.
.PHONY: postman-generate newman newman-reference

## postman-generate: postman/collection.json and postman/environment.json from the contract.
postman-generate:
	$(GO) run ./internal/tools/postmangen -spec $(SPEC) -out postman

## newman: our own collection (every operation of the contract, in workflow order) against a fresh
## server with demo data; every assertion must pass. Summary line `newman: N requests, M assertions, 0 failed`.
newman: node_modules build
	$(GO) run ./cmd/devdb -ephemeral -- scripts/newman.sh

## newman-reference: the published CaseXchange collection against a fresh server with demo data
## (test/newman: folders.txt, allowlist.json); skips, saying so, when ../shared/reference is absent.
newman-reference: node_modules build
	$(GO) run ./cmd/devdb -ephemeral -- scripts/newman-reference.sh
