package webhooks_test

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/webhooks"
)

// eventOpts describe a fixture event; every field has a default.
type eventOpts struct {
	Type         webhooks.EventType
	Status       string
	Acknowledged bool
	NoReferent   bool
	NoteAuthor   *uuid.UUID
	DocPublic    bool
	DocUploader  *uuid.UUID
	SkipSender   bool
}

var (
	senderFirm   = webhooks.Firm{ID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), Name: "Harbor Law"}
	receiverFirm = webhooks.Firm{ID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), Name: "Summit Injury"}
)

func strp(s string) *string { return &s }

// snapshot is a full case snapshot with client details, for sender and receiver given.
func snapshot(sender, receiver webhooks.Firm, status string) webhooks.CaseSnapshot {
	refID, caseID := uuid.New(), uuid.New()
	seq := 1
	tier := 3
	dob := time.Date(1980, 3, 4, 0, 0, 0, 0, time.UTC)
	sent := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	fee := 0.33
	return webhooks.CaseSnapshot{
		ID: refID, BaseCaseID: caseID, ReferenceNumber: "CX-7KD2Q-1", SequenceNumber: &seq,
		Title: "Okafor - rear-end collision", Description: strp("Struck from behind at a light"), Status: status,
		CaseType: "Motor Vehicle Accident", Jurisdiction: "NY", County: strp("Kings"),
		ClientFirstName: strp("Ada"), ClientLastName: strp("Okafor"), ClientEmail: strp("ada@example.test"),
		ClientPhone: strp("+1 212 555 0100"), ClientDateOfBirth: webhooks.DateOf(&dob), IncidentDate: webhooks.DateOf(&sent),
		Notes: strp("Client has photos"), RatedTier: &tier, ClientFeeAgreementPercentage: &fee,
		ReferringFirmID: sender.ID, ReferringFirmName: sender.Name, ReferentFirmID: &receiver.ID,
		ReferentFirmName: &receiver.Name, SentDate: &sent, CreatedAt: sent, UpdatedAt: sent,
		CMSID: strp("006SF1"), SalesforceID: strp("006SF1"), SalesforceObjectType: strp("Opportunity"),
	}
}

func fixtureEvent(o eventOpts) webhooks.Event {
	if o.Status == "" {
		o.Status = "sent"
	}
	snap := snapshot(senderFirm, receiverFirm, o.Status)
	referent := &receiverFirm
	if o.NoReferent {
		referent = nil
		snap.ReferentFirmID, snap.ReferentFirmName = nil, nil
	}
	ev := webhooks.Event{
		Type: o.Type, Actor: webhooks.EventActor{FirmID: &senderFirm.ID, Source: "api"},
		ReferralID: &snap.ID, BaseCaseID: snap.BaseCaseID, ReferenceNumber: snap.ReferenceNumber,
		ReferringFirm: senderFirm, ReferentFirm: referent, Status: o.Status, Acknowledged: o.Acknowledged,
		SkipReferringFirm: o.SkipSender,
	}
	prev := "draft"
	switch o.Type {
	case webhooks.EventCaseCreated, webhooks.EventCaseUpdated:
		ev.Case = &snap
		ev.ChangedFields = []string{"title"}
	case webhooks.EventCaseDeleted:
		ev.CaseTombstone = &webhooks.CaseTombstone{ID: snap.ID, BaseCaseID: snap.BaseCaseID, ReferenceNumber: snap.ReferenceNumber}
	case webhooks.EventCaseRated:
		ev.Rating = &webhooks.CaseRatingData{RatedTier: snap.RatedTier, Case: snap}
	case webhooks.EventNoteCreated, webhooks.EventNoteUpdated:
		author := senderFirm.ID
		if o.NoteAuthor != nil {
			author = *o.NoteAuthor
		}
		ev.Note = &webhooks.NoteData{ID: uuid.New(), ReferralID: snap.ID, BaseCaseID: snap.BaseCaseID, Message: "Call me", AuthorFirmID: &author, Source: "api"}
	case webhooks.EventDocumentUploaded:
		up := senderFirm.ID
		if o.DocUploader != nil {
			up = *o.DocUploader
		}
		ev.Document = &webhooks.DocumentData{ID: uuid.New(), CaseID: snap.BaseCaseID, FileName: "x.pdf", MimeType: "application/pdf", IsPublic: o.DocPublic, UploadedByFirmID: up}
	case webhooks.EventDocumentDeleted:
		up := senderFirm.ID
		if o.DocUploader != nil {
			up = *o.DocUploader
		}
		ev.DocumentTombstone = &webhooks.DocumentTombstone{ID: uuid.New(), CaseID: snap.BaseCaseID, FileName: "x.pdf", IsPublic: o.DocPublic, UploadedByFirmID: up}
	default:
		ev.StatusChange = &webhooks.StatusChangeData{PreviousStatus: &prev, Status: o.Status, Message: strp("Client prefers mornings"),
			ClosureReason: strp("Conflict with Okafor family"), ChangedAt: time.Now(), Case: snap}
	}
	return ev
}

type got struct {
	typ    webhooks.EventType
	masked bool
}

