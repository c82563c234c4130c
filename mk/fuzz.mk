# Short coverage-guided runs of every go test fuzz target, so make test finds new crashers; see
# scripts/fuzz-targets.sh. Longer runs: make fuzz FUZZTIME=1m FUZZTIME_DB=5m.
FUZZTIME ?= 4s
FUZZTIME_DB ?= 30s
FUZZ_DB ?= 1

.PHONY: fuzz

## fuzz: every FuzzXxx target for FUZZTIME (database targets FUZZTIME_DB); new failing inputs fail the step.
fuzz:
	@FUZZTIME=$(FUZZTIME) FUZZTIME_DB=$(FUZZTIME_DB) FUZZ_DB=$(FUZZ_DB) GO=$(GO) bash scripts/fuzz-targets.sh
