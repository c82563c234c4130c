package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/refdata"
)

// ---- fixtures: referrals written as the lifecycle writes them --------------------------------

// The analytics tests need referrals sent, acknowledged, signed and closed at chosen instants
// (across time zone day and month boundaries), which the lifecycle operations cannot do: they
// stamp now(). So anInsert writes the rows directly, setting every column the lifecycle sets:
// the case, the referral (status, closing status, money, sent_at, acknowledged_at,
// last_activity_at, is_retainer_signed, expires_at) and one status_updates row per transition,
// starting with the draft -> sent of the send, actors on the side that acts.

const anBase = "/api/public/v1/analytics"

type anStep struct {
	to string
	at string // RFC 3339, UTC
}

type anRef struct {
	from, to   *apitest.Firm // to nil: a draft
	caseKey    string        // referrals with the same key share a case (re-referral)
	caseType   uuid.UUID
	juris      string
	created    string // referral (and case) creation; defaults to sent
	sent       string // empty: a draft
	steps      []anStep
	closing    string
	settlement *float64
	fees       *float64
	projected  *float64
	clientFee  *float64
	sendingPct *float64
	client     string // client last name
	message    string // RFC 3339 time of a message on the referral, if any
}

type anFixture struct {
	h      *apitest.Harness
	cases  map[string]uuid.UUID
	refs   map[string]uuid.UUID
	seq    map[uuid.UUID]int
	stamps map[time.Time]string
}

func anTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

func anF(v float64) *float64 { return &v }

func newAnFixture(h *apitest.Harness) *anFixture {
	return &anFixture{h: h, cases: map[string]uuid.UUID{}, refs: map[string]uuid.UUID{}, seq: map[uuid.UUID]int{}, stamps: map[time.Time]string{}}
}

// insert writes one referral (and its case, the first time caseKey is seen) and returns its id.
func (fx *anFixture) insert(t *testing.T, key string, r anRef) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	pool := fx.h.Pool
	created := r.created
	if created == "" {
		created = r.sent
	}
	createdAt := anTime(t, created)
	caseKey := r.caseKey
	if caseKey == "" {
		caseKey = key
	}
	client := r.client
	if client == "" {
		client = "Client" + key
	}
	caseID, ok := fx.cases[caseKey]
	if !ok {
		require.NoError(t, pool.QueryRow(ctx, `
			INSERT INTO base_cases (owner_firm_id, title, case_type_id, jurisdiction_code, client_first_name,
			                        client_last_name, client_email, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'Zelda', $5, $6, $7, $7) RETURNING id`,
			r.from.ID, "Case "+caseKey, r.caseType, r.juris, client, strings.ToLower(client)+"@example.test", createdAt,
		).Scan(&caseID))
		fx.cases[caseKey] = caseID
	}
	fx.seq[caseID]++
	seq := fx.seq[caseID]

	status, last := "draft", createdAt
	var sentAt, ackAt, expires *time.Time
	signed := false
	if r.sent != "" {
		s := anTime(t, r.sent)
		sentAt, status, last = &s, "sent", s
		for _, st := range r.steps {
			at := anTime(t, st.at)
			if st.to == "under_evaluation" && ackAt == nil {
				ackAt = &at
			}
			if st.to == "signed" {
				signed = true
			}
			status, last = st.to, at
		}
		if status == "sent" {
			e := s.Add(72 * time.Hour)
			expires = &e
		}
	}
	var referent *uuid.UUID
	if r.to != nil && r.sent != "" {
		referent = &r.to.ID
	}
	var closing *string
	if r.closing != "" {
		closing = &r.closing
	}
	var id uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `
		INSERT INTO referrals (base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id,
		                       status, closing_status, settlement_amount, attorney_fees, projected_settlement_amount,
		                       client_fee_agreement_percentage, sending_firm_percentage, is_retainer_signed, sent_at,
		                       expires_at, acknowledged_at, last_activity_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $17)
		RETURNING id`,
		caseID, seq, fmt.Sprintf("AN-%s-R%d", caseKey, seq), r.from.ID, referent, status, closing,
		r.settlement, r.fees, r.projected, r.clientFee, r.sendingPct, signed, sentAt, expires, ackAt, last, createdAt,
	).Scan(&id))
	fx.refs[key] = id

	if r.sent == "" {
		return id
	}
	from := "draft"
	write := func(fromStatus *string, to string, at time.Time, isMessage bool, actor *apitest.Firm) {
		t.Helper()
		if prev, dup := fx.stamps[at]; dup {
			t.Fatalf("fixture: %s and %s would share the history instant %s", prev, key, at)
		}
		fx.stamps[at] = key
		var msg *string
		if isMessage {
			m := "Checking in on this one."
			msg = &m
		}
		_, err := pool.Exec(ctx, `
			INSERT INTO status_updates (referral_id, base_case_id, referring_firm_id, referent_firm_id, from_status,
			                            status, is_message, message, source, actor_firm_id, actor_kind, actor_name, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'api', $9, 'api_key', $10, $11)`,
			id, caseID, r.from.ID, r.to.ID, fromStatus, to, isMessage, msg, actor.ID, actor.Name+" key", at)
		require.NoError(t, err)
	}
	f := from
	write(&f, "sent", *sentAt, false, r.from)
	from = "sent"
	for _, st := range r.steps {
		actor := r.to
		if st.to == "withdrawn" {
			actor = r.from
		}
		f := from
		write(&f, st.to, anTime(t, st.at), false, actor)
		from = st.to
	}
	if r.message != "" {
		write(nil, status, anTime(t, r.message), true, r.from)
	}
	return id
}

// anWorld is the main dataset: Alder sends to and receives from Birch and Cedar; Birch, Cedar
// and Dogwood exchange referrals Alder must never see.
type anWorld struct {
	h                         *apitest.Harness
	fx                        *anFixture
	alder, birch, cedar, dogw *apitest.Firm
	key, dogKey               string
	now                       time.Time
}

