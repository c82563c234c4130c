package importer

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
)

// parsed is a row's cells converted to their types; nil pointers are empty cells.
type parsed struct {
	title, description, county, firstName, lastName, email, phone, source, notes, sfObjectType, ref *string

	caseType     *resolved
	jurisdiction *resolved
	dob          *time.Time
	incident     *time.Time
	tier         *int
	retainer     *bool
	ext          *string // cmsId or salesforceId
	extCol       string  // which of the two columns gave ext
}

// rowErrs collects the errors of one row.
type rowErrs struct {
	row  int
	list []RowError
}

func (e *rowErrs) add(col, msg string) {
	var c *string
	if col != "" {
		c = &col
	}
	e.list = append(e.list, RowError{Row: e.row, Column: c, Message: msg})
}

func (st *runState) process(ctx context.Context, rw row) outcome {
	if k, ok := st.done[rw.num]; ok {
		return outcome{row: rw.num, kind: k}
	}
	if rw.blank {
		return outcome{row: rw.num, kind: outcomeSkipped}
	}
	p, errs, err := st.parse(ctx, rw)
	if err != nil {
		return st.failed(rw.num, st.mapErr(rw.num, err, p, ""))
	}
	if len(errs) > 0 {
		return st.failed(rw.num, errs)
	}
	if st.mode == Upsert {
		return st.upsert(ctx, rw.num, p)
	}
	return st.updateOnly(ctx, rw.num, p)
}

func (st *runState) failed(num int, errs []RowError) outcome {
	return outcome{row: num, kind: outcomeFailed, errs: errs}
}

// parse checks every non-empty cell's format and resolves reference data. The returned error is
// an infrastructure failure, not a problem of the row.
func (st *runState) parse(ctx context.Context, rw row) (parsed, []RowError, error) {
	var p parsed
	errs := rowErrs{row: rw.num}
	text := func(col string, max int) *string {
		v := rw.get(col)
		if v == "" {
			return nil
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
			errs.add(col, fmt.Sprintf("must be at most %d characters", max))
		}
		return &v
	}
	p.title = text("title", 500)
	p.description = text("description", 20000)
	p.county = text("county", 200)
	p.firstName = text("clientFirstName", 100)
	p.lastName = text("clientLastName", 100)
	p.email = text("clientEmail", 320)
	p.phone = text("clientPhone", 50)
	p.source = text("source", 500)
	p.notes = text("notes", 10000)
	p.sfObjectType = text("salesforceObjectType", 100)
	p.ref = text("referenceNumber", 100)
	if p.email != nil {
		if a, err := mail.ParseAddress(*p.email); err != nil || a.Address != *p.email {
			errs.add("clientEmail", fmt.Sprintf("not an e-mail address: %q", *p.email))
		}
	}
	date := func(col string) *time.Time {
		v := rw.get(col)
		if v == "" {
			return nil
		}
		t, ok := parseDate(v)
		if !ok {
			errs.add(col, "not a date: expected YYYY-MM-DD or M/D/YYYY")
			return nil
		}
		return &t
	}
	p.dob = date("clientDateOfBirth")
	p.incident = date("incidentDate")
	if v := rw.get("tier"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			errs.add("tier", "must be an integer from 1 to 5")
		} else {
			p.tier = &n
		}
	}
	if v := rw.get("isRetainerSigned"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			errs.add("isRetainerSigned", "must be true or false (yes/no and 1/0 are accepted too)")
		} else {
			p.retainer = &b
		}
	}
	cms, sf := text("cmsId", 100), text("salesforceId", 100)
	switch {
	case cms != nil && sf != nil && *cms != *sf:
		errs.add("salesforceId", "must equal cmsId when both are given (they name the same external id)")
	case cms != nil:
		p.ext, p.extCol = cms, "cmsId"
	case sf != nil:
		p.ext, p.extCol = sf, "salesforceId"
	}
	if v := rw.get("caseType"); v != "" {
		r, err := st.caseType(ctx, v)
		if err != nil {
			return p, nil, err
		}
		if !r.ok {
			errs.add("caseType", fmt.Sprintf("unknown case type %q (see GET /api/public/v1/case-types)", v))
		} else {
			p.caseType = &r
		}
	}
	if v := rw.get("jurisdiction"); v != "" {
		r, err := st.jurisdiction(ctx, v)
		if err != nil {
			return p, nil, err
		}
		if !r.ok {
			errs.add("jurisdiction", fmt.Sprintf("unknown jurisdiction code %q", v))
		} else {
			p.jurisdiction = &r
		}
	}
	if p.county != nil && p.jurisdiction != nil {
		ok, err := st.county(ctx, p.jurisdiction.code, *p.county)
		if err != nil {
			return p, nil, err
		}
		if !ok {
			errs.add("county", fmt.Sprintf("no county %q in %s", *p.county, p.jurisdiction.code))
		}
	}
	return p, errs.list, nil
}

