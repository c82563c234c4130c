## portman: contract and variation tests generated from our spec with portman, run with newman
## against a fresh server with demo data (test/portman, scripts/portman.sh).
.PHONY: portman
portman: node_modules build
	$(GO) run ./cmd/devdb -ephemeral -- scripts/portman.sh