func anSetup(t *testing.T) *anWorld {
	t.Helper()
	h := apitest.New(t)
	w := &anWorld{h: h, fx: newAnFixture(h)}
	w.alder = h.NewFirm(apitest.FirmOpts{Name: "Alder Law"})
	w.birch = h.NewFirm(apitest.FirmOpts{Name: "Birch Partners"})
	w.cedar = h.NewFirm(apitest.FirmOpts{Name: "Cedar Legal"})
	w.dogw = h.NewFirm(apitest.FirmOpts{Name: "Dogwood Counsel"})
	w.key, w.dogKey = h.Key(w.alder, apitest.ReadOnly), h.Key(w.dogw, apitest.ReadOnly)
	w.now = anTime(t, "2026-03-04T20:30:00Z")
	h.App.Server.Analytics.SetClock(func() time.Time { return w.now })

	pi, mm := refdata.PersonalInjuryID, refdata.MedicalMalpracticeID
	a, b, c, d := w.alder, w.birch, w.cedar, w.dogw
	ins := w.fx.insert
	// Sent by Alder.
	ins(t, "S1", anRef{from: a, caseType: pi, juris: "IL", created: "2026-01-05T15:00:00Z", projected: anF(7777)})
	ins(t, "S2", anRef{from: a, to: b, caseType: pi, juris: "IL", sent: "2026-01-10T12:00:00Z"})
	ins(t, "S3", anRef{from: a, to: b, caseType: pi, juris: "NY", sent: "2026-01-12T12:00:00Z",
		steps: []anStep{{"under_evaluation", "2026-01-13T12:00:00Z"}}, message: "2026-01-14T09:00:00Z"})
	// Sent at 03:00 UTC on 1 February: still 31 January in Chicago.
	ins(t, "S4", anRef{from: a, to: c, caseType: mm, juris: "IL", sent: "2026-02-01T03:00:00Z",
		steps: []anStep{{"rejected", "2026-02-02T03:00:00Z"}}})
	ins(t, "S5", anRef{from: a, to: c, caseType: pi, juris: "IL", sent: "2026-02-03T12:00:00Z", projected: anF(100000),
		steps: []anStep{{"under_evaluation", "2026-02-04T12:00:00Z"}, {"investigating", "2026-02-06T12:00:00Z"}, {"signed", "2026-02-10T12:00:00Z"}}})
	ins(t, "S6", anRef{from: a, to: b, caseType: mm, juris: "NY", sent: "2026-01-15T12:00:00Z", closing: "won_settled",
		settlement: anF(200000), fees: anF(60000), sendingPct: anF(25), clientFee: anF(0.3),
		steps: []anStep{{"under_evaluation", "2026-01-16T12:00:00Z"}, {"signed", "2026-01-20T12:00:00Z"}, {"closed", "2026-02-20T12:00:00Z"}}})
	ins(t, "S7", anRef{from: a, to: c, caseType: pi, juris: "IL", sent: "2026-01-20T13:00:00Z", closing: "lost", projected: anF(5555),
		steps: []anStep{{"under_evaluation", "2026-01-22T13:00:00Z"}, {"signed", "2026-01-25T13:00:00Z"}, {"closed", "2026-02-25T13:00:00Z"}}})
	ins(t, "S8", anRef{from: a, to: b, caseKey: "C8", caseType: pi, juris: "CA", sent: "2026-02-05T14:00:00Z",
		steps: []anStep{{"withdrawn", "2026-02-06T14:00:00Z"}}})
	ins(t, "S9", anRef{from: a, to: c, caseKey: "C8", caseType: pi, juris: "CA", sent: "2026-02-07T12:00:00Z"})
	// Received by Alder.
	ins(t, "R1", anRef{from: b, to: a, caseType: pi, juris: "IL", sent: "2026-01-08T12:00:00Z", client: "Quixote"})
	ins(t, "R2", anRef{from: b, to: a, caseType: pi, juris: "NY", sent: "2026-01-09T12:00:00Z", closing: "won_settled",
		settlement: anF(100000), fees: anF(40000), sendingPct: anF(20),
		steps: []anStep{{"under_evaluation", "2026-01-09T18:00:00Z"}, {"investigating", "2026-01-11T18:00:00Z"},
			{"signed", "2026-01-14T18:00:00Z"}, {"closed", "2026-02-14T18:00:00Z"}}})
	// Sent at 05:59 UTC on 1 February: 23:59 on 31 January in Chicago.
	ins(t, "R3", anRef{from: c, to: a, caseType: mm, juris: "IL", sent: "2026-02-01T05:59:00Z",
		steps: []anStep{{"rejected", "2026-02-02T05:59:00Z"}}})
	ins(t, "R4", anRef{from: c, to: a, caseType: pi, juris: "IL", sent: "2026-02-10T14:00:00Z", projected: anF(50000),
		steps: []anStep{{"under_evaluation", "2026-02-11T14:00:00Z"}, {"signed", "2026-02-12T14:00:00Z"}}})
	ins(t, "R5", anRef{from: b, to: a, caseType: mm, juris: "IL", sent: "2026-02-12T12:00:00Z", closing: "won_settled",
		settlement: anF(80000), fees: anF(20000),
		steps: []anStep{{"under_evaluation", "2026-02-13T12:00:00Z"}, {"signed", "2026-02-14T12:00:00Z"}, {"closed", "2026-02-28T12:00:00Z"}}})
	// Between other firms.
	ins(t, "X1", anRef{from: b, to: c, caseType: pi, juris: "IL", sent: "2026-01-10T15:00:00Z", closing: "won_settled",
		settlement: anF(999999), fees: anF(1), sendingPct: anF(50),
		steps: []anStep{{"under_evaluation", "2026-01-11T15:00:00Z"}, {"signed", "2026-01-12T15:00:00Z"}, {"closed", "2026-01-30T15:00:00Z"}}})
	ins(t, "X2", anRef{from: d, to: b, caseType: mm, juris: "NY", sent: "2026-02-03T15:00:00Z"})
	return w
}

// get calls an analytics operation with query parameters (name, value pairs) and decodes the
// 200 answer into out.
func (w *anWorld) get(t *testing.T, key, path string, out any, kv ...string) {
	t.Helper()
	r := w.h.Do("GET", anBase+path, apitest.APIKey(key), apitest.Query(kv...))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	// Decode into a zero value: decoding over an earlier answer would keep its absent fields.
	v := reflect.ValueOf(out).Elem()
	v.Set(reflect.Zero(v.Type()))
	r.Decode(out)
}

// invalid calls an analytics operation and checks the 400 names field.
func (w *anWorld) invalid(t *testing.T, path, field string, kv ...string) {
	t.Helper()
	r := w.h.Do("GET", anBase+path, apitest.APIKey(w.key), apitest.Query(kv...))
	require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
	require.Equal(t, "validation_error", r.ErrorCode())
	require.Contains(t, errorFields(t, r), field, string(r.Body))
}

func anStatus(over map[string]int) api.AnalyticsStatusCounts {
	b, _ := json.Marshal(over)
	var c api.AnalyticsStatusCounts
	_ = json.Unmarshal(b, &c)
	return c
}

func anDate(s string) *api.AnalyticsReferralStartDate {
	d, _ := time.Parse(time.DateOnly, s)
	return &api.AnalyticsReferralStartDate{Time: d}
}

func requireRatio(t *testing.T, want float64, got *float64, msgAndArgs ...any) {
	t.Helper()
	require.NotNil(t, got, msgAndArgs...)
	require.InDelta(t, want, *got, 1e-9, msgAndArgs...)
}

func anTrend(f api.ReferralFlowAnalytics) map[string][3]int {
	out := map[string][3]int{}
	for _, p := range f.Trend {
		out[p.Period] = [3]int{p.Referrals, p.Signed, p.Won}
	}
	return out
}

// ---- tests ----------------------------------------------------------------------------------

