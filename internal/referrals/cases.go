package referrals

import (
	"context"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/ptr"
)

// CreateCaseInput is a new case.
type CreateCaseInput struct {
	Title             string
	Description       *string
	CaseType          string // id, machine name or display name
	Jurisdiction      string // two-letter code
	County            *string
	ClientFirstName   string
	ClientLastName    string
	ClientEmail       *string
	ClientPhone       *string
	ClientDateOfBirth *time.Time
	IncidentDate      *time.Time
	Notes             *string
	Tier              *int
	Source            *string
	// ReferentFirmID sends the case to this firm at once, under the rules of Refer.
	ReferentFirmID       *uuid.UUID
	SentExpirationHours  *int
	IsRetainerSigned     bool
	SalesforceID         *string
	SalesforceObjectType *string
	CustomFields         []CustomFieldInput
	// DraftReferral creates referral #1 as a draft when no ReferentFirmID is given (POST
	// /cases); without it such a case has no referral until it is referred (POST /sent-cases).
	DraftReferral bool
}

// Limits of case fields.
const (
	maxTitle       = 500
	maxDescription = 20000
	maxName        = 200
	maxEmail       = 320
	maxPhone       = 50
	maxNotes       = 10000
	maxSource      = 500
	maxExternalID  = 100
	maxCounty      = 200
)

type fieldChecker struct{ details []apperr.FieldError }

func (f *fieldChecker) add(field, msg string) {
	f.details = append(f.details, apperr.FieldError{Field: field, Message: msg})
}

func (f *fieldChecker) required(field, v string, limit int) {
	switch {
	case strings.TrimSpace(v) == "":
		f.add(field, "is required")
	case utf8.RuneCountInString(v) > limit:
		f.add(field, fmt.Sprintf("must be at most %d characters", limit))
	}
}

func (f *fieldChecker) optional(field string, v *string, limit int) {
	if v != nil && utf8.RuneCountInString(*v) > limit {
		f.add(field, fmt.Sprintf("must be at most %d characters", limit))
	}
}

func (f *fieldChecker) nonBlank(field string, v *string, limit int) {
	if v != nil {
		f.required(field, *v, limit)
	}
}

func (f *fieldChecker) email(field string, v *string) {
	if v == nil {
		return
	}
	if _, err := mail.ParseAddress(*v); err != nil || utf8.RuneCountInString(*v) > maxEmail {
		f.add(field, "must be an e-mail address")
	}
}

func (f *fieldChecker) tier(field string, v *int) {
	if v != nil && (*v < 1 || *v > 5) {
		f.add(field, "must be between 1 and 5")
	}
}

func (f *fieldChecker) err() error {
	if len(f.details) == 0 {
		return nil
	}
	return apperr.Validation("", f.details...)
}

// checkNewCase applies the field rules of a new case and resolves the reference data it names.
// Errors: apperr.ErrValidation listing every field at fault; anything else is a database failure.
func (s *Service) checkNewCase(ctx context.Context, q *db.Queries, a auth.Actor, in CreateCaseInput) (resolvedRefs, map[string]string, error) {
	var f fieldChecker
	f.required("body.title", in.Title, maxTitle)
	f.required("body.clientFirstName", in.ClientFirstName, maxName)
	f.required("body.clientLastName", in.ClientLastName, maxName)
	f.required("body.caseType", in.CaseType, 200)
	f.required("body.jurisdiction", in.Jurisdiction, 10)
	f.optional("body.description", in.Description, maxDescription)
	f.optional("body.clientPhone", in.ClientPhone, maxPhone)
	f.optional("body.notes", in.Notes, maxNotes)
	f.optional("body.source", in.Source, maxSource)
	f.optional("body.salesforceObjectType", in.SalesforceObjectType, maxExternalID)
	f.nonBlank("body.salesforceId", in.SalesforceID, maxExternalID)
	f.email("body.clientEmail", in.ClientEmail)
	f.tier("body.tier", in.Tier)
	if in.SentExpirationHours != nil && *in.SentExpirationHours < 1 {
		f.add("body.sentExpirationHours", "must be at least 1")
	}
	if in.ReferentFirmID != nil && *in.ReferentFirmID == a.FirmID {
		f.add("body.referentFirmId", "must be another firm than yours (no self-referral)")
	}
	refs, err := s.resolveRefs(ctx, q, &f, in.CaseType, in.Jurisdiction, in.County)
	if err != nil {
		return resolvedRefs{}, nil, err
	}
	var custom map[string]string
	if refs.caseTypeID != uuid.Nil {
		custom, err = applyCustomFields("body.customFields", refs.info.fields, nil, in.CustomFields)
		if e, ok := apperr.As(err); ok {
			f.details = append(f.details, e.Details...)
		} else if err != nil {
			return resolvedRefs{}, nil, err
		}
	}
	return refs, custom, f.err()
}