// upsert updates the firm's active case carrying the row's external id, or creates a case.
func (st *runState) upsert(ctx context.Context, num int, p parsed) outcome {
	if p.ext != nil {
		if id, found := st.caseByExt(*p.ext); found {
			return st.apply(ctx, num, p, id, false)
		}
	}
	errs := rowErrs{row: num}
	for col, v := range map[string]bool{
		"title": p.title != nil, "caseType": p.caseType != nil, "jurisdiction": p.jurisdiction != nil,
		"clientFirstName": p.firstName != nil, "clientLastName": p.lastName != nil,
	} {
		if !v {
			errs.add(col, "is required")
		}
	}
	if len(errs.list) > 0 {
		slices.SortFunc(errs.list, func(a, b RowError) int { return columnOrder(*a.Column) - columnOrder(*b.Column) })
		return st.failed(num, errs.list)
	}
	// Written with the worker's next batch (see batch.go).
	return outcome{row: num, pending: &pendingCreate{num: num, p: p}}
}

// updateOnly finds the row's case by reference number or external id and updates it.
func (st *runState) updateOnly(ctx context.Context, num int, p parsed) outcome {
	errs := rowErrs{row: num}
	switch {
	case p.ref != nil:
		id, found := st.caseByRef(*p.ref)
		if !found {
			errs.add("referenceNumber", fmt.Sprintf("no case visible to your firm has the reference number %q", *p.ref))
			return st.failed(num, errs.list)
		}
		return st.apply(ctx, num, p, id, true)
	case p.ext != nil:
		id, found := st.caseByExt(*p.ext)
		if !found {
			errs.add(p.extCol, fmt.Sprintf("no active case your firm sent carries the id %q", *p.ext))
			return st.failed(num, errs.list)
		}
		return st.apply(ctx, num, p, id, false)
	}
	errs.add("referenceNumber", "a referenceNumber, cmsId or salesforceId is needed to find the case")
	return st.failed(num, errs.list)
}

// current is what a row is compared with: the case as the firm sees it.
type current struct {
	receiving                                                     bool
	title, description, county, firstName, lastName, email, phone *string
	source, sfObjectType, cmsID, salesforceID, notes              *string
	dob, incident                                                 *time.Time
	tier                                                          *int
	caseTypeID                                                    uuid.UUID
	jurisdiction                                                  string
	referred                                                      bool
}

