package firms

import "github.com/casexchange/server/gen/db"

func firmFromRow(r db.Firm) Firm {
	return Firm{
		ID:                          r.ID,
		Name:                        r.Name,
		Slug:                        r.Slug,
		Description:                 r.Description,
		Website:                     r.Website,
		Phone:                       r.Phone,
		Email:                       r.Email,
		Address:                     r.Address,
		City:                        r.City,
		State:                       r.State,
		Zip:                         r.Zip,
		Country:                     r.Country,
		LogoURL:                     r.LogoUrl,
		Jurisdictions:               orEmpty(r.Jurisdictions),
		CaseTypeIDs:                 orEmpty(r.CaseTypeIds),
		Specialties:                 orEmpty(r.Specialties),
		GeneralReferralInstructions: r.GeneralReferralInstructions,
		IsPublic:                    r.IsPublic,
		IsInternal:                  r.IsInternal,
		IsActive:                    r.IsActive,
		CanSendReferrals:            r.CanSendReferrals,
		ReferencePrefix:             r.ReferencePrefix,
		LastCaseReferenceSequence:   int(r.LastCaseReferenceSequence),
		CreatedAt:                   r.CreatedAt,
		UpdatedAt:                   r.UpdatedAt,
	}
}

// orEmpty turns a nil slice into an empty one, so JSON shows [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
