package analytics

import (
	"time"

	"github.com/google/uuid"
)

// Units: counts are numbers of referrals, durations are fractional days or hours, money is US
// dollars, rates and ratios are fractions (0.25 = 25%). Optional figures are nil when there was
// nothing to measure (a rate whose denominator is 0, an average over no referral).

// StatusCounts is the number of referrals currently in each status, keyed by status (every
// entry of AllStatuses is present).
type StatusCounts map[string]int

// Buckets is the five-bucket summary of statuses: Pending = draft, sent, received; InProgress =
// under_evaluation, investigating; Accepted = signed, in_litigation, closing; Rejected =
// rejected, withdrawn; Closed = won, lost, closed.
type Buckets struct {
	Pending, InProgress, Accepted, Rejected, Closed int
}

// ClosingCounts are the outcomes of closed referrals; Unspecified counts those closed without one.
type ClosingCounts struct {
	WonSettled, Lost, NoLongerPursuing, Unspecified int
}

// Conversion describes how sent referrals progress (drafts are not counted).
type Conversion struct {
	Referred int // sent
	Signed   int // of those, reached signed
	Won      int // of the signed, won
	// ResolvedAfterSigning counts signed referrals that have an outcome (won, lost or closed).
	ResolvedAfterSigning int
	Rejected             int
	SentToSignedRate     *float64 // Signed / Referred
	SignedToWonRate      *float64 // Won / ResolvedAfterSigning
}

// StatusDuration is the time referrals spent in one status, over completed stays.
type StatusDuration struct {
	Status      string
	AverageDays float64
	MedianDays  float64
	Stays       int
}

// Timing is response speed.
type Timing struct {
	AverageDaysToAcknowledge *float64 // from sending to the receiving firm's first move
	AverageDaysToSign        *float64 // from sending to signed, over signed referrals
	TimeInStatus             []StatusDuration
}

// Breakdown is the figures of one partner firm, case type or jurisdiction. Key is the firm id,
// the case type name or the jurisdiction code; Label the firm name, the case type display name
// or the jurisdiction name.
type Breakdown struct {
	Key, Label       string
	Referrals        int
	Signed, Won      int
	SentToSignedRate *float64 // Signed / referrals of the group that were sent
}

// TrendPoint is one calendar month: referrals sent in it (drafts by creation), referrals that
// reached signed in it, referrals won in it.
type TrendPoint struct {
	Month                  time.Time // first day, midnight UTC
	Referrals, Signed, Won int
}

// Flow is one direction of the firm's referrals.
type Flow struct {
	Direction       Direction
	Filters         Applied
	Total           int
	Active          int // not won, lost, rejected, withdrawn or closed
	ByStatus        StatusCounts
	ByClosingStatus ClosingCounts
	Conversion      Conversion
	Timing          Timing
	ByPartnerFirm   []Breakdown
	ByCaseType      []Breakdown
	ByJurisdiction  []Breakdown
	Trend           []TrendPoint
}

// FeeSplit divides attorney fees between the firms by each referral's sending-firm percentage.
type FeeSplit struct {
	SendingFirmShare, ReceivingFirmShare float64
	AverageSendingFirmShareRatio         *float64
	// ReferralsWithoutSplit counts won referrals with fees but no percentage (left out of both shares).
	ReferralsWithoutSplit int
}

// RevenueItem is the money of one partner firm, case type or jurisdiction (keys as Breakdown).
type RevenueItem struct {
	Key, Label                           string
	Won                                  int
	Settlement, AttorneyFees             float64
	SendingFirmShare, ReceivingFirmShare float64
}

// RevenuePoint is one calendar month, by the month referrals were won.
type RevenuePoint struct {
	Month                    time.Time
	Won                      int
	Settlement, AttorneyFees float64
}

// Revenue is the money on one direction's won referrals.
type Revenue struct {
	Direction                  Direction
	Filters                    Applied
	Won                        int
	TotalSettlement, TotalFees float64
	AverageSettlement          *float64 // over won referrals with an amount
	AverageFees                *float64 // over won referrals with fees
	Split                      FeeSplit
	Projected                  float64 // over open referrals (sent and not ended)
	OpenWithProjection         int
	ByPartnerFirm              []RevenueItem
	ByCaseType                 []RevenueItem
	ByJurisdiction             []RevenueItem
	Trend                      []RevenuePoint
}

// VolumeItem is referral counts in both directions for one group (keys as Breakdown).
type VolumeItem struct {
	Key, Label     string
	Sent, Received int
}

// VolumePoint is one calendar month of referrals sent and received.
type VolumePoint struct {
	Month          time.Time
	Sent, Received int
}

// Referrals is referral volume in both directions, drafts excluded.
type Referrals struct {
	Filters                   Applied
	Sent, Received            int
	CasesReferred, ReReferred int
	AverageReferralsPerCase   *float64
	SentByStatus              StatusCounts
	ReceivedByStatus          StatusCounts
	ByPartnerFirm             []VolumeItem
	ByCaseType                []VolumeItem
	ByJurisdiction            []VolumeItem
	Trend                     []VolumePoint
}

// PartnerCount is referrals exchanged with one firm.
type PartnerCount struct {
	FirmID         uuid.UUID
	Name           string
	Sent, Received int
}

// CaseTypeCount is referrals of one case type, both directions.
type CaseTypeCount struct {
	Name, Label string
	Count       int
}

// Dashboard is the headline figures, both directions, drafts included.
type Dashboard struct {
	Filters                  Applied
	Sent, Received           int
	Buckets                  Buckets
	ByStatus                 StatusCounts
	AverageResponseHours     float64 // 0 when nothing was measured
	AverageDaysToAcknowledge *float64
	AverageDaysToSign        *float64
	SentConversion           Conversion
	ReceivedConversion       Conversion
	TotalSettlement          float64
	TotalFees                float64
	TopCaseTypes             []CaseTypeCount // at most 5
	TopPartnerFirms          []PartnerCount  // at most 5
	PeriodStart, PeriodEnd   time.Time
}

// Cases is referral volume in both directions, drafts included on the sent side.
type Cases struct {
	Filters              Applied
	Sent, Received       int
	Buckets              Buckets
	ByStatus             StatusCounts
	Monthly              []VolumePoint
	ByCaseType           []VolumeItem
	ByJurisdiction       []VolumeItem
	AverageResponseHours float64
}

// Metric is a count in the current period and in the comparison window.
type Metric struct{ Current, Previous int }

// Change is Current - Previous.
func (m Metric) Change() int { return m.Current - m.Previous }

// ChangeRatio is the change relative to Previous; nil when Previous is 0.
func (m Metric) ChangeRatio() *float64 {
	if m.Previous == 0 {
		return nil
	}
	r := float64(m.Change()) / float64(m.Previous)
	return &r
}

// Period is one homepage period with its comparison window (ends exclusive).
type Period struct {
	Start, End, PreviousStart, PreviousEnd time.Time
	Sent, Received, Signed, Won            Metric
}

// Homepage is the current day, ISO week and month in a zone.
type Homepage struct {
	TimeZone           string
	Today, Week, Month Period
}

// CaseItem is one referral of the status drill-down. ID is what opens it: the case id for
// referrals the firm sent, the referral id for referrals it received.
type CaseItem struct {
	ID, CaseID, ReferralID uuid.UUID
	ReferenceNumber        string
	Title                  string
	FirmID                 *uuid.UUID // partner firm; nil for a draft
	FirmName               string
	ReferredOn             time.Time
	Status                 string
	CaseType               string // name
	Jurisdiction           string
}