// load reads the case for comparison. The owning firm's view comes from one query; any other
// firm's from the referrals service, which withholds what that firm may not see.
func (st *runState) load(ctx context.Context, caseID uuid.UUID) (current, error) {
	snap, err := db.New(st.s.pool).ImportCaseSnapshot(ctx, caseID)
	if err != nil {
		return current{}, postgres.InterpretError(err)
	}
	if snap.OwnerFirmID == st.actor.FirmID {
		c := current{
			title: &snap.Title, description: snap.Description, county: snap.County,
			firstName: &snap.ClientFirstName, lastName: &snap.ClientLastName, email: snap.ClientEmail,
			phone: snap.ClientPhone, source: snap.Source, sfObjectType: snap.SalesforceObjectType,
			cmsID: snap.CmsID, salesforceID: snap.SalesforceID, notes: snap.Notes,
			dob: fromDate(snap.ClientDateOfBirth), incident: fromDate(snap.IncidentDate),
			caseTypeID: snap.CaseTypeID, jurisdiction: snap.JurisdictionCode, referred: snap.Referred,
		}
		if c.cmsID == nil {
			c.cmsID = snap.SalesforceID
		}
		if snap.Tier != nil {
			t := int(*snap.Tier)
			c.tier = &t
		}
		return c, nil
	}
	v, err := st.s.cases.GetCase(ctx, st.actor, caseID.String())
	if err != nil {
		return current{}, err
	}
	k := v.Case
	c := current{
		receiving: v.Side == referrals.SideReceiving,
		title:     &k.Title, description: k.Description, county: k.County,
		firstName: k.ClientFirstName, lastName: k.ClientLastName, email: k.ClientEmail, phone: k.ClientPhone,
		source: k.Source, sfObjectType: k.SalesforceObjectType, cmsID: k.CMSID(), salesforceID: k.SalesforceID,
		dob: k.ClientDateOfBirth, incident: k.IncidentDate, tier: k.Tier,
		caseTypeID: k.CaseTypeID, jurisdiction: k.Jurisdiction, referred: referred(v),
	}
	if v.Current != nil {
		c.notes = v.Current.Notes
	}
	return c, nil
}

// apply updates an existing case from a row: non-empty cells that differ from the case are
// written, empty cells keep the value. The sending firm writes case fields (and, when the case
// was found by reference number, its external id); the receiving firm writes only notes, on
// its referral. The retainer state of an existing case is never changed by import. A row
// that changes nothing is skipped.
func (st *runState) apply(ctx context.Context, num int, p parsed, caseID uuid.UUID, byRef bool) outcome {
	errs := rowErrs{row: num}
	c, err := st.load(ctx, caseID)
	if err != nil {
		return st.failed(num, st.mapErr(num, err, p, ""))
	}
	if p.caseType != nil && p.caseType.id != c.caseTypeID {
		errs.add("caseType", "differs from the case's case type, which cannot change by import")
	}
	if p.jurisdiction != nil && p.jurisdiction.code != c.jurisdiction {
		errs.add("jurisdiction", "differs from the case's jurisdiction, which cannot change by import")
	}
	if p.county != nil && p.jurisdiction == nil && !c.receiving && !eq(c.county, p.county) {
		ok, err := st.county(ctx, c.jurisdiction, *p.county)
		if err != nil {
			return st.failed(num, st.mapErr(num, err, p, ""))
		}
		if !ok {
			errs.add("county", fmt.Sprintf("no county %q in %s", *p.county, c.jurisdiction))
		}
	}
	var patch referrals.CasePatch
	dirty := false
	const receiverMsg = "the receiving firm may change only notes"
	for _, f := range []struct {
		col       string
		cell, cur *string
		set       *referrals.Opt[string]
	}{
		{"title", p.title, c.title, &patch.Title},
		{"description", p.description, c.description, &patch.Description},
		{"county", p.county, c.county, &patch.County},
		{"clientFirstName", p.firstName, c.firstName, &patch.ClientFirstName},
		{"clientLastName", p.lastName, c.lastName, &patch.ClientLastName},
		{"clientEmail", p.email, c.email, &patch.ClientEmail},
		{"clientPhone", p.phone, c.phone, &patch.ClientPhone},
		{"source", p.source, c.source, &patch.Source},
		{"salesforceObjectType", p.sfObjectType, c.sfObjectType, &patch.SalesforceObjectType},
	} {
		if f.cell == nil || eq(f.cur, f.cell) {
			continue
		}
		if c.receiving {
			errs.add(f.col, receiverMsg)
			continue
		}
		*f.set, dirty = referrals.SetOpt(f.cell), true
	}
	for _, f := range []struct {
		col       string
		cell, cur *time.Time
		set       *referrals.Opt[time.Time]
	}{
		{"clientDateOfBirth", p.dob, c.dob, &patch.ClientDateOfBirth},
		{"incidentDate", p.incident, c.incident, &patch.IncidentDate},
	} {
		if f.cell == nil || (f.cur != nil && f.cur.Equal(*f.cell)) {
			continue
		}
		if c.receiving {
			errs.add(f.col, receiverMsg)
			continue
		}
		*f.set, dirty = referrals.SetOpt(f.cell), true
	}
	if p.tier != nil && (c.tier == nil || *c.tier != *p.tier) {
		if c.receiving {
			errs.add("tier", receiverMsg)
		} else {
			patch.Tier, dirty = referrals.SetOpt(p.tier), true
		}
	}
	if byRef && p.ext != nil && !eq(c.cmsID, p.ext) && !eq(c.salesforceID, p.ext) {
		if c.receiving {
			errs.add(p.extCol, "only the firm that sent the case may set its external id")
		} else {
			patch.SalesforceID, dirty = referrals.SetOpt(p.ext), true
		}
	}
	var notes *string
	if p.notes != nil {
		switch {
		case st.mode == Upsert:
			// The firm's own case: its notes travel with the first referral and then belong
			// to the receiving firm, so they are only written before the case is referred.
			if !c.referred && !eq(c.notes, p.notes) {
				patch.Notes, dirty = referrals.SetOpt(p.notes), true
			}
		case c.receiving:
			if !eq(c.notes, p.notes) {
				notes = p.notes
			}
		default:
			errs.add("notes", "notes belong to the firm holding the case's referral; the sending firm cannot set them")
		}
	}
	if len(errs.list) > 0 {
		return st.failed(num, errs.list)
	}
	switch {
	case dirty:
		if err := st.updateCase(ctx, num, caseID, patch); err != nil {
			return st.failed(num, st.mapErr(num, err, p, ""))
		}
		if p.ext != nil && patch.SalesforceID.Set {
			st.rememberExt(*p.ext, caseID)
		}
	case notes != nil:
		if err := st.updateNotes(ctx, num, caseID, notes); err != nil {
			return st.failed(num, st.mapErr(num, err, p, "notes"))
		}
	default:
		return outcome{row: num, kind: outcomeSkipped}
	}
	return outcome{row: num, kind: outcomeUpdated}
}