// CreateCase creates a case owned by the caller's firm and, with ReferentFirmID, sends it at
// once (nothing is created when a check fails). Errors: apperr.ErrValidation (missing or
// malformed fields, unknown reference data, unknown, inactive or own referent firm),
// apperr.ErrConflict (code duplicate_sf_referral for a Salesforce id already on an active case
// of the firm; no active network relationship with the referent firm).
func (s *Service) CreateCase(ctx context.Context, a auth.Actor, in CreateCaseInput) (CaseView, error) {
	refs, custom, err := s.checkNewCase(ctx, db.New(s.pool), a, in)
	if err != nil {
		return CaseView{}, err
	}

	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (CaseView, error) {
		actor, err := s.actorTx(ctx, q, a)
		if err != nil {
			return CaseView{}, err
		}
		if in.ReferentFirmID != nil {
			if err := checkTargetFirmTx(ctx, q, "body.referentFirmId", *in.ReferentFirmID); err != nil {
				return CaseView{}, err
			}
		}
		if in.SalesforceID != nil {
			if err := checkSalesforceIDTx(ctx, q, a.FirmID, uuid.Nil, *in.SalesforceID); err != nil {
				return CaseView{}, err
			}
		}
		if in.ReferentFirmID != nil {
			if err := checkCanReferTx(ctx, q, a.FirmID, uuid.Nil, *in.ReferentFirmID); err != nil {
				return CaseView{}, err
			}
		}
		row, err := q.BaseCaseInsert(ctx, db.BaseCaseInsertParams(newCaseRow(actor, in, refs, custom)))
		if err != nil {
			return CaseView{}, fmt.Errorf("insert case: %w", err)
		}
		c := caseFromRow(row, "")
		var refID uuid.UUID
		if in.ReferentFirmID != nil || in.DraftReferral {
			ri := ReferInput{SentExpirationHours: in.SentExpirationHours}
			var notes *string
			if in.ReferentFirmID != nil {
				notes = in.Notes // the case notes travel with a referral sent at once
			}
			refID, err = insertReferralTx(ctx, q, actor, c, 1, in.ReferentFirmID, notes, ri.expiresAt(s.now()))
			if err != nil {
				return CaseView{}, err
			}
		}
		l, err := s.loadCaseTx(ctx, q, c.ID)
		if err != nil {
			return CaseView{}, err
		}
		if err := o.caseCreatedTx(ctx, actor, l); err != nil {
			return CaseView{}, err
		}
		if in.ReferentFirmID != nil {
			r, _ := l.referral(refID)
			from := StatusDraft
			if err := o.partnerEventTx(ctx, notify.ReferralReceived, a.FirmID, r, &from); err != nil {
				return CaseView{}, err
			}
			su, err := writeStatusUpdateTx(ctx, q, actor, statusUpdate{referral: r, from: &from, to: StatusSent})
			if err != nil {
				return CaseView{}, err
			}
			if err := o.statusChangedTx(ctx, actor, ActionSend, l, r, from, su); err != nil {
				return CaseView{}, err
			}
		}
		return s.caseView(a.FirmID, l)
	})
}

// newCaseRow is the base_cases row of a new case that passed checkNewCase: every write of a new
// case (CreateCase, CreateCasesTx) goes through it.
func newCaseRow(actor actorInfo, in CreateCaseInput, refs resolvedRefs, custom map[string]string) db.BaseCaseCopyParams {
	return db.BaseCaseCopyParams{
		ID:                   uuid.New(),
		OwnerFirmID:          actor.FirmID,
		Title:                strings.TrimSpace(in.Title),
		Description:          in.Description,
		CaseTypeID:           refs.caseTypeID,
		JurisdictionCode:     refs.jurisdiction,
		County:               ptr.Trim(in.County),
		ClientFirstName:      strings.TrimSpace(in.ClientFirstName),
		ClientLastName:       strings.TrimSpace(in.ClientLastName),
		ClientEmail:          ptr.Trim(in.ClientEmail),
		ClientPhone:          ptr.Trim(in.ClientPhone),
		ClientDateOfBirth:    toDate(in.ClientDateOfBirth),
		IncidentDate:         toDate(in.IncidentDate),
		Notes:                in.Notes,
		Tier:                 int32Ptr(in.Tier),
		Source:               in.Source,
		CustomFields:         encodeCustomFields(custom),
		SalesforceID:         ptr.Trim(in.SalesforceID),
		SalesforceObjectType: in.SalesforceObjectType,
		IsRetainerSigned:     in.IsRetainerSigned,
		CreatedByUserID:      actor.person,
		CreatedByKeyID:       actor.KeyID,
	}
}

