package webhooks_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
)

// TestContractDescribesEveryEvent checks the contract's webhook catalogue against the code: one
// x-webhooks entry per event type (and webhook.test), the WebhookEvent union mapping each type to
// the same schema, the WebhookEventType enum listing the same types, and every example
// matching its schema.
func TestContractDescribesEveryEvent(t *testing.T) {
	t.Parallel()
	s, err := webhookstest.LoadSchemas()
	require.NoError(t, err)

	var types []string
	for _, e := range webhooks.EventTypes {
		types = append(types, string(e))
	}
	sort.Strings(types)
	described := keys(s.Refs)
	require.Equal(t, append(append([]string{}, types...), "webhook.test"), sortedWith(described, "webhook.test"),
		"x-webhooks lists every event type and webhook.test")

	union, err := s.Component("WebhookEvent")
	require.NoError(t, err)
	require.NotNil(t, union.Value.Discriminator, "WebhookEvent is a union told apart by event")
	require.Equal(t, "event", union.Value.Discriminator.PropertyName)
	mapped := map[string]string{}
	for e, ref := range union.Value.Discriminator.Mapping {
		mapped[e] = ref.Ref
	}
	require.Equal(t, types, keys(mapped))
	var members []string
	for _, m := range union.Value.OneOf {
		members = append(members, m.Ref)
	}
	var targets []string
	for _, e := range types {
		require.Equal(t, s.Refs[e], mapped[e], "x-webhooks and the union agree on %s", e)
		targets = append(targets, mapped[e])
	}
	sort.Strings(members)
	sort.Strings(targets)
	require.Equal(t, targets, members, "the union's members are the mapped schemas")

	enum, err := s.Component("WebhookEventType")
	require.NoError(t, err)
	var listed []string
	for _, v := range enum.Value.Enum {
		listed = append(listed, v.(string))
	}
	sort.Strings(listed)
	require.Equal(t, types, listed, "WebhookEventType lists the event types")

	for _, e := range append(types, "webhook.test") {
		ex := s.ByEvent[e].Value.Example
		require.NotNil(t, ex, "%s has an example", e)
		got, err := s.ValidateValue(ex)
		require.NoError(t, err, "the example of %s", e)
		require.Equal(t, e, got, "the example of %s names its event", e)
		for name, ex := range s.Examples[e] {
			got, err := s.ValidateValue(ex)
			require.NoError(t, err, "example %s of %s", name, e)
			require.Equal(t, e, got)
		}
	}
}

// TestPayloadsMatchTheContract builds the body of every event type for each recipient (masked
// or not) and validates it against the contract, including the types no domain sends yet.
func TestPayloadsMatchTheContract(t *testing.T) {
	t.Parallel()
	s, err := webhookstest.LoadSchemas()
	require.NoError(t, err)
	// Each type in the states it is really sent in (a referral is acknowledged only after it was
	// sent, a rejected one is rejected...).
	sent := func(typ webhooks.EventType) eventOpts { return eventOpts{Type: typ, Status: "sent"} }
	draft := func(typ webhooks.EventType) eventOpts { return eventOpts{Type: typ, Status: "draft", NoReferent: true} }
	working := func(typ webhooks.EventType, status string, public bool) eventOpts {
		return eventOpts{Type: typ, Status: status, Acknowledged: true, DocPublic: public}
	}
	var states []eventOpts
	for _, typ := range []webhooks.EventType{webhooks.EventCaseCreated, webhooks.EventCaseUpdated, webhooks.EventCaseDeleted} {
		states = append(states, draft(typ), sent(typ))
	}
	for _, typ := range []webhooks.EventType{webhooks.EventCaseUpdated, webhooks.EventCaseRated, webhooks.EventCaseStatusChanged,
		webhooks.EventNoteCreated, webhooks.EventNoteUpdated, webhooks.EventDocumentUploaded, webhooks.EventDocumentDeleted} {
		states = append(states, working(typ, "investigating", true), working(typ, "signed", false))
	}
	states = append(states, sent(webhooks.EventReferralSent), working(webhooks.EventReferralAccepted, "under_evaluation", false),
		working(webhooks.EventReferralRejected, "rejected", false), eventOpts{Type: webhooks.EventReferralRejected, Status: "rejected"},
		working(webhooks.EventCaseStatusChanged, "withdrawn", false), eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "withdrawn"})
	seen := map[string]bool{}
	for _, o := range states {
		ev := fixtureEvent(o)
		for _, r := range webhooks.Recipients(ev) {
			body, err := webhooks.Payload(ev, r)
			require.NoError(t, err)
			got, err := s.Validate(body)
			require.NoError(t, err, "%s (%s) to %s (masked %v): %s", o.Type, o.Status, r.Perspective, r.Masked, body)
			seen[got+map[bool]string{true: " masked"}[r.Masked]] = true
		}
	}
	for _, typ := range webhooks.EventTypes {
		require.True(t, typ.IsFee() || seen[string(typ)] || seen[string(typ)+" masked"], "covered: %s", typ)
	}
	for _, want := range []string{"case.status_changed masked", "referral.received masked", "referral.rejected masked"} {
		require.True(t, seen[want], "covered: %s", want)
	}
}

// TestSchemaValidatorCatchesDrift makes sure the receivers' check fails on each kind of drift.
func TestSchemaValidatorCatchesDrift(t *testing.T) {
	t.Parallel()
	s, err := webhookstest.LoadSchemas()
	require.NoError(t, err)
	ev := fixtureEvent(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "investigating", Acknowledged: true})
	rs := webhooks.Recipients(ev)
	require.Len(t, rs, 2)
	body, err := webhooks.Payload(ev, rs[1])
	require.NoError(t, err)
	_, err = s.Validate(body)
	require.NoError(t, err)

	edit := func(fn func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		fn(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	data := func(m map[string]any) map[string]any { return m["data"].(map[string]any) }
	for name, c := range map[string]struct {
		body []byte
		want string
	}{
		"a field the contract does not declare": {edit(func(m map[string]any) { data(m)["case"].(map[string]any)["clientSsn"] = "x" }), ".data.case.clientSsn"},
		"a required field missing":              {edit(func(m map[string]any) { delete(data(m), "changedAt") }), "changedAt"},
		"a field of the wrong type":             {edit(func(m map[string]any) { m["isTestCase"] = "no" }), "isTestCase"},
		"masked flag without masked data":       {edit(func(m map[string]any) { m["piiMasked"] = true }), "piiMasked true"},
		"an event the contract does not know":   {edit(func(m map[string]any) { m["event"] = "case.exploded" }), "not described"},
		"a date that is not a date":             {edit(func(m map[string]any) { data(m)["changedAt"] = "yesterday" }), "changedAt"},
	} {
		_, err := s.Validate(c.body)
		require.Error(t, err, name)
		require.True(t, strings.Contains(err.Error(), c.want), "%s: %v", name, err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sortedWith returns list sorted, with last moved to the end.
func sortedWith(list []string, last string) []string {
	var out []string
	for _, e := range list {
		if e != last {
			out = append(out, e)
		}
	}
	sort.Strings(out)
	return append(out, last)
}
