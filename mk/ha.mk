# High-availability drills: the server binary, HAProxy, MinIO and PostgreSQL run as
# real processes on loopback, driven by internal/tools/hadrill. Each prints one summary line; docs/ha-drills.md
# says what each checks and what was measured.

.PHONY: ha-drills scale-out failover restore-drill hadrill-bin ha-tools

## HA_TOOLS: where the MinIO binary is built once per machine and kept (outside the work tree, so a fresh
## clone on the same machine, such as CI's, reuses it). A cold build takes several minutes.
HA_TOOLS ?= $(HOME)/.cache/casexchange/tools
MINIO_VERSION ?= v0.0.0-20260212201848-7aac2a2c5b7c
MINIO := $(HA_TOOLS)/minio-$(MINIO_VERSION)
HADRILL := bin/hadrill
## HA_FLAGS: extra flags of hadrill, e.g. HA_FLAGS='-duration 2m -work /tmp/drill' (keeps logs and data).
HA_FLAGS ?=

ha-drills: scale-out failover restore-drill

hadrill-bin:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(HADRILL) ./internal/tools/hadrill

ha-tools: $(MINIO)

$(MINIO):
	@echo "ha: building MinIO $(MINIO_VERSION) into $(HA_TOOLS) (once per machine; several minutes on a cold cache)"
	@mkdir -p $(HA_TOOLS)/.build
	GOBIN=$(HA_TOOLS)/.build $(GO) install github.com/minio/minio@$(MINIO_VERSION)
	mv $(HA_TOOLS)/.build/minio $@

## scale-out: three replicas behind HAProxy on one PostgreSQL and MinIO; one is killed (SIGKILL) and restarted
## during a mixed workload.
scale-out: build hadrill-bin ha-tools
	@command -v haproxy >/dev/null || { echo "scale-out: haproxy is not installed (apt-get install haproxy; .ci/run does it)"; exit 1; }
	@$(GO) run ./cmd/devdb -ephemeral -- $(HADRILL) scale-out -minio $(MINIO) $(HA_FLAGS) 2> >(grep -v 'level=INFO' >&2)

## failover: a primary and a synchronous standby; the primary is stopped (immediate) under write load and the
## standby promoted while the server keeps running.
failover: build hadrill-bin
	@$(HADRILL) failover $(HA_FLAGS)

## restore-drill: pg_dump under write load, pg_restore into a fresh database, a server on the copy reads the
## cases, referrals and document bytes back.
restore-drill: build hadrill-bin ha-tools
	@$(GO) run ./cmd/devdb -ephemeral -- $(HADRILL) restore -minio $(MINIO) $(HA_FLAGS) 2> >(grep -v 'level=INFO' >&2)
