# Benchmark binaries and the sustained memory run. `make bench` itself is in the Makefile.

.PHONY: bench-bin bench-sustained

## bench-bin: build the limit server and the load driver of make bench.
bench-bin:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench-limit ./bench/limit
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench-load ./bench/load

## bench-sustained: measure the peak of a mixed read workload on the BENCH_SCALE dataset, then offer 70% of it for
## BENCH_SUSTAIN, sampling our RSS every second; writes bench/results/sustained.{md,json,svg} and refreshes the
## targets of results.md. Same BENCH_DATA/BENCH_DB/BENCH_OUT knobs as make bench.
BENCH_SUSTAIN ?= 5m
bench-sustained: build bench-bin
	$(GO) run ./cmd/devdb $(BENCH_DEVDB) -- bin/bench-load $(BENCH_FLAGS) -sustain $(BENCH_SUSTAIN)