func TestAnalytics(t *testing.T) {
	t.Parallel()
	w := anSetup(t)

	t.Run("sent figures count drafts in totals and statuses but not in conversion or timing", func(t *testing.T) {
		t.Parallel()
		var r api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/sent", &r)
		d := r.Data
		require.Equal(t, api.ReferralFlowAnalyticsDirectionSent, d.Direction)
		require.Equal(t, "UTC", d.Filters.TimeZone)
		require.Equal(t, 9, d.TotalReferrals)
		require.Equal(t, 5, d.ActiveReferrals)
		require.Equal(t, anStatus(map[string]int{"draft": 1, "sent": 2, "under_evaluation": 1, "signed": 1, "rejected": 1,
			"withdrawn": 1, "closed": 2}), d.ByStatus)
		require.Equal(t, api.AnalyticsClosingStatusCounts{WonSettled: 1, Lost: 1}, d.ByClosingStatus)

		c := d.Conversion
		require.Equal(t, []int{8, 3, 1, 2, 1}, []int{c.ReferredCount, c.SignedCount, c.WonCount, c.ResolvedAfterSigningCount, *c.RejectedCount})
		requireRatio(t, 0.375, c.SentToSignedRate)
		requireRatio(t, 0.5, c.SignedToWonRate)

		// Answers after 1, 1, 1, 1 and 2 days; the withdrawal is the sender's and does not count.
		requireRatio(t, 1.2, d.Timing.AverageDaysToAcknowledge)
		requireRatio(t, 17.0/3, d.Timing.AverageDaysToSign)
		require.Len(t, d.Timing.TimeInStatus, 4)
		for i, want := range []struct {
			status          string
			count           int
			average, median float64
		}{
			{"sent", 6, 7.0 / 6, 1}, {"under_evaluation", 3, 3, 3}, {"investigating", 1, 4, 4}, {"signed", 2, 31, 31},
		} {
			got := d.Timing.TimeInStatus[i]
			require.Equal(t, want.status, got.Status)
			require.Equal(t, want.count, got.ReferralCount, want.status)
			require.InDelta(t, want.average, got.AverageDays, 1e-9, want.status)
			requireRatio(t, want.median, got.MedianDays, want.status)
		}

		require.Len(t, d.ByPartnerFirm, 2)
		require.Equal(t, []string{w.birch.ID.String(), w.cedar.ID.String()}, []string{d.ByPartnerFirm[0].Key, d.ByPartnerFirm[1].Key})
		require.Equal(t, "Birch Partners", d.ByPartnerFirm[0].Label)
		require.Equal(t, []int{4, 1, 1}, []int{d.ByPartnerFirm[0].Referrals, d.ByPartnerFirm[0].Signed, d.ByPartnerFirm[0].Won})
		requireRatio(t, 0.25, d.ByPartnerFirm[0].SentToSignedRate)
		require.Equal(t, []int{4, 2, 0}, []int{d.ByPartnerFirm[1].Referrals, d.ByPartnerFirm[1].Signed, d.ByPartnerFirm[1].Won})
		requireRatio(t, 0.5, d.ByPartnerFirm[1].SentToSignedRate)

		require.Len(t, d.ByCaseType, 2)
		require.Equal(t, api.AnalyticsBreakdownItem{Key: "personal_injury", Label: "Personal Injury", Referrals: 7, Signed: 2, Won: 0,
			SentToSignedRate: d.ByCaseType[0].SentToSignedRate}, d.ByCaseType[0])
		requireRatio(t, 2.0/6, d.ByCaseType[0].SentToSignedRate)
		require.Equal(t, []any{"medical_malpractice", "Medical Malpractice", 2, 1, 1}, []any{d.ByCaseType[1].Key, d.ByCaseType[1].Label,
			d.ByCaseType[1].Referrals, d.ByCaseType[1].Signed, d.ByCaseType[1].Won})

		require.Len(t, d.ByJurisdiction, 3)
		var juris []string
		for _, j := range d.ByJurisdiction {
			juris = append(juris, fmt.Sprintf("%s %s %d/%d/%d", j.Key, j.Label, j.Referrals, j.Signed, j.Won))
		}
		require.Equal(t, []string{"IL Illinois 5/2/0", "CA California 2/0/0", "NY New York 2/1/1"}, juris)
		requireRatio(t, 0, d.ByJurisdiction[1].SentToSignedRate)

		require.Equal(t, map[string][3]int{"2026-01": {5, 2, 0}, "2026-02": {4, 1, 1}}, anTrend(d))
		require.Equal(t, "2026-01-01", d.Trend[0].PeriodStart.String())
	})

	t.Run("received figures come from the referrals sent to the firm", func(t *testing.T) {
		t.Parallel()
		var r api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/received", &r)
		d := r.Data
		require.Equal(t, api.ReferralFlowAnalyticsDirectionReceived, d.Direction)
		require.Equal(t, 5, d.TotalReferrals)
		require.Equal(t, 2, d.ActiveReferrals)
		require.Equal(t, anStatus(map[string]int{"sent": 1, "signed": 1, "rejected": 1, "closed": 2}), d.ByStatus)
		require.Equal(t, api.AnalyticsClosingStatusCounts{WonSettled: 2}, d.ByClosingStatus)
		c := d.Conversion
		require.Equal(t, []int{5, 3, 2, 2, 1}, []int{c.ReferredCount, c.SignedCount, c.WonCount, c.ResolvedAfterSigningCount, *c.RejectedCount})
		requireRatio(t, 0.6, c.SentToSignedRate)
		requireRatio(t, 1, c.SignedToWonRate)
		requireRatio(t, 3.25/4, d.Timing.AverageDaysToAcknowledge)
		requireRatio(t, 9.25/3, d.Timing.AverageDaysToSign)
		var stays []string
		for _, s := range d.Timing.TimeInStatus {
			stays = append(stays, fmt.Sprintf("%s %d %.4f %.4f", s.Status, s.ReferralCount, s.AverageDays, *s.MedianDays))
		}
		require.Equal(t, []string{"sent 4 0.8125 1.0000", "under_evaluation 3 1.3333 1.0000", "investigating 1 3.0000 3.0000",
			"signed 2 22.5000 22.5000"}, stays)

		require.Equal(t, w.birch.ID.String(), d.ByPartnerFirm[0].Key)
		require.Equal(t, []int{3, 2, 2}, []int{d.ByPartnerFirm[0].Referrals, d.ByPartnerFirm[0].Signed, d.ByPartnerFirm[0].Won})
		requireRatio(t, 2.0/3, d.ByPartnerFirm[0].SentToSignedRate)
		require.Equal(t, []int{2, 1, 0}, []int{d.ByPartnerFirm[1].Referrals, d.ByPartnerFirm[1].Signed, d.ByPartnerFirm[1].Won})
		require.Equal(t, []int{3, 2, 1}, []int{d.ByCaseType[0].Referrals, d.ByCaseType[0].Signed, d.ByCaseType[0].Won})
		require.Equal(t, "IL", d.ByJurisdiction[0].Key)
		require.Equal(t, []int{4, 2, 1}, []int{d.ByJurisdiction[0].Referrals, d.ByJurisdiction[0].Signed, d.ByJurisdiction[0].Won})
		require.Equal(t, map[string][3]int{"2026-01": {2, 1, 0}, "2026-02": {3, 2, 2}}, anTrend(d))
	})

	t.Run("tz moves the day boundaries of the date filters", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			path, tz string
			kv       []string
			want     int
		}{
			{"/received", "UTC", []string{"referralStartDate", "2026-02-01"}, 3},
			{"/received", "America/Chicago", []string{"referralStartDate", "2026-02-01"}, 2},
			{"/received", "UTC", []string{"referralEndDate", "2026-01-31"}, 2},
			{"/received", "America/Chicago", []string{"referralEndDate", "2026-01-31"}, 3},
			{"/sent", "UTC", []string{"referralStartDate", "2026-02-01"}, 4},
			{"/sent", "America/Chicago", []string{"referralStartDate", "2026-02-01"}, 3},
			{"/sent", "America/Chicago", []string{"referralStartDate", "2026-01-31", "referralEndDate", "2026-01-31"}, 1},
		} {
			var r api.ReferralFlowAnalyticsResponse
			w.get(t, w.key, c.path, &r, append(c.kv, "tz", c.tz)...)
			require.Equal(t, c.want, r.Data.TotalReferrals, "%s %s %v", c.path, c.tz, c.kv)
			require.Equal(t, c.tz, r.Data.Filters.TimeZone)
		}
	})

	t.Run("tz moves referrals between the months of the trend", func(t *testing.T) {
		t.Parallel()
		var sent, recv api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/sent", &sent, "tz", "America/Chicago")
		require.Equal(t, map[string][3]int{"2026-01": {6, 2, 0}, "2026-02": {3, 1, 1}}, anTrend(sent.Data))
		w.get(t, w.key, "/received", &recv, "tz", "America/Chicago")
		require.Equal(t, map[string][3]int{"2026-01": {3, 1, 0}, "2026-02": {2, 2, 2}}, anTrend(recv.Data))
	})

	t.Run("case type filter takes the name, the display name or the id", func(t *testing.T) {
		t.Parallel()
		for _, v := range []string{"personal_injury", "Personal Injury", refdata.PersonalInjuryID.String()} {
			var r api.ReferralFlowAnalyticsResponse
			w.get(t, w.key, "/sent", &r, "caseType", v)
			require.Equal(t, 7, r.Data.TotalReferrals, v)
			require.Equal(t, "personal_injury", *r.Data.Filters.CaseType)
		}
		var r api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/sent", &r, "caseType", "not_a_case_type")
		require.Zero(t, r.Data.TotalReferrals)
		require.Equal(t, "not_a_case_type", *r.Data.Filters.CaseType)
		require.Empty(t, r.Data.ByPartnerFirm)
		require.Empty(t, r.Data.Trend)
	})

	t.Run("jurisdiction filter ignores letter case and unknown codes match nothing", func(t *testing.T) {
		t.Parallel()
		var r api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/received", &r, "jurisdiction", "ny")
		require.Equal(t, 1, r.Data.TotalReferrals)
		require.Equal(t, "NY", *r.Data.Filters.Jurisdiction)
		w.get(t, w.key, "/received", &r, "jurisdiction", "ZZ")
		require.Zero(t, r.Data.TotalReferrals)
	})

	t.Run("signed range keeps referrals signed in it", func(t *testing.T) {
		t.Parallel()
		var sent, recv api.ReferralFlowAnalyticsResponse
		w.get(t, w.key, "/sent", &sent, "signedStartDate", "2026-02-01", "signedEndDate", "2026-02-28")
		require.Equal(t, 1, sent.Data.TotalReferrals)
		require.Equal(t, 1, sent.Data.ByStatus.Signed)
		w.get(t, w.key, "/received", &recv, "signedStartDate", "2026-02-01", "signedEndDate", "2026-02-28")
		require.Equal(t, 2, recv.Data.TotalReferrals)
		require.Equal(t, anDate("2026-02-01").String(), recv.Data.Filters.SignedStartDate.String())
	})

	t.Run("first referral range reads the case's earliest referral", func(t *testing.T) {
		t.Parallel()
		var r api.ReferralFlowAnalyticsResponse
		// The re-referral of 7 February belongs to a case first referred on 5 February.
		w.get(t, w.key, "/sent", &r, "firstReferralStartDate", "2026-02-05")
		require.Equal(t, 2, r.Data.TotalReferrals)
		require.Equal(t, 1, r.Data.ByStatus.Withdrawn)
		// The draft's case was never referred.
		w.get(t, w.key, "/sent", &r, "firstReferralEndDate", "2026-02-04")
		require.Equal(t, 6, r.Data.TotalReferrals)
		require.Zero(t, r.Data.ByStatus.Draft)
	})

	t.Run("revenue received sums won referrals and splits the fees", func(t *testing.T) {
		t.Parallel()
		var r api.RevenueAnalyticsResponse
		w.get(t, w.key, "/revenue-received", &r)
		d := r.Data
		require.Equal(t, api.RevenueAnalyticsDirectionReceived, d.Direction)
		require.Equal(t, api.RevenueAnalyticsCurrencyUSD, d.Currency)
		require.Equal(t, 2, d.WonCount)
		require.Equal(t, 180000.0, d.TotalSettlementAmount)
		require.Equal(t, 60000.0, d.TotalAttorneyFees)
		requireRatio(t, 90000, d.AverageSettlementAmount)
		requireRatio(t, 30000, d.AverageAttorneyFees)
		require.Equal(t, 8000.0, d.FeeSplit.SendingFirmShare)
		require.Equal(t, 32000.0, d.FeeSplit.ReceivingFirmShare)
		requireRatio(t, 0.2, d.FeeSplit.AverageSendingFirmShareRatio)
		require.Equal(t, 1, d.FeeSplit.ReferralsWithoutSplit)
		require.Equal(t, 50000.0, d.ProjectedSettlementAmount)
		require.Equal(t, 1, *d.OpenReferralsWithProjection)
		require.Equal(t, []api.RevenueBreakdownItem{{Key: w.birch.ID.String(), Label: "Birch Partners", WonCount: 2,
			SettlementAmount: 180000, AttorneyFees: 60000, SendingFirmShare: 8000, ReceivingFirmShare: 32000}}, d.ByPartnerFirm)
		require.Equal(t, []api.RevenueBreakdownItem{
			{Key: "personal_injury", Label: "Personal Injury", WonCount: 1, SettlementAmount: 100000, AttorneyFees: 40000, SendingFirmShare: 8000, ReceivingFirmShare: 32000},
			{Key: "medical_malpractice", Label: "Medical Malpractice", WonCount: 1, SettlementAmount: 80000, AttorneyFees: 20000},
		}, d.ByCaseType)
		require.Equal(t, []string{"NY", "IL"}, []string{d.ByJurisdiction[0].Key, d.ByJurisdiction[1].Key})
		require.Len(t, d.Trend, 1)
		require.Equal(t, api.RevenueTrendPoint{Period: "2026-02", PeriodStart: *anDate("2026-02-01"), WonCount: 2,
			SettlementAmount: 180000, AttorneyFees: 60000}, d.Trend[0])
	})

	t.Run("revenue sent leaves drafts and ended referrals out of the pipeline", func(t *testing.T) {
		t.Parallel()
		var r api.RevenueAnalyticsResponse
		w.get(t, w.key, "/revenue-sent", &r)
		d := r.Data
		require.Equal(t, 1, d.WonCount)
		require.Equal(t, 200000.0, d.TotalSettlementAmount)
		require.Equal(t, 60000.0, d.TotalAttorneyFees)
		require.Equal(t, api.RevenueFeeSplit{SendingFirmShare: 15000, ReceivingFirmShare: 45000,
			AverageSendingFirmShareRatio: d.FeeSplit.AverageSendingFirmShareRatio}, d.FeeSplit)
		requireRatio(t, 0.25, d.FeeSplit.AverageSendingFirmShareRatio)
		require.Equal(t, 100000.0, d.ProjectedSettlementAmount)
		require.Equal(t, 1, *d.OpenReferralsWithProjection)
		require.Equal(t, "New York", d.ByJurisdiction[0].Label)
		require.Equal(t, "medical_malpractice", d.ByCaseType[0].Key)

		// Nothing won in January: no money, no averages.
		w.get(t, w.key, "/revenue-sent", &r, "signedStartDate", "2026-02-01")
		require.Zero(t, r.Data.WonCount)
		require.Nil(t, r.Data.AverageSettlementAmount)
		require.Nil(t, r.Data.FeeSplit.AverageSendingFirmShareRatio)
		require.Equal(t, 100000.0, r.Data.ProjectedSettlementAmount)
		require.Empty(t, r.Data.Trend)
	})

	t.Run("dashboard adds up both directions", func(t *testing.T) {
		t.Parallel()
		var r api.DashboardAnalyticsResponse
		w.get(t, w.key, "/dashboard", &r)
		d := r.Data
		require.Equal(t, []int{14, 9, 5}, []int{d.TotalCases, d.SentCount, d.ReceivedCount})
		require.Equal(t, api.AnalyticsStatusBuckets{Pending: 4, InProgress: 1, Accepted: 2, Rejected: 3, Closed: 4}, d.StatusBreakdown)
		require.Equal(t, anStatus(map[string]int{"draft": 1, "sent": 3, "under_evaluation": 1, "signed": 2, "rejected": 2,
			"withdrawn": 1, "closed": 4}), *d.ByStatus)
		require.InDelta(t, 9.25*24/9, d.AverageResponseTimeHours, 1e-9)
		requireRatio(t, 9.25/9, d.AverageDaysToAcknowledge)
		requireRatio(t, 26.25/6, d.AverageDaysToSign)
		require.Equal(t, 380000.0, *d.TotalSettlementAmount)
		require.Equal(t, 120000.0, *d.TotalAttorneyFees)
		require.Equal(t, 8, d.SentConversion.ReferredCount)
		require.Equal(t, 2, d.ReceivedConversion.WonCount)
		require.Equal(t, []api.DashboardCaseTypeCount{
			{CaseType: "Personal Injury", CaseTypeName: ptr.To("personal_injury"), Count: 10},
			{CaseType: "Medical Malpractice", CaseTypeName: ptr.To("medical_malpractice"), Count: 4},
		}, d.TopCaseTypes)
		require.Equal(t, []api.DashboardPartnerFirm{
			{FirmId: w.birch.ID, FirmName: "Birch Partners", ReferralCount: 7, SentCount: ptr.To(4), ReceivedCount: ptr.To(3)},
			{FirmId: w.cedar.ID, FirmName: "Cedar Legal", ReferralCount: 6, SentCount: ptr.To(4), ReceivedCount: ptr.To(2)},
		}, d.TopPartnerFirms)
		require.Equal(t, anTime(t, "2026-01-05T15:00:00Z"), d.PeriodStart.UTC())
		require.Equal(t, w.now, d.PeriodEnd.UTC())
	})

	t.Run("dashboard window is the referral date range in tz", func(t *testing.T) {
		t.Parallel()
		var r api.DashboardAnalyticsResponse
		w.get(t, w.key, "/dashboard", &r, "referralStartDate", "2026-02-01", "referralEndDate", "2026-02-28", "tz", "America/Chicago")
		d := r.Data
		require.Equal(t, []int{5, 3, 2}, []int{d.TotalCases, d.SentCount, d.ReceivedCount})
		require.Equal(t, anTime(t, "2026-02-01T06:00:00Z"), d.PeriodStart.UTC())
		require.Equal(t, anTime(t, "2026-03-01T05:59:59.999Z"), d.PeriodEnd.UTC())
		require.Equal(t, "America/Chicago", d.Filters.TimeZone)
	})

	t.Run("cases keeps dateFrom and dateTo working", func(t *testing.T) {
		t.Parallel()
		var r api.CaseAnalyticsResponse
		w.get(t, w.key, "/cases", &r)
		d := r.Data
		require.Nil(t, d.DateFrom)
		require.Nil(t, d.DateTo)
		require.Equal(t, []int{14, 9, 5}, []int{d.TotalCases, d.SentCount, d.ReceivedCount})
		require.Equal(t, api.AnalyticsStatusBuckets{Pending: 4, InProgress: 1, Accepted: 2, Rejected: 3, Closed: 4}, d.StatusBreakdown)
		require.Equal(t, []api.CaseAnalyticsMonth{{Month: "2026-01", Sent: 5, Received: 2, Total: 7}, {Month: "2026-02", Sent: 4, Received: 3, Total: 7}}, d.MonthlySummary)
		require.Equal(t, []api.CaseAnalyticsCaseType{
			{CaseType: "Personal Injury", CaseTypeName: ptr.To("personal_injury"), Sent: 7, Received: 3, Total: 10},
			{CaseType: "Medical Malpractice", CaseTypeName: ptr.To("medical_malpractice"), Sent: 2, Received: 2, Total: 4},
		}, d.CaseTypeBreakdown)
		require.Equal(t, []api.CaseAnalyticsJurisdiction{
			{Jurisdiction: "IL", JurisdictionName: ptr.To("Illinois"), Sent: 5, Received: 4, Total: 9},
			{Jurisdiction: "NY", JurisdictionName: ptr.To("New York"), Sent: 2, Received: 1, Total: 3},
			{Jurisdiction: "CA", JurisdictionName: ptr.To("California"), Sent: 2, Received: 0, Total: 2},
		}, *d.JurisdictionBreakdown)
		require.InDelta(t, 9.25*24/9, d.AverageResponseTimeHours, 1e-9)

		w.get(t, w.key, "/cases", &r, "dateFrom", "2026-02-01", "dateTo", "2026-02-28", "tz", "America/Chicago")
		d = r.Data
		require.Equal(t, "2026-02-01", d.DateFrom.String())
		require.Equal(t, "2026-02-28", d.DateTo.String())
		require.Equal(t, []int{5, 3, 2}, []int{d.TotalCases, d.SentCount, d.ReceivedCount})
		require.Equal(t, []api.CaseAnalyticsMonth{{Month: "2026-02", Sent: 3, Received: 2, Total: 5}}, d.MonthlySummary)

		// The newer names win over the older ones.
		w.get(t, w.key, "/cases", &r, "dateFrom", "2026-02-01", "referralStartDate", "2026-01-01")
		require.Equal(t, "2026-01-01", r.Data.DateFrom.String())
		require.Equal(t, 13, r.Data.TotalCases)
	})

	t.Run("referrals counts both directions without drafts and the re-referred cases", func(t *testing.T) {
		t.Parallel()
		var r api.ReferralsAnalyticsResponse
		w.get(t, w.key, "/referrals", &r)
		d := r.Data
		require.Equal(t, []int{13, 8, 5, 7, 1}, []int{d.TotalReferrals, d.SentCount, d.ReceivedCount, d.CasesReferred, d.ReReferredCases})
		requireRatio(t, 8.0/7, d.AverageReferralsPerCase)
		require.Equal(t, anStatus(map[string]int{"sent": 2, "under_evaluation": 1, "signed": 1, "rejected": 1, "withdrawn": 1, "closed": 2}), d.SentByStatus)
		require.Equal(t, anStatus(map[string]int{"sent": 1, "signed": 1, "rejected": 1, "closed": 2}), d.ReceivedByStatus)
		require.Equal(t, []api.AnalyticsVolumeItem{
			{Key: w.birch.ID.String(), Label: "Birch Partners", Sent: 4, Received: 3, Total: 7},
			{Key: w.cedar.ID.String(), Label: "Cedar Legal", Sent: 4, Received: 2, Total: 6},
		}, d.ByPartnerFirm)
		require.Equal(t, []api.AnalyticsVolumeItem{
			{Key: "personal_injury", Label: "Personal Injury", Sent: 6, Received: 3, Total: 9},
			{Key: "medical_malpractice", Label: "Medical Malpractice", Sent: 2, Received: 2, Total: 4},
		}, d.ByCaseType)
		require.Equal(t, []string{"IL", "NY", "CA"}, []string{d.ByJurisdiction[0].Key, d.ByJurisdiction[1].Key, d.ByJurisdiction[2].Key})
		require.Equal(t, 8, d.ByJurisdiction[0].Total)
		require.Equal(t, []api.ReferralsTrendPoint{
			{Period: "2026-01", PeriodStart: *anDate("2026-01-01"), Sent: 4, Received: 2, Total: 6},
			{Period: "2026-02", PeriodStart: *anDate("2026-02-01"), Sent: 4, Received: 3, Total: 7},
		}, d.Trend)
	})

	t.Run("a firm sees only referrals it sent or received", func(t *testing.T) {
		t.Parallel()
		var r api.DashboardAnalyticsResponse
		w.get(t, w.dogKey, "/dashboard", &r)
		require.Equal(t, []int{1, 1, 0}, []int{r.Data.TotalCases, r.Data.SentCount, r.Data.ReceivedCount})
		require.Zero(t, *r.Data.TotalSettlementAmount)
		require.Nil(t, r.Data.AverageDaysToAcknowledge)
		require.Zero(t, r.Data.AverageResponseTimeHours)
		require.Equal(t, anTime(t, "2026-02-03T15:00:00Z"), r.Data.PeriodStart.UTC())
	})

	t.Run("cases by status lists one status either way, in either letter case", func(t *testing.T) {
		t.Parallel()
		var r api.CasesByStatusResponse
		w.get(t, w.key, "/cases-by-status", &r, "status", "SENT", "context", "sent")
		require.Len(t, r.Data, 2)
		require.Equal(t, []uuid.UUID{w.fx.refs["S9"], w.fx.refs["S2"]}, []uuid.UUID{r.Data[0].ReferralId, r.Data[1].ReferralId})
		require.Equal(t, w.fx.cases["C8"], r.Data[0].Id, "a sent item opens the case")
		require.Equal(t, r.Data[0].Id, r.Data[0].CaseId)
		require.Equal(t, "AN-C8-R2", *r.Data[0].ReferenceNumber)
		require.Equal(t, "Cedar Legal", r.Data[0].FirmName)
		require.Equal(t, w.cedar.ID, *r.Data[0].FirmId)
		require.Equal(t, anTime(t, "2026-02-07T12:00:00Z"), r.Data[0].ReferredOn.UTC())
		require.Equal(t, "sent", r.Data[0].Status)
		require.Equal(t, "personal_injury", *r.Data[0].CaseType)
		require.Equal(t, "CA", *r.Data[0].Jurisdiction)

		raw := w.h.Do("GET", anBase+"/cases-by-status", apitest.APIKey(w.key), apitest.Query("status", "sent", "context", "received"))
		require.Equal(t, http.StatusOK, raw.StatusCode)
		r = api.CasesByStatusResponse{}
		raw.Decode(&r)
		require.Len(t, r.Data, 1)
		require.Equal(t, w.fx.refs["R1"], r.Data[0].Id, "a received item opens the referral")
		require.Equal(t, "Birch Partners", r.Data[0].FirmName)
		// The receiver has not acknowledged it: nothing about the client is shown.
		require.NotContains(t, string(raw.Body), "Quixote")
		require.NotContains(t, string(raw.Body), "Zelda")

		w.get(t, w.key, "/cases-by-status", &r, "status", "closed", "context", "received", "limit", "1")
		require.Len(t, r.Data, 1)
		require.Equal(t, w.fx.refs["R5"], r.Data[0].Id)
		w.get(t, w.key, "/cases-by-status", &r, "status", "closed", "context", "received", "limit", "0")
		require.Len(t, r.Data, 1, "a limit below 1 is raised to 1")
		w.get(t, w.key, "/cases-by-status", &r, "status", "closed", "context", "received", "limit", "100000")
		require.Len(t, r.Data, 2)

		w.get(t, w.key, "/cases-by-status", &r, "status", "Draft", "context", "sent")
		require.Len(t, r.Data, 1)
		require.Nil(t, r.Data[0].FirmId)
		require.Empty(t, r.Data[0].FirmName)
		require.Equal(t, anTime(t, "2026-01-05T15:00:00Z"), r.Data[0].ReferredOn.UTC())
		w.get(t, w.key, "/cases-by-status", &r, "status", "draft", "context", "received")
		require.Empty(t, r.Data)
		w.get(t, w.key, "/cases-by-status", &r, "status", "won", "context", "sent")
		require.Empty(t, r.Data, "won is an older status no referral holds")

		w.invalid(t, "/cases-by-status", "query.status", "status", "pending", "context", "sent")
		w.invalid(t, "/cases-by-status", "query.context", "status", "sent", "context", "both")
	})

	t.Run("invalid filters are validation errors naming the field", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/dashboard", "/cases", "/received", "/sent", "/revenue-received", "/revenue-sent", "/referrals", "/homepage"} {
			w.invalid(t, path, "query.tz", "tz", "Mars/Olympus_Mons")
		}
		w.invalid(t, "/sent", "query.tz", "tz", "Local")
		w.invalid(t, "/dashboard", "query.referralEndDate", "referralStartDate", "2026-02-10", "referralEndDate", "2026-02-01")
		w.invalid(t, "/received", "query.signedEndDate", "signedStartDate", "2026-02-10", "signedEndDate", "2026-02-01")
		w.invalid(t, "/referrals", "query.firstReferralEndDate", "firstReferralStartDate", "2026-02-10", "firstReferralEndDate", "2026-02-01")
		w.invalid(t, "/cases", "query.dateTo", "dateFrom", "2026-02-10", "dateTo", "2026-02-01")
		w.invalid(t, "/revenue-sent", "query.referralStartDate", "referralStartDate", "2026-02-30")
		w.invalid(t, "/sent", "query.signedEndDate", "signedEndDate", "yesterday")
		r := w.h.Do("GET", anBase+"/export", apitest.APIKey(w.key), apitest.Query("tz", "Nowhere/Special"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
	})

	t.Run("the bundled export has one sheet per category matching the JSON endpoints", func(t *testing.T) {
		t.Parallel()
		key := w.h.Key(w.alder, apitest.ReadOnly)
		q := []string{"tz", "America/Chicago", "referralStartDate", "2026-01-09", "caseType", "personal_injury"}
		r := w.h.Do("GET", anBase+"/export", apitest.APIKey(key), apitest.Query(q...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="analytics-export.xlsx"`, r.Header.Get("Content-Disposition"))
		book, err := excelize.OpenReader(bytes.NewReader(r.Body))
		require.NoError(t, err)
		defer book.Close()
		cats := []string{"dashboard", "cases", "homepage", "received", "sent", "revenue-received", "revenue-sent", "referrals"}
		require.Equal(t, cats, book.GetSheetList())
		for _, cat := range cats {
			data := anJSONData(t, w, key, "/"+cat, q)
			rows := anSheetRows(t, book, cat)
			anCompareRows(t, cat, data, rows)
		}
	})

	t.Run("filters list every filter, null when not applied", func(t *testing.T) {
		t.Parallel()
		filters := func(t *testing.T, path string, kv ...string) map[string]any {
			t.Helper()
			r := w.h.Do("GET", anBase+path, apitest.APIKey(w.key), apitest.Query(kv...))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			var env struct {
				Data struct {
					Filters map[string]any `json:"filters"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &env))
			return env.Data.Filters
		}
		none := map[string]any{
			"referralStartDate": nil, "referralEndDate": nil, "firstReferralStartDate": nil, "firstReferralEndDate": nil,
			"signedStartDate": nil, "signedEndDate": nil, "caseType": nil, "jurisdiction": nil, "timeZone": "UTC",
		}
		for _, path := range []string{"/dashboard", "/cases", "/received", "/sent", "/revenue-received", "/revenue-sent", "/referrals"} {
			require.Equal(t, none, filters(t, path), path)
			some := maps.Clone(none)
			some["referralStartDate"], some["signedEndDate"], some["jurisdiction"], some["timeZone"] = "2026-01-09", "2026-02-28", "IL", "America/Chicago"
			require.Equal(t, some, filters(t, path, "referralStartDate", "2026-01-09", "signedEndDate", "2026-02-28",
				"jurisdiction", "il", "tz", "America/Chicago"), path)
		}
	})

	t.Run("two exports of the same data are the same file", func(t *testing.T) {
		t.Parallel()
		key := w.h.Key(w.alder, apitest.ReadOnly)
		q := []string{"tz", "America/Chicago", "referralStartDate", "2026-01-01", "referralEndDate", "2026-02-28"}
		export := func() ([]byte, []string) {
			r := w.h.Do("GET", anBase+"/export", apitest.APIKey(key), apitest.Query(q...))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
			require.NoError(t, err)
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			return r.Body, names
		}
		first, names := export()
		require.Equal(t, "[Content_Types].xml", names[0])
		require.Contains(t, names, "xl/worksheets/sheet8.xml")
		for range 3 {
			again, againNames := export()
			require.Equal(t, names, againNames)
			require.Equal(t, first, again)
		}
	})

	t.Run("a category exports as a workbook or as CSV", func(t *testing.T) {
		t.Parallel()
		key := w.h.Key(w.alder, apitest.ReadOnly)
		q := []string{"tz", "America/Chicago"}
		for _, cat := range []string{"sent", "revenue-received", "cases", "homepage"} {
			r := w.h.Do("GET", anBase+"/"+cat+"/export", apitest.APIKey(key), apitest.Query(q...))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			require.Equal(t, fmt.Sprintf(`attachment; filename="%s-export.xlsx"`, cat), r.Header.Get("Content-Disposition"))
			book, err := excelize.OpenReader(bytes.NewReader(r.Body))
			require.NoError(t, err)
			require.Equal(t, []string{cat}, book.GetSheetList())
			anCompareRows(t, cat, anJSONData(t, w, key, "/"+cat, q), anSheetRows(t, book, cat))
			require.NoError(t, book.Close())

			r = w.h.Do("GET", anBase+"/"+cat+"/export", apitest.APIKey(key), apitest.Query(append(q, "format", "csv")...))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"))
			require.Equal(t, fmt.Sprintf(`attachment; filename="%s-export.csv"`, cat), r.Header.Get("Content-Disposition"))
			records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			require.NoError(t, err)
			require.Equal(t, []string{"section", "item", "metric", "value", "unit"}, records[0])
			var rows []anRow
			for _, rec := range records[1:] {
				rows = append(rows, anRow{section: rec[0], item: rec[1], metric: rec[2], value: rec[3], unit: rec[4]})
			}
			anCompareRows(t, cat+".csv", anJSONData(t, w, key, "/"+cat, q), rows)
		}
	})

	t.Run("exports have a budget of their own per key", func(t *testing.T) {
		t.Parallel()
		key := w.h.Key(w.alder, apitest.ReadOnly)
		for i := 0; i < 10; i++ {
			r := w.h.Do("GET", anBase+"/homepage/export", apitest.APIKey(key), apitest.Query("format", "csv"))
			require.Equal(t, http.StatusOK, r.StatusCode, "export %d: %s", i+1, r.Body)
		}
		r := w.h.Do("GET", anBase+"/export", apitest.APIKey(key))
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode, string(r.Body))
		require.Equal(t, "rate_limited", r.ErrorCode())
		retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.Positive(t, retry)
		// The JSON endpoints are not affected.
		var d api.DashboardAnalyticsResponse
		w.get(t, key, "/dashboard", &d)
	})
}