func fromDate(d pgtype.Date) *time.Time {
	if !d.Valid {
		return nil
	}
	t := time.Date(d.Time.Year(), d.Time.Month(), d.Time.Day(), 0, 0, 0, 0, time.UTC)
	return &t
}

// referred reports whether the case was ever sent to another firm.
func referred(v referrals.CaseView) bool {
	for _, r := range v.Referrals {
		if r.Status != referrals.StatusDraft {
			return true
		}
	}
	return false
}

// mapErr turns a service error into row errors: field details become columns ("body.title" is
// the title column); other errors concern defaultCol (or the whole row). Unexpected errors are
// logged and reported without detail.
func (st *runState) mapErr(num int, err error, p parsed, defaultCol string) []RowError {
	errs := rowErrs{row: num}
	ae, ok := apperr.As(err)
	if !ok {
		st.s.log.Error("import: row failed", "row", num, "error", err.Error())
		errs.add(defaultCol, "the row could not be written because of an internal error")
		return errs.list
	}
	if len(ae.Details) > 0 {
		for _, d := range ae.Details {
			errs.add(columnOf(d.Field, p, defaultCol), d.Message)
		}
		return errs.list
	}
	col := defaultCol
	if ae.Code == "duplicate_sf_referral" && p.extCol != "" {
		col = p.extCol
	}
	errs.add(col, ae.Message)
	return errs.list
}

// columnOf maps a request field ("body.clientEmail") to the import column it came from.
func columnOf(field string, p parsed, def string) string {
	name := strings.TrimPrefix(field, "body.")
	if name == "salesforceId" && p.extCol != "" {
		return p.extCol
	}
	if columnOrder(name) < len(Columns) {
		return name
	}
	return def
}

func columnOrder(col string) int {
	if i := slices.Index(Columns, col); i >= 0 {
		return i
	}
	return len(Columns)
}

func eq(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// parseDate reads YYYY-MM-DD or M/D/YYYY.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", "1/2/2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}
