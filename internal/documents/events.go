package documents

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/webhooks"
)

// This file turns document changes into webhook events: document.uploaded and
// document.deleted, recorded through the outbox in the transaction that writes or removes the
// row. The webhooks package decides who receives each event (the owner always for what it may
// see; a receiving firm once it acknowledged, while its referral is worked and not closed, and
// only for documents it may see).
//
// An event names one referral, but a case may have several. A document fact therefore becomes
// one event per referral of the case that names a receiving firm, all sharing one event id
// (one fact). The owner is a recipient of each of them, so to tell it once the events are cut
// down to those that reach a receiving firm (or to a single one when none does), and every copy
// but the latest leaves the owner out (SkipReferringFirm), so that each subscribed firm hears
// of the fact exactly once however many receiving firms do.

// Webhooks records webhook events inside the caller's transaction (*webhooks.Service).
type Webhooks interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, ev webhooks.Event) error
}

// Option configures a Service.
type Option func(*Service)

// WithWebhooks makes the service record document.uploaded and document.deleted. Without it no
// webhook is sent for documents.
func WithWebhooks(w Webhooks) Option { return func(s *Service) { s.webhooks = w } }

// uploadedTx records document.uploaded for d, written in tx by actor.
func (s *Service) uploadedTx(ctx context.Context, tx pgx.Tx, actor auth.Actor, d Document) error {
	data := &webhooks.DocumentData{
		ID: d.ID, CaseID: d.CaseID, FileName: d.FileName, MimeType: d.MimeType, SizeBytes: d.SizeBytes,
		Description: d.Description, IsPublic: d.IsPublic, UploadedByFirmID: d.UploadedByFirmID, CreatedAt: d.CreatedAt,
	}
	return s.documentEventTx(ctx, tx, actor, webhooks.Event{
		Type: webhooks.EventDocumentUploaded, OccurredAt: d.CreatedAt, Document: data,
	}, d.CaseID, d.UploadedByFirmID)
}

// deletedTx records document.deleted for d, removed in tx by actor at.
func (s *Service) deletedTx(ctx context.Context, tx pgx.Tx, actor auth.Actor, d db.Document, at time.Time) error {
	data := &webhooks.DocumentTombstone{
		ID: d.ID, CaseID: d.BaseCaseID, FileName: d.FileName, DeletedAt: at,
		IsPublic: d.IsPublic, UploadedByFirmID: d.UploadedByFirmID,
	}
	return s.documentEventTx(ctx, tx, actor, webhooks.Event{
		Type: webhooks.EventDocumentDeleted, OccurredAt: at, DocumentTombstone: data,
	}, d.BaseCaseID, d.UploadedByFirmID)
}

// documentEventTx fills ev with the parties of case caseID and records it once per referral
// that needs it (documentEvents).
func (s *Service) documentEventTx(ctx context.Context, tx pgx.Tx, actor auth.Actor, ev webhooks.Event, caseID, uploader uuid.UUID) error {
	if s.webhooks == nil {
		return nil
	}
	q := db.New(tx)
	cases, err := q.BaseCaseGetByIDs(ctx, []uuid.UUID{caseID})
	if err != nil {
		return fmt.Errorf("documents: load case for webhook: %w", postgres.InterpretError(err))
	}
	if len(cases) == 0 {
		return fmt.Errorf("documents: case %s vanished inside its transaction", caseID)
	}
	c := cases[0]
	refs, err := q.ReferralListByCases(ctx, []uuid.UUID{caseID})
	if err != nil {
		return fmt.Errorf("documents: load referrals for webhook: %w", postgres.InterpretError(err))
	}
	firm := actor.FirmID
	ev.ID = uuid.New() // one fact, shared by every copy
	ev.Actor = webhooks.EventActor{FirmID: &firm, Source: sourceOf(actor)}
	ev.BaseCaseID, ev.ReferenceNumber, ev.IsTestCase = c.BaseCase.ID, c.BaseCase.ReferenceNumber, c.BaseCase.IsTestCase
	ev.ReferringFirm = webhooks.Firm{ID: c.BaseCase.OwnerFirmID, Name: c.OwnerFirmName}
	ev.Status = "draft"
	for _, e := range documentEvents(ev, uploader, refs) {
		if err := s.webhooks.EnqueueTx(ctx, tx, e); err != nil {
			return fmt.Errorf("documents: record %s webhook: %w", e.Type, err)
		}
	}
	return nil
}

// sourceOf is the actor source of webhook envelopes: "manual" for a signed-in user, "api" for an
// API key.
func sourceOf(a auth.Actor) string {
	if a.KeyID == nil && a.UserID != nil {
		return "manual"
	}
	return "api"
}

// documentEvents turns base (the case-level event: owner as referring firm, no referral) into
// the events to record for a case with referrals refs (in sequence order), for a document
// uploaded by firm uploader:
//
//   - a case no referral of which names a receiving firm gets base alone (the owner hears it);
//   - otherwise each such referral gets a copy naming it, except that a receiving firm's
//     document concerns only its own referrals (receiving firms never see each other's);
//   - copies whose receiving firm would not hear of it are dropped, since they would only tell
//     the owner again; when no copy reaches a receiving firm, the latest one is kept for the
//     owner;
//   - of several copies, only the latest goes to the owner as well.
func documentEvents(base webhooks.Event, uploader uuid.UUID, refs []db.ReferralListByCasesRow) []webhooks.Event {
	var all []webhooks.Event
	for _, r := range refs {
		if r.Referral.ReferentFirmID == nil {
			continue
		}
		if uploader != base.ReferringFirm.ID && *r.Referral.ReferentFirmID != uploader {
			continue
		}
		all = append(all, withReferral(base, r))
	}
	if len(all) == 0 {
		return []webhooks.Event{base}
	}
	var reaching []webhooks.Event
	for _, ev := range all {
		if reachesReferent(ev) {
			reaching = append(reaching, ev)
		}
	}
	if len(reaching) == 0 {
		return all[len(all)-1:]
	}
	for i := range reaching[:len(reaching)-1] {
		reaching[i].SkipReferringFirm = true
	}
	return reaching
}

// withReferral is base naming referral r: its number, parties, status and acknowledgment.
func withReferral(base webhooks.Event, r db.ReferralListByCasesRow) webhooks.Event {
	ev := base
	id := r.Referral.ID
	ev.ReferralID, ev.ReferenceNumber = &id, r.Referral.ReferenceNumber
	ev.Status, ev.Acknowledged = r.Referral.Status, r.Referral.AcknowledgedAt != nil
	ev.ReferringFirm = webhooks.Firm{ID: r.Referral.ReferringFirmID, Name: r.ReferringFirmName}
	f := webhooks.Firm{ID: *r.Referral.ReferentFirmID}
	if r.ReferentFirmName != nil {
		f.Name = *r.ReferentFirmName
	}
	ev.ReferentFirm = &f
	return ev
}

// reachesReferent reports whether the receiving firm of ev is among its recipients.
func reachesReferent(ev webhooks.Event) bool {
	for _, r := range webhooks.Recipients(ev) {
		if r.FirmID == ev.ReferentFirm.ID {
			return true
		}
	}
	return false
}
