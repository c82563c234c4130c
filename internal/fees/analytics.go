package fees

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
)

// The fee analytics: money that moved, by payment date. Fees received are the payments recorded
// on entries of referrals the caller's firm sent (it is the referring firm, paid by its partner);
// fees paid are those on entries of referrals it received (it paid its partner). Amounts are
// integer cents, summed exactly.

// MaxAnalyticsMonths bounds the months an analytics range spans.
const MaxAnalyticsMonths = 240

// Flow is money received and paid, with the number of payments behind each.
type Flow struct {
	ReceivedCents    int64
	PaidCents        int64
	PaymentsReceived int64
	PaymentsMade     int64
}

// NetCents is received minus paid (negative when the firm paid more).
func (f Flow) NetCents() int64 { return f.ReceivedCents - f.PaidCents }

func (f *Flow) add(o Flow) {
	f.ReceivedCents += o.ReceivedCents
	f.PaidCents += o.PaidCents
	f.PaymentsReceived += o.PaymentsReceived
	f.PaymentsMade += o.PaymentsMade
}

// MonthFlow is the flow of one calendar month (Month is its first day).
type MonthFlow struct {
	Month time.Time
	Flow
}

// PartnerFlow is the flow with one partner firm over the range, and per month (only the months
// with a payment).
type PartnerFlow struct {
	FirmID   uuid.UUID
	FirmName string
	Flow
	Months []MonthFlow
}

// Analytics are the fee figures of a firm over a range of payment dates.
type Analytics struct {
	From, To time.Time // inclusive days
	Total    Flow
	// Months lists every month of the range, oldest first, months without payments included.
	Months []MonthFlow
	// Partners lists the partner firms with a payment in the range, by name.
	Partners []PartnerFlow
}

// AnalyticsInput is the range of payment dates (inclusive days). Without To, it ends today
// (UTC); without From, it starts on the first day of the eleventh month before To's, so the
// default is the last twelve calendar months including the current one.
type AnalyticsInput struct {
	From, To *time.Time
}

func monthOf(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

// Analytics returns the fees the caller's firm received and paid per partner firm and per month
// of payment date. Errors: ErrValidation on dateTo (before dateFrom) or dateFrom (a range of more
// than MaxAnalyticsMonths months).
func (s *Service) Analytics(ctx context.Context, a auth.Actor, in AnalyticsInput) (Analytics, error) {
	to := day(s.now())
	if in.To != nil {
		to = day(*in.To)
	}
	from := monthOf(to).AddDate(0, -11, 0)
	if in.From != nil {
		from = day(*in.From)
	}
	if to.Before(from) {
		return Analytics{}, apperr.Field("dateTo", "must not be before dateFrom")
	}
	first, last := monthOf(from), monthOf(to)
	if n := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1; n > MaxAnalyticsMonths {
		return Analytics{}, apperr.Field("dateFrom", fmt.Sprintf("the range may span at most %d calendar months; this one spans %d", MaxAnalyticsMonths, n))
	}
	rows, err := db.New(s.pool).FeeAnalyticsFlows(ctx, db.FeeAnalyticsFlowsParams{FirmID: a.FirmID, DateFrom: toDate(from), DateTo: toDate(to)})
	if err != nil {
		return Analytics{}, fmt.Errorf("fee analytics: %w", postgres.InterpretError(err))
	}
	out := Analytics{From: from, To: to}
	months := map[time.Time]*MonthFlow{}
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		out.Months = append(out.Months, MonthFlow{Month: m})
	}
	for i := range out.Months {
		months[out.Months[i].Month] = &out.Months[i]
	}
	// Rows come by partner name, partner id, month and direction.
	for _, r := range rows {
		var f Flow
		if r.Direction == "received" {
			f.ReceivedCents, f.PaymentsReceived = r.Cents, r.Payments
		} else {
			f.PaidCents, f.PaymentsMade = r.Cents, r.Payments
		}
		m := fromDate(r.Month)
		if n := len(out.Partners); n == 0 || out.Partners[n-1].FirmID != r.PartnerFirmID {
			out.Partners = append(out.Partners, PartnerFlow{FirmID: r.PartnerFirmID, FirmName: r.PartnerFirmName})
		}
		p := &out.Partners[len(out.Partners)-1]
		p.add(f)
		if n := len(p.Months); n == 0 || !p.Months[n-1].Month.Equal(m) {
			p.Months = append(p.Months, MonthFlow{Month: m})
		}
		p.Months[len(p.Months)-1].add(f)
		if mf := months[m]; mf != nil {
			mf.add(f)
		}
		out.Total.add(f)
	}
	return out, nil
}
