package network

import "github.com/casexchange/server/gen/db"

func relationshipFromRow(r db.NetworkRelationship) Relationship {
	rel := Relationship{
		FromFirmID:             r.FromFirmID,
		ToFirmID:               r.ToFirmID,
		Status:                 r.Status,
		DaysForUnderEvaluation: intPtr(r.DaysForUnderEvaluation),
		DaysForInvestigating:   intPtr(r.DaysForInvestigating),
		SenderDescription:      r.Description,
		ReceiverDescription:    r.ReceiverDescription,
		ReferralInstructions:   r.ReferralInstructions,
		CreatedAt:              r.CreatedAt,
		UpdatedAt:              r.UpdatedAt,
	}
	if r.SendingPercentage.Valid {
		if f, err := r.SendingPercentage.Float64Value(); err == nil && f.Valid {
			rel.SendingPercentage = &f.Float64
		}
	}
	return rel
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}
