package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
)

func TestFieldTierRule(t *testing.T) {
	t.Parallel()
	r, err := parseFieldTier(map[string]any{"field": "status", "tiers": map[string]any{"closed": "full"}})
	require.NoError(t, err)
	require.Equal(t, "status", r.field)
	require.Equal(t, auth.TierFull, r.tiers["closed"])
	for _, bad := range []any{
		"status",
		map[string]any{"tiers": map[string]any{"closed": "full"}},
		map[string]any{"field": "status"},
		map[string]any{"field": "status", "tiers": map[string]any{"closed": "platinum"}},
	} {
		_, err := parseFieldTier(bad)
		require.Error(t, err, "%v", bad)
	}

	// The rule reads the decoded body by the property's JSON name.
	val, ok := bodyField(api.UpdateCaseStatusRequestObject{Body: &api.UpdateCaseStatusBody{Status: "closed"}}, "status")
	require.True(t, ok)
	require.Equal(t, "closed", val)
	_, ok = bodyField(api.UpdateCaseStatusRequestObject{}, "status")
	require.False(t, ok, "no body")
	_, ok = bodyField(api.UpdateCaseStatusRequestObject{Body: &api.UpdateCaseStatusBody{Status: "closed"}}, "notes")
	require.False(t, ok, "an unset optional property")

	// The spec's rules are the ones the server enforces.
	spec, err := api.GetSpec()
	require.NoError(t, err)
	rules, err := buildFieldTiers(spec)
	require.NoError(t, err)
	require.Contains(t, rules, "UpdateCaseStatus")
	require.Equal(t, auth.TierFull, rules["UpdateCaseStatus"].tiers["closed"])
}
