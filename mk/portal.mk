# Developer portal: the API reference rendered from the contract, the lifecycle picture
# generated from the transition table, the changelog copied in. `make generate` runs portal-generate;
# `make verify` fails when the committed files differ from a regeneration.
.PHONY: portal-generate portal-reference portal-lifecycle

PORTAL_SITE := internal/portal/site
## EXAMPLES: the recorded request and response examples merged into the reference (make examples).
EXAMPLES := api-reference/examples.json

## portal-generate: every generated file of the portal.
portal-generate: portal-lifecycle portal-reference
	@if [ -f CHANGELOG.md ]; then cp CHANGELOG.md $(PORTAL_SITE)/CHANGELOG.md; fi

## portal-lifecycle: the referral state machine as SVG, from internal/referrals.Rules.
portal-lifecycle:
	$(GO) run ./internal/tools/lifecyclesvg -o $(PORTAL_SITE)/lifecycle.svg

## portal-reference: the contract, with each operation's tier stated, rendered by redocly with its
## scripts inlined (no CDN); redocly's output is deterministic for the same input.
portal-reference: node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) run ./internal/tools/portalspec -examples $(EXAMPLES) $(SPEC) > "$$tmp/spec.yml" && \
	  $(NPX)/redocly build-docs "$$tmp/spec.yml" --inlineBundle --title "CaseXchange API reference" \
	    -o $(PORTAL_SITE)/reference.html > "$$tmp/redocly.log" 2>&1 || { cat "$$tmp/redocly.log"; exit 1; }
	@# No request may leave the server: the logo becomes an empty inline image, the telemetry
	@# endpoint a same-origin sink that discards what it gets.
	@sed -i -e "s|https://cdn.redoc.ly/redoc/logo-mini-full.svg|data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E|g" \
	  -e "s|https://cdn.redoc.ly/redoc/logo-mini.svg|data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E|g" \
	  -e "s|https://otel.cloud.redocly.com/v1/traces|/docs/_discard|g" $(PORTAL_SITE)/reference.html
	@! grep -o 'https://cdn\.redoc\.ly[^`]*\|https://otel\.[a-z.]*' $(PORTAL_SITE)/reference.html || { echo "portal-reference: external URL left in reference.html"; exit 1; }
	@echo "portal-reference: $$(wc -c < $(PORTAL_SITE)/reference.html) bytes"

.PHONY: portal-quickstart
## portal-quickstart: the quickstart guide's commands, run as written against a fresh demo server.
portal-quickstart: build
	$(GO) run ./cmd/devdb -ephemeral -- scripts/portal-quickstart.sh
