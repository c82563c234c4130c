package fees

import (
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/tabular"
)

// ExportColumns are the columns of the ledger export, in order. Each is named like the field of
// the JSON ledger entry it holds; the payments are summed up in paymentCount and lastPaidOn.
var ExportColumns = []string{
	"id", "referralId", "baseCaseId", "referenceNumber", "referringFirmId", "referringFirmName",
	"receivingFirmId", "receivingFirmName", "agreementVersionId", "status", "attorneyFees", "amountDue",
	"amountPaid", "amountOutstanding", "closedOn", "dueDate", "agingBucket", "disputeReason",
	"writtenOffReason", "paymentCount", "lastPaidOn", "createdAt", "updatedAt",
}

// ExportCells lays out one entry in the columns of ExportColumns: ids, names, statuses and
// reasons as text (which the writers neutralise against formulas), amounts as money cells with
// two decimals, days as dates, timestamps as RFC 3339 text in UTC, empty cells for null.
func ExportCells(e Entry) []tabular.Cell {
	T, TP := tabular.Text, tabular.TextPtr
	id := func(u uuid.UUID) tabular.Cell { return T(u.String()) }
	var version *string
	if e.VersionID != nil {
		v := e.VersionID.String()
		version = &v
	}
	var lastPaid *time.Time
	for _, p := range e.Payments {
		if lastPaid == nil || p.PaidOn.After(*lastPaid) {
			d := p.PaidOn
			lastPaid = &d
		}
	}
	ts := func(t time.Time) tabular.Cell { return T(t.UTC().Format(time.RFC3339Nano)) }
	return []tabular.Cell{
		id(e.ID), id(e.ReferralID), id(e.BaseCaseID), T(e.ReferenceNumber), id(e.ReferringFirmID), T(e.ReferringFirmName),
		id(e.ReceivingFirmID), T(e.ReceivingFirmName), TP(version), T(e.Status), tabular.Cents(e.AttorneyFeesCents),
		tabular.CentsPtr(e.AmountDueCents), tabular.Cents(e.PaidCents), tabular.CentsPtr(e.OutstandingCents()),
		tabular.Date(e.ClosedOn), tabular.DatePtr(e.DueDate), TP(e.AgingBucket), TP(e.DisputeReason),
		TP(e.WrittenOffReason), tabular.Int(int64(len(e.Payments))), tabular.DatePtr(lastPaid), ts(e.CreatedAt), ts(e.UpdatedAt),
	}
}
