## golangci: golangci-lint (pinned in tools/lint.mod) with the depguard layering rules of
## .golangci.yaml, plus vet and gofmt. Part of make lint.
.PHONY: golangci
golangci:
	@out=$$($(GO) tool -modfile=tools/lint.mod golangci-lint run ./... 2>&1); status=$$?; \
	  if [ $$status -ne 0 ]; then echo "$$out"; echo "golangci-lint: issues found"; exit $$status; fi; \
	  echo "golangci-lint: 0 issues (depguard, govet, errcheck, staticcheck, ineffassign, unused, gofmt)"
