// Command limit is the benchmark's limit server: the physical minimum of the benchmarked list
// reads, to compare our server with. A bare Echo with no validator and no middleware; the only
// per-request work besides the SQL is finding the caller's firm by the SHA-256 of X-API-Key in a
// map loaded at start (keys created later are unknown to it). Each handler sends the minimal
// hand-written SQL that produces the page our endpoint answers, in one round trip (a pgx batch):
// the page's index entries from the base tables (or, for a status filter, from the only index
// that orders a firm's cases by status and activity, case_listings_status_updated_idx), the
// latest referral of each case by referrals_case_sequence_key, the firm names by primary key,
// and the exact total from the list_counts counter rows of migration 0016. The row limit is a
// literal of the statement (one statement per limit), so PostgreSQL keeps its generic plan
// instead of planning each execution again (a LIMIT parameter makes the generic plan's estimate
// assume a tenth of the firm's rows); our server does the same. It writes a JSON
// body with the same fields as our response (the same data, not byte-identical).
//
//	DATABASE_URL=... bin/bench-limit -addr 127.0.0.1:8091
//
// Endpoints (page 1 and the status filter of each list; `limit` is honoured, page and sort are not):
//
//	GET /api/public/v1/sent-cases[?status=S]
//	GET /api/public/v1/received-referrals[?status=S]
//	GET /api/public/v1/referrals[?status=S]
//	GET /api/public/v1/status-updates?updatedSince=T | ?cursor=C
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/postgres"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: DATABASE_URL=postgres://... bench-limit [-addr HOST:PORT]\n\n"+
			"Serves the minimal SQL of the benchmarked list reads (see the package comment). Flags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(*addr, log); err != nil {
		log.Error("limit", "error", err.Error())
		os.Exit(1)
	}
}

type server struct {
	pool *pgxpool.Pool
	keys map[string]uuid.UUID // hex SHA-256 of the key -> firm
}

