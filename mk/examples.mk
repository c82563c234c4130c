# The API reference's examples (issue 17): every operation's request and success response bodies,
# recorded from one walk of our Postman collection on a fresh demo server, written to
# $(EXAMPLES) (committed) and merged by portal-reference into the portal's copy of the contract.
# make test runs examples-check; re-record with make examples after a change to the walk, the
# demo data or a response shape.
.PHONY: examples examples-check

EXAMPLES_RECORDING := .data/examples/recording.json

## examples: re-record $(EXAMPLES) (scripts/newman.sh --record, then examplegen build) and
## regenerate the portal reference. The raw recording holds the run's live keys; it is removed.
examples: node_modules build
	@mkdir -p $(dir $(EXAMPLES_RECORDING))
	$(GO) run ./cmd/devdb -ephemeral -- scripts/newman.sh --record $(CURDIR)/$(EXAMPLES_RECORDING)
	$(GO) run ./internal/tools/examplegen build -spec $(SPEC) -in $(EXAMPLES_RECORDING) -out $(EXAMPLES); \
	  status=$$?; rm -f $(EXAMPLES_RECORDING); exit $$status
	@$(MAKE) --no-print-directory portal-reference

## examples-check: every example of $(EXAMPLES) validates against its operation's request or
## response schema and holds no secret. Summary line `examples: ...`.
examples-check:
	@$(GO) run ./internal/tools/examplegen check -spec $(SPEC) -examples $(EXAMPLES)
