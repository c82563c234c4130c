// Package analytics computes a firm's referral figures: volumes by status, conversion (sent to
// signed, signed to won), response times, time spent in each status, revenue from settlements
// and attorney fees with the fee split, breakdowns by partner firm, case type and jurisdiction,
// monthly trends, and the today / this week / this month counts of the homepage.
//
// Every number is aggregated by PostgreSQL (db/queries/analytics.sql); this package validates
// the filters, adds up the few group rows the queries return and shapes them. Only referrals
// the firm sent or received are counted, and nothing here exposes client data: the drill-down
// lists cases by title and partner firm only, and exports are aggregates.
package analytics

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/refdata"
)

// Service computes analytics over the lifecycle's tables.
type Service struct {
	pool    *pgxpool.Pool
	refdata *refdata.Service
	now     atomic.Pointer[func() time.Time]
}

// New returns a Service reading from pool; ref resolves case type filters.
func New(pool *pgxpool.Pool, ref *refdata.Service) *Service {
	s := &Service{pool: pool, refdata: ref}
	s.SetClock(time.Now)
	return s
}

// SetClock replaces the clock that defines "now": the homepage periods and the end of an
// open-ended dashboard window. Tests use it to pin the periods.
func (s *Service) SetClock(now func() time.Time) { s.now.Store(&now) }

func (s *Service) clock() time.Time { return (*s.now.Load())() }

// Direction is one side of the firm's referrals.
type Direction string

// Directions.
const (
	Sent     Direction = "sent"
	Received Direction = "received"
)

// Statuses as stored, plus the older received, won and lost that only older data holds.
var (
	// AllStatuses lists every status a count is reported for, in lifecycle order.
	AllStatuses = []string{"draft", "sent", "received", "under_evaluation", "investigating", "signed",
		"in_litigation", "closing", "won", "lost", "rejected", "withdrawn", "closed"}
)

// snapshot runs fn in one read-only repeatable-read transaction, so that figures computed by
// several queries describe the same moment. Two settings hold for that transaction only:
// reporting queries hash and sort tens of thousands of rows, so they get more working memory
// than the server default; and their optional filters ("$1 IS NULL OR ...") only plan well
// when the values are known, so they are always planned for the values at hand rather than
// with the generic plan PostgreSQL would otherwise switch a prepared statement to.
func (s *Service) snapshot(ctx context.Context, fn func(q *db.Queries) error) error {
	err := postgres.RunTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '32MB'; SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
				return err
			}
			return fn(db.New(tx))
		})
	// Go and PostgreSQL read different copies of the zone database; a zone only Go knows is
	// still the caller's mistake, not a server error.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22023" && strings.Contains(pgErr.Message, "time zone") {
		return apperr.Field("query.tz", "unknown time zone: use an IANA name such as America/Chicago")
	}
	return err
}

// include selects the referrals a query reads.
type include struct{ sent, received, drafts bool }

func (sc scope) groupParams(in include) db.AnalyticsCaseCountsParams {
	p := sc.params
	p.IncludeSent, p.IncludeReceived, p.IncludeDrafts = in.sent, in.received, in.drafts
	return p
}

// Dashboard returns the headline figures over the referrals firm sent (drafts included) and
// received. It returns an apperr.ErrValidation error for invalid filters.
func (s *Service) Dashboard(ctx context.Context, firm uuid.UUID, f Filters) (Dashboard, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Dashboard{}, err
	}
	in := include{sent: true, received: true, drafts: true}
	var g groups
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		g, err = loadGroups(ctx, q, sc, in)
		return err
	}); err != nil {
		return Dashboard{}, err
	}
	return buildDashboard(g, sc, in, s.clock()), nil
}

// Cases returns referral volumes in both directions (drafts on the sent side unless a referral
// date filter applies). It returns an apperr.ErrValidation error for invalid filters.
func (s *Service) Cases(ctx context.Context, firm uuid.UUID, f Filters) (Cases, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Cases{}, err
	}
	in := include{sent: true, received: true, drafts: true}
	var g groups
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		g, err = loadGroups(ctx, q, sc, in)
		return err
	}); err != nil {
		return Cases{}, err
	}
	return buildCases(g, sc, in), nil
}

// Flow returns the figures of one direction: status mix, conversion, timing, breakdowns and
// the monthly trend. Sent figures count drafts in totals and by status only. It returns an
// apperr.ErrValidation error for invalid filters.
func (s *Service) Flow(ctx context.Context, firm uuid.UUID, dir Direction, f Filters) (Flow, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Flow{}, err
	}
	in := include{sent: dir == Sent, received: dir == Received, drafts: dir == Sent}
	var g groups
	var stays db.AnalyticsTimeInStatusRow
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		if g, err = loadGroups(ctx, q, sc, in); err != nil {
			return err
		}
		stays, err = q.AnalyticsTimeInStatus(ctx, db.AnalyticsTimeInStatusParams(sc.groupParams(in)))
		return err
	}); err != nil {
		return Flow{}, err
	}
	return buildFlow(g, stays, sc, dir), nil
}

