package analytics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
)

// Filters narrow the referrals counted. Dates are calendar days (only year, month and day are
// read) interpreted in TimeZone; every field is optional.
type Filters struct {
	// Referrals sent on or after ReferralStart and on or before ReferralEnd. Drafts, which were
	// never sent, are left out when either is given.
	ReferralStart, ReferralEnd *time.Time
	// Referrals whose case was first referred (its earliest referral sent) within the range.
	FirstReferralStart, FirstReferralEnd *time.Time
	// Referrals that reached signed within the range; never-signed referrals are left out when
	// either is given.
	SignedStart, SignedEnd *time.Time
	// CaseType is a case type's name, display name or id; one that names no active case type
	// matches nothing.
	CaseType string
	// Jurisdiction is a two-letter code, any letter case; an unknown code matches nothing.
	Jurisdiction string
	// TimeZone is an IANA zone name; empty means UTC.
	TimeZone string
	// ReferralStartParam and ReferralEndParam name the query parameters that carried the
	// referral dates, for error details; empty means referralStartDate and referralEndDate.
	ReferralStartParam, ReferralEndParam string
}

// Applied are the filters used, after defaults and normalization. Dates are midnight UTC of the
// calendar day.
type Applied struct {
	ReferralStart, ReferralEnd           *time.Time
	FirstReferralStart, FirstReferralEnd *time.Time
	SignedStart, SignedEnd               *time.Time
	// CaseType is the case type's name when it resolved, else the value given.
	CaseType *string
	// Jurisdiction is the code, upper-cased.
	Jurisdiction *string
	TimeZone     string
}

// scope is a validated filter set ready for the queries.
type scope struct {
	applied Applied
	loc     *time.Location
	params  db.AnalyticsCaseCountsParams // the include_* flags are set per query
}

// LoadZone validates an IANA zone name (empty means UTC). It returns an apperr.ErrValidation
// error naming query.tz when the zone is unknown.
func LoadZone(name string) (*time.Location, string, error) {
	if name == "" {
		name = "UTC"
	}
	// "Local" means the server's zone to Go and nothing to PostgreSQL; neither is what a caller
	// means.
	if name == "Local" || strings.TrimSpace(name) != name {
		return nil, "", unknownZone(name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, "", unknownZone(name)
	}
	return loc, name, nil
}

func unknownZone(name string) error {
	return apperr.Field("query.tz", fmt.Sprintf("unknown time zone %q: use an IANA name such as America/Chicago", name))
}

// CheckFilters validates f as Dashboard, Flow, Revenue and the others do, without computing
// anything, so that a caller can refuse bad filters before spending anything on the request
// (the export budget). It returns the apperr.ErrValidation error those would return.
func (s *Service) CheckFilters(ctx context.Context, firm uuid.UUID, f Filters) error {
	_, err := s.resolve(ctx, firm, f)
	return err
}

// resolve validates f for firm and turns it into query parameters. It returns an
// apperr.ErrValidation error naming the field for an unknown zone or an inverted range.
func (s *Service) resolve(ctx context.Context, firm uuid.UUID, f Filters) (scope, error) {
	loc, zone, err := LoadZone(f.TimeZone)
	if err != nil {
		return scope{}, err
	}
	startParam, endParam := orDefault(f.ReferralStartParam, "referralStartDate"), orDefault(f.ReferralEndParam, "referralEndDate")
	var details []apperr.FieldError
	for _, r := range []struct {
		from, to         *time.Time
		fromName, toName string
	}{
		{f.ReferralStart, f.ReferralEnd, startParam, endParam},
		{f.FirstReferralStart, f.FirstReferralEnd, "firstReferralStartDate", "firstReferralEndDate"},
		{f.SignedStart, f.SignedEnd, "signedStartDate", "signedEndDate"},
	} {
		if r.from != nil && r.to != nil && day(*r.to).Before(day(*r.from)) {
			details = append(details, apperr.FieldError{Field: "query." + r.toName, Message: "must not be before " + r.fromName})
		}
	}
	if len(details) > 0 {
		return scope{}, apperr.Validation("Request validation failed", details...)
	}

	sc := scope{loc: loc}
	sc.applied = Applied{
		ReferralStart: dayPtr(f.ReferralStart), ReferralEnd: dayPtr(f.ReferralEnd),
		FirstReferralStart: dayPtr(f.FirstReferralStart), FirstReferralEnd: dayPtr(f.FirstReferralEnd),
		SignedStart: dayPtr(f.SignedStart), SignedEnd: dayPtr(f.SignedEnd),
		TimeZone: zone,
	}
	sc.params = db.AnalyticsCaseCountsParams{
		FirmID:       firm,
		Tz:           zone,
		ReferralFrom: pgDate(f.ReferralStart), ReferralTo: pgDate(f.ReferralEnd),
		FirstFrom: pgDate(f.FirstReferralStart), FirstTo: pgDate(f.FirstReferralEnd),
		SignedFrom: pgDate(f.SignedStart), SignedTo: pgDate(f.SignedEnd),
	}
	if ct := strings.TrimSpace(f.CaseType); ct != "" {
		name, id := ct, uuid.Nil // the nil id matches no case: an unknown case type selects nothing
		t, err := s.refdata.ResolveCaseType(ctx, ct)
		switch {
		case err == nil:
			name, id = t.Name, t.ID
		case !errors.Is(err, apperr.ErrNotFound):
			return scope{}, err
		}
		sc.applied.CaseType, sc.params.CaseTypeID = &name, &id
	}
	if j := strings.ToUpper(strings.TrimSpace(f.Jurisdiction)); j != "" {
		sc.applied.Jurisdiction, sc.params.Jurisdiction = &j, &j
	}
	return sc, nil
}

// day is the calendar day of t as midnight UTC.
func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

func dayPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := day(*t)
	return &d
}

func pgDate(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: day(*t), Valid: true}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// startOfDay is midnight of calendar day d in loc.
func startOfDay(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}