// ---- export checks --------------------------------------------------------------------------

type anRow struct {
	section, item, metric, value, unit string
	itemIsDate                         bool
}

// anJSONData fetches a category's JSON data for the same query.
func anJSONData(t *testing.T, w *anWorld, key, path string, q []string) map[string]any {
	t.Helper()
	if path == "/homepage" {
		q = []string{"tz", anQueryValue(q, "tz")}
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	w.get(t, key, path, &env, q...)
	return env.Data
}

func anQueryValue(q []string, name string) string {
	v := url.Values{}
	for i := 0; i+1 < len(q); i += 2 {
		v.Add(q[i], q[i+1])
	}
	return v.Get(name)
}

// anSheetRows reads a sheet, checking its header, that values are numbers and months dates.
func anSheetRows(t *testing.T, book *excelize.File, sheet string) []anRow {
	t.Helper()
	panes, err := book.GetPanes(sheet)
	require.NoError(t, err)
	require.True(t, panes.Freeze, sheet)
	require.Equal(t, 1, panes.YSplit, sheet)
	all, err := book.GetRows(sheet)
	require.NoError(t, err)
	require.Equal(t, []string{"section", "item", "metric", "value", "unit"}, all[0], sheet)
	var out []anRow
	for i, rec := range all[1:] {
		for len(rec) < 5 {
			rec = append(rec, "")
		}
		row := anRow{section: rec[0], item: rec[1], metric: rec[2], value: rec[3], unit: rec[4]}
		if row.value != "" {
			cell := fmt.Sprintf("D%d", i+2)
			typ, err := book.GetCellType(sheet, cell)
			require.NoError(t, err)
			require.NotContains(t, []excelize.CellType{excelize.CellTypeSharedString, excelize.CellTypeInlineString}, typ,
				"%s!%s holds text, not a number", sheet, cell)
			raw, err := book.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			row.value = raw
		}
		cell := fmt.Sprintf("B%d", i+2)
		if typ, _ := book.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString && row.item != "" {
			// A month: stored as a serial date, shown as yyyy-mm.
			raw, err := book.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			serial, err := strconv.ParseFloat(raw, 64)
			require.NoError(t, err, "%s!%s", sheet, cell)
			date, err := excelize.ExcelDateToTime(serial, false)
			require.NoError(t, err)
			require.Equal(t, date.Format("2006-01"), row.item, "%s!%s", sheet, cell)
			row.itemIsDate = true
		}
		out = append(out, row)
	}
	return out
}

// anCompareRows checks that rows hold exactly the numbers of data: every row points at a
// number (or null) of the JSON with the same value, and every number of the JSON has a row.
func anCompareRows(t *testing.T, what string, data map[string]any, rows []anRow) {
	t.Helper()
	filled := 0
	for _, r := range rows {
		require.Contains(t, []string{"count", "days", "hours", "USD", "ratio"}, r.unit, "%s %+v", what, r)
		v, ok := anLookup(data, r.section, r.item, r.metric)
		// A figure with nothing to measure is a row with an empty value, also when the JSON
		// leaves the field out rather than sending null.
		require.True(t, ok || r.value == "", "%s: row %+v points at nothing in the JSON", what, r)
		if v == nil {
			require.Empty(t, r.value, "%s %+v", what, r)
			continue
		}
		filled++
		want, isNum := v.(float64)
		require.True(t, isNum, "%s %+v is not a number in the JSON", what, r)
		got, err := strconv.ParseFloat(r.value, 64)
		require.NoError(t, err, "%s %+v", what, r)
		require.InDelta(t, want, got, 1e-9*max(1, anAbs(want)), "%s %+v", what, r)
	}
	require.Equal(t, anCountNumbers(data), filled, "%s: every number of the JSON has a row", what)
}

func anAbs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func anCountNumbers(v any) int {
	switch x := v.(type) {
	case float64:
		return 1
	case map[string]any:
		n := 0
		for _, e := range x {
			n += anCountNumbers(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += anCountNumbers(e)
		}
		return n
	}
	return 0
}

// anLookup follows section (dot-separated; "summary" is the top level), item (a list entry, by
// any of its text fields, or a nested object) and metric into data.
func anLookup(data map[string]any, section, item, metric string) (any, bool) {
	var node any = data
	if section != "summary" {
		for _, part := range strings.Split(section, ".") {
			m, ok := node.(map[string]any)
			if !ok {
				return nil, false
			}
			node = m[part]
		}
	}
	switch n := node.(type) {
	case []any:
		var found map[string]any
		for _, e := range n {
			m, _ := e.(map[string]any)
			for k, fv := range m {
				s, _ := fv.(string)
				if s != "" && (s == item || ((k == "month" || k == "period") && len(item) == 10 && s == item[:7])) {
					found = m
				}
			}
			if found != nil {
				break
			}
		}
		if found == nil {
			return nil, false
		}
		node = found
	case map[string]any:
		if item != "" {
			node = n[item]
		}
	}
	m, ok := node.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[metric]
	return v, ok
}

func TestAnalyticsHomepage(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		w     *anWorld
		hazel *apitest.Firm
		key   string
	}
	// Hazel sends to and receives from Pine around the periods of Wednesday 4 March 2026,
	// 20:30 UTC (14:30 in Chicago).
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		w := &anWorld{h: h, fx: newAnFixture(h), now: anTime(t, "2026-03-04T20:30:00Z")}
		h.App.Server.Analytics.SetClock(func() time.Time { return w.now })
		hz, pine := h.NewFirm(apitest.FirmOpts{Name: "Hazel Law"}), h.NewFirm(apitest.FirmOpts{Name: "Pine LLP"})
		pi := refdata.PersonalInjuryID
		sent := func(key, at string, steps ...anStep) {
			w.fx.insert(t, key, anRef{from: hz, to: pine, caseType: pi, juris: "IL", sent: at, steps: steps})
		}
		sent("h1", "2026-03-04T10:00:00Z")
		sent("h2", "2026-03-04T03:00:00Z") // 3 March, 21:00 in Chicago
		sent("h3", "2026-03-03T12:00:00Z", anStep{"under_evaluation", "2026-03-03T13:00:00Z"},
			anStep{"investigating", "2026-03-03T14:00:00Z"})
		sent("h4", "2026-03-03T22:00:00Z")
		sent("h5", "2026-02-24T12:00:00Z", anStep{"under_evaluation", "2026-02-26T12:00:00Z"}, anStep{"signed", "2026-03-04T15:00:00Z"})
		sent("h6", "2026-02-25T21:00:00Z")
		sent("h7", "2026-03-01T03:00:00Z") // 28 February in Chicago
		sent("h8", "2026-02-02T12:00:00Z", anStep{"under_evaluation", "2026-02-02T18:00:00Z"},
			anStep{"signed", "2026-02-03T12:00:00Z"}, anStep{"closed", "2026-03-02T15:00:00Z"})
		sent("h9", "2026-02-01T03:00:00Z") // 31 January in Chicago
		sent("h10", "2026-02-04T21:00:00Z")
		sent("h11", "2026-03-04T21:00:00Z") // after "now"
		w.fx.insert(t, "k1", anRef{from: pine, to: hz, caseType: pi, juris: "IL", sent: "2026-03-04T12:00:00Z"})
		w.fx.insert(t, "k2", anRef{from: pine, to: hz, caseType: pi, juris: "IL", sent: "2026-02-23T07:00:00Z",
			steps: []anStep{{"under_evaluation", "2026-02-24T07:00:00Z"}, {"signed", "2026-03-03T15:00:00Z"}}})
		_, err := h.Pool.Exec(context.Background(), `UPDATE referrals SET closing_status = 'won_settled' WHERE id = $1`, w.fx.refs["h8"])
		require.NoError(t, err)
		return &testBundle{w: w, hazel: hz, key: h.Key(hz, apitest.ReadOnly)}
	}
	metric := func(cur, prev int) api.AnalyticsPeriodMetric {
		m := api.AnalyticsPeriodMetric{Current: cur, Previous: prev, Change: cur - prev}
		if prev != 0 {
			r := float64(cur-prev) / float64(prev)
			m.ChangeRatio = &r
		}
		return m
	}
	period := func(t *testing.T, start, end, prevStart, prevEnd string, sent, recv, signed, won api.AnalyticsPeriodMetric) api.HomepagePeriod {
		return api.HomepagePeriod{
			PeriodStart: anTime(t, start), PeriodEnd: anTime(t, end), PreviousPeriodStart: anTime(t, prevStart), PreviousPeriodEnd: anTime(t, prevEnd),
			Sent: sent, Received: recv, Signed: signed, Won: won,
		}
	}
	get := func(t *testing.T, b *testBundle, tz string) api.HomepageAnalytics {
		t.Helper()
		var r api.HomepageAnalyticsResponse
		var q []string
		if tz != "" {
			q = []string{"tz", tz}
		}
		b.w.get(t, b.key, "/homepage", &r, q...)
		for _, p := range []*api.HomepagePeriod{&r.Data.Today, &r.Data.ThisWeek, &r.Data.ThisMonth} {
			p.PeriodStart, p.PeriodEnd = p.PeriodStart.UTC(), p.PeriodEnd.UTC()
			p.PreviousPeriodStart, p.PreviousPeriodEnd = p.PreviousPeriodStart.UTC(), p.PreviousPeriodEnd.UTC()
		}
		return r.Data
	}

	t.Run("periods and comparisons in UTC", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := get(t, b, "")
		require.Equal(t, "UTC", d.TimeZone)
		require.Equal(t, period(t, "2026-03-04T00:00:00Z", "2026-03-04T20:30:00Z", "2026-03-03T00:00:00Z", "2026-03-03T20:30:00Z",
			metric(2, 1), metric(1, 0), metric(1, 1), metric(0, 0)), d.Today)
		require.Equal(t, period(t, "2026-03-02T00:00:00Z", "2026-03-04T20:30:00Z", "2026-02-23T00:00:00Z", "2026-02-25T20:30:00Z",
			metric(4, 1), metric(1, 1), metric(2, 0), metric(1, 0)), d.ThisWeek)
		require.Equal(t, period(t, "2026-03-01T00:00:00Z", "2026-03-04T20:30:00Z", "2026-02-01T00:00:00Z", "2026-02-04T20:30:00Z",
			metric(5, 2), metric(1, 0), metric(2, 1), metric(1, 0)), d.ThisMonth)
	})

	t.Run("periods and comparisons in Chicago", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := get(t, b, "America/Chicago")
		require.Equal(t, "America/Chicago", d.TimeZone)
		require.Equal(t, period(t, "2026-03-04T06:00:00Z", "2026-03-04T20:30:00Z", "2026-03-03T06:00:00Z", "2026-03-03T20:30:00Z",
			metric(1, 1), metric(1, 0), metric(1, 1), metric(0, 0)), d.Today)
		require.Equal(t, period(t, "2026-03-02T06:00:00Z", "2026-03-04T20:30:00Z", "2026-02-23T06:00:00Z", "2026-02-25T20:30:00Z",
			metric(4, 1), metric(1, 1), metric(2, 0), metric(1, 0)), d.ThisWeek)
		require.Equal(t, period(t, "2026-03-01T06:00:00Z", "2026-03-04T20:30:00Z", "2026-02-01T06:00:00Z", "2026-02-04T20:30:00Z",
			metric(4, 1), metric(1, 0), metric(2, 1), metric(1, 0)), d.ThisMonth)
	})

	t.Run("a shorter previous month is compared whole", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// 31 March, noon in Chicago (daylight time since 8 March).
		b.w.now = anTime(t, "2026-03-31T17:00:00Z")
		d := get(t, b, "America/Chicago")
		require.Equal(t, period(t, "2026-03-01T06:00:00Z", "2026-03-31T17:00:00Z", "2026-02-01T06:00:00Z", "2026-03-01T06:00:00Z",
			metric(5, 5), metric(1, 1), metric(2, 1), metric(1, 0)), d.ThisMonth)
		require.Equal(t, anTime(t, "2026-03-31T05:00:00Z"), d.Today.PeriodStart)
		require.Equal(t, anTime(t, "2026-03-30T05:00:00Z"), d.Today.PreviousPeriodStart)
		require.Equal(t, anTime(t, "2026-03-30T17:00:00Z"), d.Today.PreviousPeriodEnd)
		require.Equal(t, anTime(t, "2026-03-30T05:00:00Z"), d.ThisWeek.PeriodStart)
		require.Equal(t, anTime(t, "2026-03-23T05:00:00Z"), d.ThisWeek.PreviousPeriodStart)
	})
}

