# Container image: Containerfile around the static binary of `make build`.
# podman settings for sandboxed machines live in deploy/image/containers.conf; point
# CONTAINERS_CONF elsewhere (or at /etc/containers/containers.conf) to use your own.

.PHONY: image image-test

IMAGE ?= casexchange:dev
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_SOURCE ?= https://github.com/casexchange/server
CONTAINERS_CONF ?= $(CURDIR)/deploy/image/containers.conf
PODMAN ?= CONTAINERS_CONF=$(CONTAINERS_CONF) podman
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

## image: build $(IMAGE) with podman from the static binary, the build machine's CA bundle and
## the non-root user of deploy/image (OCI labels: version from git describe, revision, source).
## --no-cache: podman 4.3 reuses cached layers when only a build argument (a label) changed.
image: build
	@test -r $(CA_BUNDLE) || (echo "image: no CA bundle at $(CA_BUNDLE) (apt-get install ca-certificates)" && exit 1)
	@mkdir -p bin/image/data && cp $(CA_BUNDLE) bin/image/ca-certificates.crt
	$(PODMAN) build --quiet --no-cache -f Containerfile -t $(IMAGE) \
		--build-arg VERSION=$(IMAGE_VERSION) --build-arg REVISION=$(IMAGE_REVISION) \
		--build-arg SOURCE=$(IMAGE_SOURCE) --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) .

## image-test: run $(IMAGE) against a fresh PostgreSQL database (migrate, keys create, serve:
## /health and one Public API call); where podman cannot run containers it says so and checks the
## image's contents instead. Summary line `image: ...`.
image-test: image
	CX_IMAGE=$(IMAGE) CONTAINERS_CONF=$(CONTAINERS_CONF) CX_TEST_SUMMARY=$(CURDIR)/.image-summary \
		$(GO) run ./cmd/devdb -ephemeral -- $(GO) test -count=1 -timeout 10m ./deploy/imagetest; \
		status=$$?; cat .image-summary 2>/dev/null; rm -f .image-summary; exit $$status
