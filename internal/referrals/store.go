package referrals

import (
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/ptr"
)

// Conversions between sqlc rows and domain types.

func caseFromRow(r db.BaseCase, ownerName string) Case {
	return Case{
		ID:                   r.ID,
		OwnerFirmID:          r.OwnerFirmID,
		OwnerFirmName:        ownerName,
		ReferenceNumber:      r.ReferenceNumber,
		Title:                r.Title,
		Description:          r.Description,
		CaseTypeID:           r.CaseTypeID,
		Jurisdiction:         r.JurisdictionCode,
		County:               r.County,
		ClientFirstName:      ptr.To(r.ClientFirstName),
		ClientLastName:       ptr.To(r.ClientLastName),
		ClientEmail:          r.ClientEmail,
		ClientPhone:          r.ClientPhone,
		ClientDateOfBirth:    fromDate(r.ClientDateOfBirth),
		IncidentDate:         fromDate(r.IncidentDate),
		Notes:                r.Notes,
		Tier:                 intPtr(r.Tier),
		Source:               r.Source,
		SalesforceID:         r.SalesforceID,
		SalesforceObjectType: r.SalesforceObjectType,
		OtherCMSID:           r.CmsID,
		IsTestCase:           r.IsTestCase,
		IsRetainerSigned:     r.IsRetainerSigned,
		CreatedByUserID:      r.CreatedByUserID,
		CreatedByKeyID:       r.CreatedByKeyID,
		CreatedAt:            r.CreatedAt,
		UpdatedAt:            r.UpdatedAt,
	}
}

func referralFromRow(r db.Referral, referringName string, referentName *string) Referral {
	out := Referral{
		ID:                             r.ID,
		BaseCaseID:                     r.BaseCaseID,
		SequenceNumber:                 int(r.SequenceNumber),
		ReferenceNumber:                r.ReferenceNumber,
		ReferringFirmID:                r.ReferringFirmID,
		ReferringFirmName:              referringName,
		ReferentFirmID:                 r.ReferentFirmID,
		ReferentFirmName:               referentName,
		Status:                         Status(r.Status),
		ClosureReason:                  r.ClosureReason,
		Notes:                          r.Notes,
		Phase:                          r.Phase,
		LeadAttorneyName:               r.LeadAttorneyName,
		RatedTier:                      intPtr(r.RatedTier),
		RatingNotes:                    r.RatingNotes,
		SettlementAmount:               r.SettlementAmount,
		AttorneyFees:                   r.AttorneyFees,
		ProjectedSettlementAmount:      r.ProjectedSettlementAmount,
		ClientFeeAgreementPercentage:   r.ClientFeeAgreementPercentage,
		SendingFirmPercentage:          r.SendingFirmPercentage,
		StatuteOfLimitationsExpiration: fromDate(r.StatuteOfLimitationsExpiration),
		EstimatedDateOfResolution:      fromDate(r.EstimatedDateOfResolution),
		EstimatedDistributionDate:      fromDate(r.EstimatedDistributionDate),
		IsRetainerSigned:               r.IsRetainerSigned,
		SentAt:                         r.SentAt,
		ExpiresAt:                      r.ExpiresAt,
		AcknowledgedAt:                 r.AcknowledgedAt,
		LastActivityAt:                 r.LastActivityAt,
		CreatedBy:                      firstID(r.CreatedByUserID, r.CreatedByKeyID),
		UpdatedBy:                      firstID(r.UpdatedByUserID, r.UpdatedByKeyID),
		CreatedAt:                      r.CreatedAt,
		UpdatedAt:                      r.UpdatedAt,
	}
	if r.ClosingStatus != nil {
		cs := ClosingStatus(*r.ClosingStatus)
		out.ClosingStatus = &cs
	}
	return out
}

func statusUpdateFromRow(r db.StatusUpdate, referralRef string) StatusUpdate {
	u := StatusUpdate{
		ID:                      r.ID,
		ReferralID:              r.ReferralID,
		BaseCaseID:              r.BaseCaseID,
		ReferralReferenceNumber: referralRef,
		Status:                  Status(r.Status),
		IsMessage:               r.IsMessage,
		Message:                 r.Message,
		Source:                  r.Source,
		ActorFirmID:             r.ActorFirmID,
		ActorKind:               r.ActorKind,
		ActorName:               r.ActorName,
		CreatedAt:               r.CreatedAt,
	}
	if r.FromStatus != nil {
		f := Status(*r.FromStatus)
		u.FromStatus = &f
	}
	if r.RequestedStatus != nil {
		rs := Status(*r.RequestedStatus)
		u.RequestedStatus = &rs
	}
	return u
}

func firstID(a, b *uuid.UUID) *uuid.UUID {
	if a != nil {
		return a
	}
	return b
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	n := int32(*v)
	return &n
}

func fromDate(d pgtype.Date) *time.Time {
	if !d.Valid {
		return nil
	}
	t := time.Date(d.Time.Year(), d.Time.Month(), d.Time.Day(), 0, 0, 0, 0, time.UTC)
	return &t
}

// toDate keeps the UTC calendar day of t.
func toDate(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	u := t.UTC()
	return pgtype.Date{Time: time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

func statusPtrString(s *Status) *string {
	if s == nil {
		return nil
	}
	v := string(*s)
	return &v
}