func run(addr string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	pool, err := postgres.Open(ctx, dsn) // the same pool settings as our server
	if err != nil {
		return err
	}
	defer pool.Close()
	s := &server{pool: pool, keys: map[string]uuid.UUID{}}
	rows, err := pool.Query(ctx, `SELECT key_hash, firm_id FROM api_keys WHERE revoked_at IS NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var h string
		var f uuid.UUID
		if err := rows.Scan(&h, &f); err != nil {
			return err
		}
		s.keys[h] = f
	}
	if err := rows.Err(); err != nil {
		return err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	g := e.Group("/api/public/v1")
	g.GET("/sent-cases", s.sentCases)
	g.GET("/received-referrals", s.receivedReferrals)
	g.GET("/referrals", s.referrals)
	g.GET("/status-updates", s.statusUpdates)

	srv := &http.Server{Addr: addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Warn("limit server listening", "addr", addr, "keys", len(s.keys))
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

func (s *server) firm(c echo.Context) (uuid.UUID, bool) {
	sum := sha256.Sum256([]byte(c.Request().Header.Get("X-API-Key")))
	f, ok := s.keys[hex.EncodeToString(sum[:])]
	return f, ok
}

func limit(c echo.Context) int {
	l, _ := strconv.Atoi(c.QueryParam("limit"))
	if l < 1 || l > 100 {
		l = 20
	}
	return l
}

type pagination struct {
	Page       int     `json:"page"`
	Limit      int     `json:"limit"`
	Total      int64   `json:"total"`
	TotalPages int64   `json:"totalPages"`
	NextCursor *string `json:"nextCursor"`
}

type meta struct {
	RequestID string    `json:"requestId"`
	Timestamp time.Time `json:"timestamp"`
}

func newMeta() meta {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return meta{RequestID: hex.EncodeToString(b[:]), Timestamp: time.Now().UTC()}
}

func page(lim int, total int64, next *string) pagination {
	return pagination{Page: 1, Limit: lim, Total: total, TotalPages: (total + int64(lim) - 1) / int64(lim), NextCursor: next}
}

// cursor is an opaque keyset position of the same size as ours.
func cursor(at time.Time, id uuid.UUID) *string {
	s := "v1." + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10)+"."+id.String()))
	return &s
}

func fail(c echo.Context, err error) error {
	return c.String(http.StatusInternalServerError, err.Error())
}

func denied(c echo.Context) error { return c.String(http.StatusUnauthorized, "unknown key") }

// status is the status filter (nil: none).
func status(c echo.Context) *string {
	if v := c.QueryParam("status"); v != "" {
		return &v
	}
	return nil
}

// countSQL sums the counter slots of the firm's lists (any of lists), optionally of one status.
const countSQL = `SELECT COALESCE(sum(n), 0)::bigint FROM list_counts WHERE firm_id = $1 AND list = ANY($2::text[]) AND ($3::text IS NULL OR status = $3)`

type sentCase struct {
	ID                uuid.UUID  `json:"id"`
	ReferenceNumber   *string    `json:"referenceNumber"`
	CmsID             *string    `json:"cmsId"`
	SalesforceID      *string    `json:"salesforceId"`
	Title             *string    `json:"title"`
	ReceivingFirmName *string    `json:"receivingFirmName"`
	ReceivingFirmID   *uuid.UUID `json:"receivingFirmId"`
	Status            string     `json:"status"`
	ClosingStatus     *string    `json:"closingStatus"`
	CreatedAt         time.Time  `json:"createdAt"`
	UpdatedAt         time.Time  `json:"updatedAt"`
}

// sentCasesSQL: page 1 by activity, newest first, from base_cases_owner_updated_idx.
const sentCasesSQL = `
SELECT c.id, c.reference_number, COALESCE(c.cms_id, c.salesforce_id), c.salesforce_id, c.title,
       f.name, r.referent_firm_id, COALESCE(r.status, 'draft'), r.closing_status, c.created_at, c.updated_at
FROM (SELECT * FROM base_cases WHERE owner_firm_id = $1 ORDER BY updated_at DESC, id DESC LIMIT %[1]d) c
LEFT JOIN LATERAL (SELECT x.status, x.closing_status, x.referent_firm_id FROM referrals x
                   WHERE x.base_case_id = c.id ORDER BY x.sequence_number DESC LIMIT 1) r ON true
LEFT JOIN firms f ON f.id = r.referent_firm_id
ORDER BY c.updated_at DESC, c.id DESC`

// sentCasesStatusSQL: page 1 of one status by activity, from case_listings_status_updated_idx
// (no base-table index orders a firm's cases by the status of their latest referral).
const sentCasesStatusSQL = `
SELECT c.id, c.reference_number, COALESCE(c.cms_id, c.salesforce_id), c.salesforce_id, c.title,
       f.name, l.partner_firm_id, l.status, l.closing_status, c.created_at, c.updated_at
FROM (SELECT base_case_id, partner_firm_id, status, closing_status, case_updated_at FROM case_listings
      WHERE firm_id = $1 AND is_owner AND status = $2
      ORDER BY case_updated_at DESC, base_case_id DESC LIMIT %[1]d) l
JOIN base_cases c ON c.id = l.base_case_id
LEFT JOIN firms f ON f.id = l.partner_firm_id
ORDER BY l.case_updated_at DESC, l.base_case_id DESC`

func (s *server) sentCases(c echo.Context) error {
	firm, ok := s.firm(c)
	if !ok {
		return denied(c)
	}
	ctx, lim, st := c.Request().Context(), limit(c), status(c)
	b := &pgx.Batch{}
	if st == nil {
		b.Queue(fmt.Sprintf(sentCasesSQL, lim), firm)
	} else {
		b.Queue(fmt.Sprintf(sentCasesStatusSQL, lim), firm, *st)
	}
	b.Queue(countSQL, firm, []string{"case_sent"}, st)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return fail(c, err)
	}
	items := make([]sentCase, 0, lim)
	for rows.Next() {
		var v sentCase
		if err := rows.Scan(&v.ID, &v.ReferenceNumber, &v.CmsID, &v.SalesforceID, &v.Title, &v.ReceivingFirmName,
			&v.ReceivingFirmID, &v.Status, &v.ClosingStatus, &v.CreatedAt, &v.UpdatedAt); err != nil {
			return fail(c, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return fail(c, err)
	}
	var total int64
	if err := br.QueryRow().Scan(&total); err != nil {
		return fail(c, err)
	}
	var next *string
	if len(items) == lim && total > int64(lim) {
		last := items[len(items)-1]
		next = cursor(last.UpdatedAt, last.ID)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": items, "pagination": page(lim, total, next), "meta": newMeta()})
}

type receivedReferral struct {
	ID              uuid.UUID `json:"id"`
	BaseCaseID      uuid.UUID `json:"baseCaseId"`
	ReferenceNumber *string   `json:"referenceNumber"`
	CmsID           *string   `json:"cmsId"`
	SalesforceID    *string   `json:"salesforceId"`
	SendingFirmName *string   `json:"sendingFirmName"`
	SendingFirmID   uuid.UUID `json:"sendingFirmId"`
	Status          string    `json:"status"`
	ClosingStatus   *string   `json:"closingStatus"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// receivedSQL: page 1 by activity from referrals_referent_idx (or, with a status,
// referrals_referent_status_idx of 0016).
const receivedSQL = `
SELECT r.id, r.base_case_id, r.reference_number, COALESCE(c.cms_id, c.salesforce_id), c.salesforce_id,
       f.name, r.referring_firm_id, r.status, r.closing_status, r.created_at, r.updated_at
FROM (SELECT * FROM referrals WHERE referent_firm_id = $1 AND status <> 'draft' AND ($2::text IS NULL OR status = $2)
      ORDER BY updated_at DESC, id DESC LIMIT %[1]d) r
JOIN base_cases c ON c.id = r.base_case_id
LEFT JOIN firms f ON f.id = r.referring_firm_id
ORDER BY r.updated_at DESC, r.id DESC`

func (s *server) receivedReferrals(c echo.Context) error {
	firm, ok := s.firm(c)
	if !ok {
		return denied(c)
	}
	ctx, lim, st := c.Request().Context(), limit(c), status(c)
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf(receivedSQL, lim), firm, st)
	b.Queue(countSQL, firm, []string{"referral_received"}, st)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return fail(c, err)
	}
	items := make([]receivedReferral, 0, lim)
	for rows.Next() {
		var v receivedReferral
		if err := rows.Scan(&v.ID, &v.BaseCaseID, &v.ReferenceNumber, &v.CmsID, &v.SalesforceID, &v.SendingFirmName,
			&v.SendingFirmID, &v.Status, &v.ClosingStatus, &v.CreatedAt, &v.UpdatedAt); err != nil {
			return fail(c, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return fail(c, err)
	}
	var total int64
	if err := br.QueryRow().Scan(&total); err != nil {
		return fail(c, err)
	}
	var next *string
	if len(items) == lim && total > int64(lim) {
		last := items[len(items)-1]
		next = cursor(last.UpdatedAt, last.ID)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": items, "pagination": page(lim, total, next), "meta": newMeta()})
}

type referral struct {
	ID                             uuid.UUID  `json:"id"`
	BaseCaseID                     uuid.UUID  `json:"baseCaseId"`
	ReferenceNumber                string     `json:"referenceNumber"`
	SequenceNumber                 int32      `json:"sequenceNumber"`
	Status                         string     `json:"status"`
	ClosingStatus                  *string    `json:"closingStatus"`
	ClosureReason                  *string    `json:"closureReason"`
	ReferringFirmID                uuid.UUID  `json:"referringFirmId"`
	ReferringFirmName              *string    `json:"referringFirmName"`
	ReferentFirmID                 *uuid.UUID `json:"referentFirmId"`
	ReferentFirmName               *string    `json:"referentFirmName"`
	SettlementAmount               *float64   `json:"settlementAmount"`
	AttorneyFees                   *float64   `json:"attorneyFees"`
	ProjectedSettlementAmount      *float64   `json:"projectedSettlementAmount"`
	EstimatedDateOfResolution      *string    `json:"estimatedDateOfResolution"`
	EstimatedDistributionDate      *string    `json:"estimatedDistributionDate"`
	StatuteOfLimitationsExpiration *string    `json:"statuteOfLimitationsExpiration"`
	ClientFeeAgreementPercentage   *float64   `json:"clientFeeAgreementPercentage"`
	SendingFirmPercentage          *float64   `json:"sendingFirmPercentage"`
	LeadAttorneyName               *string    `json:"leadAttorneyName"`
	Phase                          *string    `json:"phase"`
	Notes                          *string    `json:"notes"`
	IsRetainerSigned               bool       `json:"isRetainerSigned"`
	SentAt                         *time.Time `json:"sentAt"`
	ExpiresAt                      *time.Time `json:"expiresAt"`
	AcknowledgedAt                 *time.Time `json:"acknowledgedAt"`
	CreatedAt                      time.Time  `json:"createdAt"`
	UpdatedAt                      time.Time  `json:"updatedAt"`
}

// referralsSQL: page 1 newest first of the firm's referrals on both sides, merged from
// referrals_referring_idx and referrals_referent_created_idx (0016), LIMIT n of each. A firm is
// never both parties of one referral (referrals_not_self), so the two ranges never overlap.
const referralsSQL = `
SELECT r.id, r.base_case_id, r.reference_number, r.sequence_number, r.status, r.closing_status, r.closure_reason,
       r.referring_firm_id, fs.name, r.referent_firm_id, fr.name, r.settlement_amount, r.attorney_fees,
       r.projected_settlement_amount, r.estimated_date_of_resolution::text, r.estimated_distribution_date::text,
       r.statute_of_limitations_expiration::text, r.client_fee_agreement_percentage, r.sending_firm_percentage,
       r.lead_attorney_name, r.phase, r.notes, r.is_retainer_signed, r.sent_at, r.expires_at, r.acknowledged_at,
       r.created_at, r.updated_at
FROM ((SELECT * FROM referrals WHERE referring_firm_id = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at DESC, id DESC LIMIT %[1]d)
      UNION ALL
      (SELECT * FROM referrals WHERE referent_firm_id = $1 AND status <> 'draft' AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at DESC, id DESC LIMIT %[1]d)
      ORDER BY created_at DESC, id DESC LIMIT %[1]d) r
LEFT JOIN firms fs ON fs.id = r.referring_firm_id
LEFT JOIN firms fr ON fr.id = r.referent_firm_id
ORDER BY r.created_at DESC, r.id DESC`

func (s *server) referrals(c echo.Context) error {
	firm, ok := s.firm(c)
	if !ok {
		return denied(c)
	}
	ctx, lim, st := c.Request().Context(), limit(c), status(c)
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf(referralsSQL, lim), firm, st)
	b.Queue(countSQL, firm, []string{"referral_sent", "referral_received"}, st)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return fail(c, err)
	}
	items := make([]referral, 0, lim)
	for rows.Next() {
		var v referral
		if err := rows.Scan(&v.ID, &v.BaseCaseID, &v.ReferenceNumber, &v.SequenceNumber, &v.Status, &v.ClosingStatus, &v.ClosureReason,
			&v.ReferringFirmID, &v.ReferringFirmName, &v.ReferentFirmID, &v.ReferentFirmName, &v.SettlementAmount, &v.AttorneyFees,
			&v.ProjectedSettlementAmount, &v.EstimatedDateOfResolution, &v.EstimatedDistributionDate,
			&v.StatuteOfLimitationsExpiration, &v.ClientFeeAgreementPercentage, &v.SendingFirmPercentage,
			&v.LeadAttorneyName, &v.Phase, &v.Notes, &v.IsRetainerSigned, &v.SentAt, &v.ExpiresAt, &v.AcknowledgedAt,
			&v.CreatedAt, &v.UpdatedAt); err != nil {
			return fail(c, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return fail(c, err)
	}
	var total int64
	if err := br.QueryRow().Scan(&total); err != nil {
		return fail(c, err)
	}
	var next *string
	if len(items) == lim && total > int64(lim) {
		last := items[len(items)-1]
		next = cursor(last.CreatedAt, last.ID)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": items, "pagination": page(lim, total, next), "meta": newMeta()})
}

type statusUpdate struct {
	ID              uuid.UUID  `json:"id"`
	ReferralID      uuid.UUID  `json:"referralId"`
	BaseCaseID      uuid.UUID  `json:"baseCaseId"`
	ReferenceNumber *string    `json:"referenceNumber"`
	Status          string     `json:"status"`
	Message         *string    `json:"message"`
	IsMessage       bool       `json:"isMessage"`
	RequestedStatus *string    `json:"requestedStatus"`
	Source          string     `json:"source"`
	CreatedAt       time.Time  `json:"createdAt"`
	CreatedByName   *string    `json:"createdByName"`
	CreatedByFirmID *uuid.UUID `json:"createdByFirmId"`
}

// feedSQL: the next entries after a position, oldest first, merged from status_updates_referring_idx
// and status_updates_referent_idx (a firm is never both parties of an entry).
const feedSQL = `
SELECT s.id, s.referral_id, s.base_case_id, r.reference_number, s.status, s.message, s.is_message,
       s.requested_status, s.source, s.created_at, s.actor_name, s.actor_firm_id
FROM ((SELECT * FROM status_updates WHERE referring_firm_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT %[1]d)
      UNION ALL
      (SELECT * FROM status_updates WHERE referent_firm_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT %[1]d)
      ORDER BY created_at, id LIMIT %[1]d) s
JOIN referrals r ON r.id = s.referral_id
ORDER BY s.created_at, s.id`

// feedCountSQL: the exact number of entries after the position (no counter exists for an
// arbitrary position): two index-only range counts.
const feedCountSQL = `
SELECT (SELECT count(*) FROM status_updates WHERE referring_firm_id = $1 AND (created_at, id) > ($2, $3))
     + (SELECT count(*) FROM status_updates WHERE referent_firm_id = $1 AND (created_at, id) > ($2, $3))`

var maxUUID = uuid.UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (s *server) statusUpdates(c echo.Context) error {
	firm, ok := s.firm(c)
	if !ok {
		return denied(c)
	}
	ctx, lim := c.Request().Context(), limit(c)
	var at time.Time
	id := maxUUID
	switch {
	case c.QueryParam("cursor") != "":
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c.QueryParam("cursor"), "v1."))
		micros, sid, _ := strings.Cut(string(raw), ".")
		n, err2 := strconv.ParseInt(micros, 10, 64)
		u, err3 := uuid.Parse(sid)
		if err != nil || err2 != nil || err3 != nil {
			return c.String(http.StatusBadRequest, "bad cursor")
		}
		at, id = time.UnixMicro(n).UTC(), u
	case c.QueryParam("updatedSince") != "":
		t, err := time.Parse(time.RFC3339Nano, c.QueryParam("updatedSince"))
		if err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		at = t
	default:
		return c.String(http.StatusBadRequest, "the limit server only polls: pass updatedSince or cursor")
	}
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf(feedSQL, lim), firm, at, id)
	b.Queue(feedCountSQL, firm, at, id)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return fail(c, err)
	}
	items := make([]statusUpdate, 0, lim)
	for rows.Next() {
		var v statusUpdate
		if err := rows.Scan(&v.ID, &v.ReferralID, &v.BaseCaseID, &v.ReferenceNumber, &v.Status, &v.Message, &v.IsMessage,
			&v.RequestedStatus, &v.Source, &v.CreatedAt, &v.CreatedByName, &v.CreatedByFirmID); err != nil {
			return fail(c, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return fail(c, err)
	}
	var total int64
	if err := br.QueryRow().Scan(&total); err != nil {
		return fail(c, err)
	}
	next := cursor(at, id)
	if len(items) > 0 {
		last := items[len(items)-1]
		next = cursor(last.CreatedAt, last.ID)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": items, "pagination": page(lim, total, nil), "nextCursor": *next, "meta": newMeta()})
}
