# Helm chart: lint, render and validate offline. Helm is pinned as a Go tool in
# tools/helm.mod (the first run builds it, about 2.5 minutes on a cold cache); deploy/kubecheck
# decodes every rendered manifest strictly into the k8s.io/api types (its own module, so the
# server's go.mod stays free of Kubernetes).

.PHONY: chart

HELM ?= $(GO) tool -modfile=$(CURDIR)/tools/helm.mod helm
CHART := deploy/helm/casexchange
CHART_OUT := .data/chart
# Each values set is linted, rendered and validated: defaults, every option on, one local node.
CHART_VALUES := default all-on local

## chart: helm lint and helm template with each values set of $(CHART)/ci, then validate every
## rendered manifest against the Kubernetes types. Summary line `chart: ...`.
chart:
	@mkdir -p $(CHART_OUT)
	@set -e; for v in $(CHART_VALUES); do \
	  f=; if [ $$v != default ]; then f="-f $(CHART)/ci/$$v-values.yaml"; fi; \
	  $(HELM) lint --strict --quiet $(CHART) $$f >$(CHART_OUT)/lint-$$v.txt 2>&1 || { cat $(CHART_OUT)/lint-$$v.txt; echo "chart: helm lint failed ($$v)"; exit 1; }; \
	  $(HELM) template casexchange $(CHART) --namespace casexchange $$f >$(CHART_OUT)/$$v.yaml || { echo "chart: helm template failed ($$v)"; exit 1; }; \
	done
	@cd deploy/kubecheck && out=$$($(GO) run . $(foreach v,$(CHART_VALUES),$(v)=$(CURDIR)/$(CHART_OUT)/$(v).yaml)) && \
	  echo "chart: lint ok ($(words $(CHART_VALUES)) values sets), $$out"

.PHONY: migration-compat
## migration-compat: new migrations (since the last tag) do not drop, rename or retype what the
## previous release reads, unless annotated as the contract step of an earlier expand.
migration-compat:
	@bash scripts/migration-compat.sh