// checkSalesforceIDTx refuses a Salesforce id that another active case of the firm carries
// (apperr.ErrConflict with code duplicate_sf_referral). The advisory lock it takes makes the
// check hold until the transaction ends.
func checkSalesforceIDTx(ctx context.Context, q *db.Queries, firm, caseID uuid.UUID, sfID string) error {
	sfID = strings.TrimSpace(sfID)
	if err := q.BaseCaseLockSalesforceID(ctx, firm.String()+"/"+sfID); err != nil {
		return fmt.Errorf("lock salesforce id: %w", err)
	}
	inUse, err := q.BaseCaseSalesforceIDInUse(ctx, db.BaseCaseSalesforceIDInUseParams{FirmID: firm, SalesforceID: sfID, ExcludeID: caseID})
	if err != nil {
		return fmt.Errorf("check salesforce id: %w", err)
	}
	if inUse {
		return errDuplicateSalesforceID
	}
	return nil
}

var errDuplicateSalesforceID = apperr.New(apperr.ErrConflict, "duplicate_sf_referral",
	"another active case of your firm already carries this salesforceId")

// GetCase returns the case named by key as the caller sees it. Errors: apperr.ErrNotFound.
func (s *Service) GetCase(ctx context.Context, a auth.Actor, key string) (CaseView, error) {
	var out CaseView
	err := s.readTx(ctx, func(q *db.Queries) error {
		id, err := resolveCaseTx(ctx, q, a.FirmID, key)
		if err != nil {
			return err
		}
		l, err := s.loadCaseTx(ctx, q, id)
		if err != nil {
			return err
		}
		out, err = s.caseView(a.FirmID, l)
		return err
	})
	return out, err
}

// GetSentCase returns a case the caller's firm owns. Errors: apperr.ErrNotFound,
// apperr.ErrPermission (the firm only receives the case).
func (s *Service) GetSentCase(ctx context.Context, a auth.Actor, key string) (CaseView, error) {
	v, err := s.GetCase(ctx, a, key)
	if err != nil {
		return CaseView{}, err
	}
	if v.Side != SideReferring {
		return CaseView{}, errReceiverOnSentRoute
	}
	return v, nil
}

// GetReferral returns the referral sel names as the caller sees it. Errors: apperr.ErrNotFound,
// apperr.ErrPermission (sel.Receiving and the caller's firm sent it).
func (s *Service) GetReferral(ctx context.Context, a auth.Actor, sel Selector) (ReferralView, error) {
	var out ReferralView
	err := s.readTx(ctx, func(q *db.Queries) error {
		id, err := resolveReferralTx(ctx, q, a.FirmID, sel)
		if err != nil {
			return err
		}
		l, r, err := s.loadReferralTx(ctx, q, id)
		if err != nil {
			return err
		}
		out, err = referralView(a.FirmID, l, r)
		if err == nil && sel.Receiving && out.Side == SideReferring {
			return errSenderOnReceivedRoute
		}
		return err
	})
	return out, err
}

// Page selects one page of a list.
type Page struct {
	Page  int // 1-based
	Limit int // 1-100
}

func (p Page) norm() (limit, offset int32) {
	l, pg := p.Limit, p.Page
	if l < 1 {
		l = 20
	}
	if l > 100 {
		l = 100
	}
	if pg < 1 {
		pg = 1
	}
	// A page far past the end is just empty: the offset saturates instead of overflowing
	// int32 (which made it negative, and PostgreSQL refused the query).
	offset = math.MaxInt32
	if pg-1 < math.MaxInt32/l {
		offset = int32((pg - 1) * l)
	}
	return int32(l), offset
}

// Views of the case list.
const (
	ViewSent     = "sent"
	ViewReceived = "received"
	ViewAll      = "all"
)

// Sort keys of the lists.
const (
	SortCreatedAt       = "createdAt"
	SortUpdatedAt       = "updatedAt"
	SortTitle           = "title"
	SortReferenceNumber = "referenceNumber"
	SortStatus          = "status"
)

// CaseQuery filters and orders the case list.
type CaseQuery struct {
	View          string // ViewSent, ViewReceived or ViewAll (default)
	Status        StatusFilter
	Search        string
	CreatedFrom   *time.Time // inclusive
	CreatedBefore *time.Time // exclusive
	Sort          string     // a Sort* constant; SortCreatedAt by default
	Ascending     bool
	Page          Page
	// Cursor continues a walk from a previous page's NextCursor (Page is then ignored).
	Cursor string
}

// CasePage is one page of cases.
type CasePage struct {
	Items []CaseView
	Total int
	// Page is the page number returned (the cursor's, when the request had one).
	Page int
	// NextCursor leads to the next page; nil on the last.
	NextCursor *string
}

