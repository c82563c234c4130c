// Package lifecycle names the groups of referral statuses that several domains filter on, so
// that a new status is added to each group in one place. Queries take the groups as parameters
// (status = ANY(@working_statuses::text[])) instead of spelling them out.
package lifecycle

// Working are the statuses in which a receiving firm that acknowledged the referral works the
// case: it sees the case's documents and medical referrals and hears of their changes.
var Working = []string{"under_evaluation", "investigating", "signed", "in_litigation", "closing"}

// Open are the statuses of a referral that was sent and is not resolved yet: Working plus the
// two before acknowledgement.
var Open = append([]string{"sent", "received"}, Working...)

// Followed are the statuses in which an acknowledged receiving firm hears of case changes and
// notes: Working plus closed (documents stop at closed).
var Followed = append(append([]string{}, Working...), "closed")