func recipients(ev webhooks.Event) map[uuid.UUID]got {
	out := map[uuid.UUID]got{}
	for _, r := range webhooks.Recipients(ev) {
		out[r.FirmID] = got{r.Type, r.Masked}
		want := webhooks.PerspectiveSent
		if r.FirmID == receiverFirm.ID {
			want = webhooks.PerspectiveReceived
		}
		if r.Perspective != want {
			panic("wrong perspective")
		}
	}
	return out
}

func TestRecipients(t *testing.T) {
	t.Parallel()
	other := receiverFirm.ID
	mine := senderFirm.ID
	cases := []struct {
		name string
		ev   eventOpts
		want map[uuid.UUID]got
	}{
		{"a sent referral reaches the sender as sent and the receiver masked as received",
			eventOpts{Type: webhooks.EventReferralSent, Status: "sent"},
			map[uuid.UUID]got{mine: {webhooks.EventReferralSent, false}, other: {webhooks.EventReferralReceived, true}}},
		{"acknowledging unmasks the acknowledging receiver",
			eventOpts{Type: webhooks.EventReferralAccepted, Status: "under_evaluation", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventReferralAccepted, false}, other: {webhooks.EventReferralAccepted, false}}},
		{"a rejection before acknowledgment stays masked",
			eventOpts{Type: webhooks.EventReferralRejected, Status: "rejected"},
			map[uuid.UUID]got{mine: {webhooks.EventReferralRejected, false}, other: {webhooks.EventReferralRejected, true}}},
		{"a withdrawal before acknowledgment stays masked",
			eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "withdrawn"},
			map[uuid.UUID]got{mine: {webhooks.EventCaseStatusChanged, false}, other: {webhooks.EventCaseStatusChanged, true}}},
		{"a rejection after acknowledgment masks the receiver again",
			eventOpts{Type: webhooks.EventReferralRejected, Status: "rejected", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventReferralRejected, false}, other: {webhooks.EventReferralRejected, true}}},
		{"a withdrawal after acknowledgment masks the receiver again",
			eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "withdrawn", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseStatusChanged, false}, other: {webhooks.EventCaseStatusChanged, true}}},
		{"closing after acknowledgment stays unmasked",
			eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "closed", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseStatusChanged, false}, other: {webhooks.EventCaseStatusChanged, false}}},
		{"a status change after acknowledgment is unmasked",
			eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "signed", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseStatusChanged, false}, other: {webhooks.EventCaseStatusChanged, false}}},
		{"case updates skip an unacknowledged receiver",
			eventOpts{Type: webhooks.EventCaseUpdated, Status: "sent"},
			map[uuid.UUID]got{mine: {webhooks.EventCaseUpdated, false}}},
		{"case updates reach an acknowledged receiver in a working status",
			eventOpts{Type: webhooks.EventCaseUpdated, Status: "investigating", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseUpdated, false}, other: {webhooks.EventCaseUpdated, false}}},
		{"case updates skip a receiver that rejected after acknowledging",
			eventOpts{Type: webhooks.EventCaseUpdated, Status: "rejected", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseUpdated, false}}},
		{"the sender's notes reach an acknowledged receiver",
			eventOpts{Type: webhooks.EventNoteCreated, Status: "signed", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventNoteCreated, false}, other: {webhooks.EventNoteCreated, false}}},
		{"the receiver's own notes reach only the sender",
			eventOpts{Type: webhooks.EventNoteCreated, Status: "signed", Acknowledged: true, NoteAuthor: &other},
			map[uuid.UUID]got{mine: {webhooks.EventNoteCreated, false}}},
		{"notes skip an unacknowledged receiver",
			eventOpts{Type: webhooks.EventNoteCreated, Status: "sent"},
			map[uuid.UUID]got{mine: {webhooks.EventNoteCreated, false}}},
		{"public documents reach an acknowledged receiver",
			eventOpts{Type: webhooks.EventDocumentUploaded, Status: "closing", Acknowledged: true, DocPublic: true},
			map[uuid.UUID]got{mine: {webhooks.EventDocumentUploaded, false}, other: {webhooks.EventDocumentUploaded, false}}},
		{"documents stop at closed",
			eventOpts{Type: webhooks.EventDocumentUploaded, Status: "closed", Acknowledged: true, DocPublic: true},
			map[uuid.UUID]got{mine: {webhooks.EventDocumentUploaded, false}}},
		{"private documents reach only the uploader",
			eventOpts{Type: webhooks.EventDocumentDeleted, Status: "signed", Acknowledged: true, DocUploader: &other},
			map[uuid.UUID]got{other: {webhooks.EventDocumentDeleted, false}}},
		{"case creation, deletion and rating go to the sender only",
			eventOpts{Type: webhooks.EventCaseRated, Status: "signed", Acknowledged: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseRated, false}}},
		{"a copy that skips the referring firm reaches the receiver only",
			eventOpts{Type: webhooks.EventDocumentUploaded, Status: "signed", Acknowledged: true, DocPublic: true, SkipSender: true},
			map[uuid.UUID]got{other: {webhooks.EventDocumentUploaded, false}}},
		{"a copy that skips the referring firm and not the receiver reaches no one",
			eventOpts{Type: webhooks.EventDocumentUploaded, Status: "sent", DocPublic: true, SkipSender: true},
			map[uuid.UUID]got{}},
		{"a case never referred has only the sender",
			eventOpts{Type: webhooks.EventCaseCreated, Status: "draft", NoReferent: true},
			map[uuid.UUID]got{mine: {webhooks.EventCaseCreated, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, recipients(fixtureEvent(tc.ev)))
		})
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()

	decode := func(t *testing.T, b []byte) map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	keys := func(m map[string]any) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}

	t.Run("the envelope carries the fact, the recipient and the perspective", func(t *testing.T) {
		t.Parallel()
		ev := fixtureEvent(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "signed", Acknowledged: true})
		ev.ID = uuid.New()
		ev.OccurredAt = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
		rs := webhooks.Recipients(ev)
		require.Len(t, rs, 2)
		m := decode(t, must(webhooks.Payload(ev, rs[1])))
		require.Equal(t, []string{"actor", "baseCaseId", "data", "event", "eventId", "isTestCase", "occurredAt", "perspective",
			"piiMasked", "recipientFirmId", "referenceNumber", "referentFirm", "referralId", "referringFirm", "schemaVersion"}, keys(m))
		require.EqualValues(t, 1, m["schemaVersion"])
		require.Equal(t, "case.status_changed", m["event"])
		require.Equal(t, ev.ID.String(), m["eventId"])
		require.Equal(t, "2026-05-04T15:00:00Z", m["occurredAt"])
		require.Equal(t, "received", m["perspective"])
		require.Equal(t, false, m["piiMasked"])
		require.Equal(t, receiverFirm.ID.String(), m["recipientFirmId"])
		require.Equal(t, map[string]any{"id": senderFirm.ID.String(), "name": "Harbor Law"}, m["referringFirm"])
		require.Equal(t, map[string]any{"firmId": senderFirm.ID.String(), "source": "api"}, m["actor"])
		data := m["data"].(map[string]any)
		require.Equal(t, "Client prefers mornings", data["message"])
		c := data["case"].(map[string]any)
		require.Equal(t, "Ada", c["clientFirstName"])
		require.Equal(t, "1980-03-04", c["clientDateOfBirth"])
		for _, k := range []string{"tier", "source", "customFields"} {
			require.NotContains(t, c, k)
		}
		for _, k := range []string{"cmsId", "salesforceId", "salesforceObjectType"} {
			require.Contains(t, c, k)
			require.Nil(t, c[k], "the sender's record ids never reach the receiver: %s", k)
		}
		sender := decode(t, must(webhooks.Payload(ev, rs[0])))["data"].(map[string]any)["case"].(map[string]any)
		require.Equal(t, "006SF1", sender["salesforceId"], "the referring firm keeps its own")
		require.Equal(t, "006SF1", *ev.StatusChange.Case.SalesforceID, "the event itself is left as it was")
	})
	t.Run("a masked status event has no message and exactly the 14 masked case keys", func(t *testing.T) {
		t.Parallel()
		ev := fixtureEvent(eventOpts{Type: webhooks.EventReferralSent, Status: "sent"})
		rs := webhooks.Recipients(ev)
		require.True(t, rs[1].Masked)
		m := decode(t, must(webhooks.Payload(ev, rs[1])))
		require.Equal(t, "referral.received", m["event"])
		require.Equal(t, true, m["piiMasked"])
		data := m["data"].(map[string]any)
		require.Nil(t, data["message"])
		require.Nil(t, data["closureReason"])
		require.Equal(t, []string{"baseCaseId", "caseType", "closingStatus", "county", "createdAt", "id", "isRetainerSigned",
			"jurisdiction", "referenceNumber", "referentFirmId", "referringFirmId", "sentDate", "status", "updatedAt"},
			keys(data["case"].(map[string]any)))
	})
	t.Run("changedFields appears on case.updated and note.updated only", func(t *testing.T) {
		t.Parallel()
		ev := fixtureEvent(eventOpts{Type: webhooks.EventCaseUpdated, Status: "signed", Acknowledged: true})
		m := decode(t, must(webhooks.Payload(ev, webhooks.Recipients(ev)[0])))
		require.Equal(t, []any{"title"}, m["changedFields"])
		ev = fixtureEvent(eventOpts{Type: webhooks.EventCaseCreated, Status: "draft", NoReferent: true})
		m = decode(t, must(webhooks.Payload(ev, webhooks.Recipients(ev)[0])))
		require.NotContains(t, m, "changedFields")
		require.Nil(t, m["referentFirm"])
	})
	t.Run("an event without its data is refused", func(t *testing.T) {
		t.Parallel()
		ev := fixtureEvent(eventOpts{Type: webhooks.EventCaseStatusChanged})
		ev.StatusChange = nil
		_, err := webhooks.Payload(ev, webhooks.Recipient{FirmID: senderFirm.ID, Type: ev.Type})
		require.Error(t, err)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
