# Release archives: static binaries for linux and darwin on amd64 and arm64, each in a tarball
# with the licence, the changelog and the settings table, plus SHA256SUMS. Not part of test.
# VERSION, REVISION and LDFLAGS come from the Makefile (git describe, the commit).
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= dist
RELEASE_FILES := LICENSE README.md CHANGELOG.md docs/configuration.md

.PHONY: release

## release: cross-build $(RELEASE_PLATFORMS) into $(DIST)/casexchange-VERSION-OS-ARCH.tar.gz with SHA256SUMS.
release:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@set -euo pipefail; epoch=$$(git log -1 --format=%ct 2>/dev/null || date +%s); \
	for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=casexchange-$(VERSION)-$$os-$$arch; stage=$(DIST)/.stage/$$name; \
	  mkdir -p $$stage/docs; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$stage/casexchange ./cmd/casexchange; \
	  for f in $(RELEASE_FILES); do cp $$f $$stage/$$f; done; \
	  tar --sort=name --mtime=@$$epoch --owner=0 --group=0 --numeric-owner -C $(DIST)/.stage -cf - $$name | gzip -n -9 > $(DIST)/$$name.tar.gz; \
	  echo "built $(DIST)/$$name.tar.gz"; \
	done; \
	rm -rf $(DIST)/.stage; \
	cd $(DIST) && sha256sum casexchange-*.tar.gz > SHA256SUMS && sha256sum --quiet -c SHA256SUMS; \
	echo "release: $$(ls casexchange-*.tar.gz | wc -l) tarballs of $(VERSION) in $(DIST)/, SHA256SUMS verified"