// TestAnalyticsFromLifecycle reads what the lifecycle operations themselves write.
func TestAnalyticsFromLifecycle(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	owner := h.NewFirm(apitest.FirmOpts{Name: "Juniper Law"})
	recv := h.NewFirm(apitest.FirmOpts{Name: "Larch Trial Group", Jurisdictions: []string{"WA"}})
	connectFirms(t, h, owner, recv)
	ownerStd, recvStd := h.Key(owner, apitest.Standard), h.Key(recv, apitest.Standard)
	caseID := newCase(t, h, ownerStd, &recv.ID, nil)
	receivedAction(t, h, recvStd, caseID, "acknowledge", nil)
	receivedAction(t, h, recvStd, caseID, "sign", nil)
	receivedAction(t, h, h.Key(recv, apitest.Full), caseID, "close", map[string]any{
		"closingStatus": "won_settled", "settlementAmount": 90000, "attorneyFees": 30000, "sendingFirmPercentage": 10,
	})
	w := &anWorld{h: h}

	var sent, recvd api.ReferralFlowAnalyticsResponse
	w.get(t, h.Key(owner, apitest.ReadOnly), "/sent", &sent)
	w.get(t, h.Key(recv, apitest.ReadOnly), "/received", &recvd)
	for _, d := range []api.ReferralFlowAnalytics{sent.Data, recvd.Data} {
		require.Equal(t, 1, d.TotalReferrals)
		require.Equal(t, 1, d.ByClosingStatus.WonSettled)
		require.Equal(t, []int{1, 1, 1, 1}, []int{d.Conversion.ReferredCount, d.Conversion.SignedCount, d.Conversion.WonCount,
			d.Conversion.ResolvedAfterSigningCount})
		require.NotNil(t, d.Timing.AverageDaysToAcknowledge, "the acknowledgement is the receiver's first move")
		require.NotNil(t, d.Timing.AverageDaysToSign)
		var stays []string
		for _, s := range d.Timing.TimeInStatus {
			stays = append(stays, s.Status)
		}
		require.Equal(t, []string{"sent", "under_evaluation", "signed"}, stays)
		require.Len(t, d.Trend, 1)
		require.Equal(t, [3]int{1, 1, 1}, [3]int{d.Trend[0].Referrals, d.Trend[0].Signed, d.Trend[0].Won})
	}

	var rev api.RevenueAnalyticsResponse
	w.get(t, h.Key(owner, apitest.ReadOnly), "/revenue-sent", &rev)
	require.Equal(t, 1, rev.Data.WonCount)
	require.Equal(t, 90000.0, rev.Data.TotalSettlementAmount)
	require.Equal(t, 3000.0, rev.Data.FeeSplit.SendingFirmShare)
	require.Equal(t, 27000.0, rev.Data.FeeSplit.ReceivingFirmShare)

	var home api.HomepageAnalyticsResponse
	w.get(t, h.Key(recv, apitest.ReadOnly), "/homepage", &home)
	require.Equal(t, []int{1, 1, 1}, []int{home.Data.Today.Received.Current, home.Data.Today.Signed.Current, home.Data.Today.Won.Current})
}
