package refdata

import "github.com/google/uuid"

// Ids of well-known case types seeded by migration 0002; they are the same in every database, so
// fixtures and tests may use them directly.
var (
	PersonalInjuryID      = uuid.MustParse("461d3ad5-a8a3-43c5-90ec-3c60088c3a28")
	MedicalMalpracticeID  = uuid.MustParse("94dc359c-6856-46fe-b711-8a5c95e4de0e")
	WorkersCompensationID = uuid.MustParse("c30202c1-e63b-4fab-80ae-047122537f10")
	MassTortID            = uuid.MustParse("b6a3d1ea-3df6-4060-8b45-b5e7e3f1f6c8")
)
