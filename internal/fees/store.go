package fees

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
)

// Conversions between sqlc rows and domain types.

func profileFromRow(r db.FeeRuleProfile) Profile {
	p := Profile{Code: r.Code, Name: r.Name, ConsentMethod: r.ConsentMethod, BasisRequired: r.BasisRequired,
		TotalFeeMayChange: r.TotalFeeMayChange, Summary: r.Summary}
	if r.ConsentDeadlineDays != nil {
		d := int(*r.ConsentDeadlineDays)
		p.ConsentDeadlineDays = &d
	}
	return p
}

func versionFromRow(r db.FeeAgreementVersion) Version {
	return Version{
		ID: r.ID, Version: int(r.Version),
		Terms: Terms{Basis: r.Basis, ShareKind: r.ShareKind, ReferringShare: r.ReferringShare, ReceivingShare: r.ReceivingShare,
			ClientContingencyBP: int64(r.ClientContingencyBp), Notes: r.Notes},
		ProposedByFirmID: r.ProposedByFirmID, ProposedAt: r.ProposedAt,
		AcceptedByFirmID: r.AcceptedByFirmID, AcceptedAt: r.AcceptedAt, SupersededAt: r.SupersededAt,
	}
}

func consentFromRow(r db.FeeConsent) Consent {
	return Consent{ID: r.ID, VersionID: r.VersionID, ConsentedOn: fromDate(r.ConsentedOn), Method: r.Method,
		SignerName: r.SignerName, DocumentID: r.DocumentID, RecordedByFirmID: r.RecordedByFirmID, RecordedAt: r.RecordedAt}
}

func referralFromRow(r db.FeeReferralGetRow) Referral {
	out := Referral{ID: r.ID, BaseCaseID: r.BaseCaseID, ReferenceNumber: r.ReferenceNumber, ReferringFirmID: r.ReferringFirmID,
		ReferringFirmName: r.ReferringFirmName, ReceivingFirmID: r.ReferentFirmID, Status: r.Status, ClosingStatus: r.ClosingStatus,
		AttorneyFees: r.AttorneyFees, SentAt: r.SentAt, CreatedAt: r.CreatedAt, Jurisdiction: r.JurisdictionCode, IsTestCase: r.IsTestCase}
	if r.ReferentFirmName != nil {
		out.ReceivingFirmName = *r.ReferentFirmName
	}
	return out
}

func fromDate(d pgtype.Date) time.Time {
	if !d.Valid {
		return time.Time{}
	}
	return time.Date(d.Time.Year(), d.Time.Month(), d.Time.Day(), 0, 0, 0, 0, time.UTC)
}

func datePtr(d pgtype.Date) *time.Time {
	if !d.Valid {
		return nil
	}
	t := fromDate(d)
	return &t
}

func toDate(t time.Time) pgtype.Date {
	u := t.UTC()
	return pgtype.Date{Time: time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}