// maxSearch is how much of a search text counts.
const maxSearch = 200

// searchPattern turns a search text into an ILIKE pattern matching it anywhere; nil for none.
func searchPattern(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if utf8.RuneCountInString(s) > maxSearch {
		s = string([]rune(s)[:maxSearch])
	}
	p := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
	return &p
}

// ListCases returns one page of the cases the caller's firm sees, each from its side. Errors:
// apperr.ErrValidation for an unknown view or sort key, or a cursor of another list.
func (s *Service) ListCases(ctx context.Context, a auth.Actor, cq CaseQuery) (CasePage, error) {
	sp, fp, err := cq.spec(a.FirmID)
	if err != nil {
		return CasePage{}, err
	}
	out := CasePage{Page: sp.pageNumber(cq.Page)}
	// No transaction: the page and its total go in one round trip, the cases in one more. A case
	// deleted in between is left out of the page; nothing else can differ in a way that matters
	// to a list (each row is shown as it is when loaded).
	rows, total, err := caseListBatch(ctx, s.pool, sp, false)
	if err != nil {
		return CasePage{}, err
	}
	rows, out.NextCursor = sp.page(fp, rows, out.Page)
	out.Total = total
	out.Items, err = s.caseViewsTx(ctx, db.New(s.pool), a.FirmID, rows)
	return out, err
}

// CaseSummary is a case as the sending firm's list shows it: the case's identity and its current
// referral (its latest), read from the list's read model with the page itself.
type CaseSummary struct {
	ID                     uuid.UUID
	ReferenceNumber, Title string
	CMSID, SalesforceID    *string // CMSID as Case.CMSID
	Status                 Status  // StatusDraft before any referral
	ClosingStatus          *ClosingStatus
	PartnerFirmID          *uuid.UUID // the receiving firm of the current referral
	PartnerFirmName        *string
	CreatedAt, UpdatedAt   time.Time
}

// CaseSummaryPage is one page of case summaries.
type CaseSummaryPage struct {
	Items      []CaseSummary
	Total      int
	Page       int
	NextCursor *string
}

// ListSentCaseSummaries is ListCases of the sent view (cq.View is ignored) for a list that shows
// summaries only: the page, its list columns and its total come from one round trip (two under
// a search), with no load of the cases themselves. The owner sees its cases unmasked, so a
// summary is the same as the matching fields of ListCases' views.
func (s *Service) ListSentCaseSummaries(ctx context.Context, a auth.Actor, cq CaseQuery) (CaseSummaryPage, error) {
	cq.View = ViewSent
	sp, fp, err := cq.spec(a.FirmID)
	if err != nil {
		return CaseSummaryPage{}, err
	}
	out := CaseSummaryPage{Page: sp.pageNumber(cq.Page)}
	rows, total, err := caseListBatch(ctx, s.pool, sp, true)
	if err != nil {
		return CaseSummaryPage{}, err
	}
	rows, out.NextCursor = sp.page(fp, rows, out.Page)
	out.Total = total
	out.Items = make([]CaseSummary, len(rows))
	for i, r := range rows {
		out.Items[i] = *r.sum
	}
	return out, nil
}

// caseViewsTx loads the cases of rows and returns each as viewer sees it, in rows' order.
func (s *Service) caseViewsTx(ctx context.Context, q *db.Queries, viewer uuid.UUID, rows []caseRow) ([]CaseView, error) {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.CaseID
	}
	m, err := s.loadCasesTx(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]CaseView, 0, len(rows))
	for _, r := range rows {
		l, ok := m[r.CaseID]
		if !ok {
			continue // deleted since its page was read
		}
		v, err := s.caseView(viewer, l)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// referralViewsTx loads referrals by id, in the given order, as viewer sees them.
func (s *Service) referralViewsTx(ctx context.Context, q *db.Queries, viewer uuid.UUID, ids []uuid.UUID) ([]ReferralView, error) {
	if len(ids) == 0 {
		return []ReferralView{}, nil
	}
	rows, err := q.ReferralGetByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load referrals: %w", err)
	}
	caseOf := make(map[uuid.UUID]uuid.UUID, len(rows))
	var caseIDs []uuid.UUID
	for _, r := range rows {
		caseOf[r.Referral.ID] = r.Referral.BaseCaseID
		caseIDs = append(caseIDs, r.Referral.BaseCaseID)
	}
	m, err := s.loadCasesTx(ctx, q, caseIDs)
	if err != nil {
		return nil, err
	}
	out := make([]ReferralView, 0, len(ids))
	for _, id := range ids {
		l := m[caseOf[id]]
		r, ok := l.referral(id)
		if !ok {
			continue
		}
		v, err := referralView(viewer, l, r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