// Revenue returns the money on the won referrals of one direction, and the projected amounts
// of its open ones. It returns an apperr.ErrValidation error for invalid filters.
func (s *Service) Revenue(ctx context.Context, firm uuid.UUID, dir Direction, f Filters) (Revenue, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Revenue{}, err
	}
	in := include{sent: dir == Sent, received: dir == Received}
	var g groups
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		g, err = loadGroups(ctx, q, sc, in)
		return err
	}); err != nil {
		return Revenue{}, err
	}
	return buildRevenue(g, sc, dir), nil
}

// Referrals returns referral volumes in both directions without drafts, with re-referral
// figures. It returns an apperr.ErrValidation error for invalid filters.
func (s *Service) Referrals(ctx context.Context, firm uuid.UUID, f Filters) (Referrals, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Referrals{}, err
	}
	in := include{sent: true, received: true}
	var g groups
	var cc db.AnalyticsCaseCountsRow
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		if g, err = loadGroups(ctx, q, sc, in); err != nil {
			return err
		}
		cc, err = q.AnalyticsCaseCounts(ctx, (sc.groupParams(include{sent: true})))
		return err
	}); err != nil {
		return Referrals{}, err
	}
	return buildReferrals(g, cc, sc), nil
}

// Homepage returns the counts of the current day, week and month in zone (an IANA name, empty
// for UTC) with their comparisons. It returns an apperr.ErrValidation error naming query.tz for
// an unknown zone.
func (s *Service) Homepage(ctx context.Context, firm uuid.UUID, zone string) (Homepage, error) {
	_, zone, err := LoadZone(zone)
	if err != nil {
		return Homepage{}, err
	}
	var row db.AnalyticsHomepageRow
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		row, err = q.AnalyticsHomepage(ctx, db.AnalyticsHomepageParams{Now: s.clock(), Tz: zone, FirmID: firm})
		return err
	}); err != nil {
		return Homepage{}, err
	}
	return buildHomepage(row, zone), nil
}

// Report is every category at once, computed from one snapshot, for the bundled export.
type Report struct {
	Dashboard       Dashboard
	Cases           Cases
	Homepage        Homepage
	Received        Flow
	Sent            Flow
	RevenueReceived Revenue
	RevenueSent     Revenue
	Referrals       Referrals
}

// Report computes every category with the same filters (the homepage reads only the zone) from
// one snapshot; each part equals what its own method returns. It returns an
// apperr.ErrValidation error for invalid filters.
func (s *Service) Report(ctx context.Context, firm uuid.UUID, f Filters) (Report, error) {
	sc, err := s.resolve(ctx, firm, f)
	if err != nil {
		return Report{}, err
	}
	all := include{sent: true, received: true, drafts: true}
	now := s.clock()
	var (
		g     groups
		stays db.AnalyticsTimeInStatusRow
		recv  db.AnalyticsTimeInStatusRow
		cc    db.AnalyticsCaseCountsRow
		home  db.AnalyticsHomepageRow
	)
	if err := s.snapshot(ctx, func(q *db.Queries) error {
		if g, err = loadGroups(ctx, q, sc, all); err != nil {
			return err
		}
		if stays, err = q.AnalyticsTimeInStatus(ctx, db.AnalyticsTimeInStatusParams(sc.groupParams(include{sent: true, drafts: true}))); err != nil {
			return err
		}
		if recv, err = q.AnalyticsTimeInStatus(ctx, db.AnalyticsTimeInStatusParams(sc.groupParams(include{received: true}))); err != nil {
			return err
		}
		if cc, err = q.AnalyticsCaseCounts(ctx, (sc.groupParams(include{sent: true}))); err != nil {
			return err
		}
		home, err = q.AnalyticsHomepage(ctx, db.AnalyticsHomepageParams{Now: now, Tz: sc.applied.TimeZone, FirmID: firm})
		return err
	}); err != nil {
		return Report{}, err
	}
	return Report{
		Dashboard:       buildDashboard(g, sc, all, now),
		Cases:           buildCases(g, sc, all),
		Homepage:        buildHomepage(home, sc.applied.TimeZone),
		Received:        buildFlow(g, recv, sc, Received),
		Sent:            buildFlow(g, stays, sc, Sent),
		RevenueReceived: buildRevenue(g, sc, Received),
		RevenueSent:     buildRevenue(g, sc, Sent),
		Referrals:       buildReferrals(g, cc, sc),
	}, nil
}
