package seed

// Scale loads a large synthetic dataset for benchmarks (`casexchange seed --scale N`). Rows are
// written with COPY, one batch of tables per firm, in the shape the referral lifecycle leaves
// behind: every referral past draft has one status update per transition, in order, plus some
// messages; acknowledged_at, expires_at, closing_status and is_retainer_signed match the status.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/app"
)

// ScaleReferralsPerFirm is the approximate number of referrals each firm sends.
const ScaleReferralsPerFirm = 1000

// scaleNetworkSize is how many firms each firm sends referrals to (active relationships).
const scaleNetworkSize = 6

// scaleStart and scaleSpan bound the creation times: fixed, so a seed always gives the same rows.
var (
	scaleStart = time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	scaleSpan  = 730 * 24 * time.Hour
)

// ScaleSlug is the slug of the i-th scale firm (0-based).
func ScaleSlug(i int) string { return fmt.Sprintf("scale-%05d", i+1) }

// Final statuses and their share (per thousand) of the generated referrals.
var scaleStatusMix = []struct {
	status string
	perMil int
}{
	{"draft", 40}, {"sent", 100}, {"under_evaluation", 150}, {"investigating", 150}, {"signed", 140},
	{"in_litigation", 90}, {"closing", 50}, {"rejected", 90}, {"withdrawn", 50}, {"closed", 140},
}

// scalePaths are the statuses a referral passes through (after draft) to reach its final status.
var scalePaths = map[string][]string{
	"draft":            nil,
	"sent":             {"sent"},
	"under_evaluation": {"sent", "under_evaluation"},
	"investigating":    {"sent", "under_evaluation", "investigating"},
	"signed":           {"sent", "under_evaluation", "investigating", "signed"},
	"in_litigation":    {"sent", "under_evaluation", "investigating", "signed", "in_litigation"},
	"closing":          {"sent", "under_evaluation", "signed", "in_litigation", "closing"},
	"rejected":         {"sent", "under_evaluation", "rejected"},
	"withdrawn":        {"sent", "withdrawn"},
	"closed":           {"sent", "under_evaluation", "investigating", "signed", "closed"},
}

var (
	scaleFirstNames = []string{"Maria", "James", "Aisha", "Wei", "Carlos", "Olivia", "Noah", "Priya", "Liam", "Sofia", "Ethan", "Fatima", "Lucas", "Hana", "Mateo", "Grace"}
	scaleLastNames  = []string{"Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Williams", "Chen", "Davis", "Martinez", "Okafor", "Miller", "Rossi", "Cohen"}
	scaleIncidents  = []string{"Rear-end collision", "Slip and fall", "Truck accident", "Dog bite", "Surgical error", "Workplace injury", "Motorcycle crash", "Pedestrian struck", "Defective product", "Wrongful termination"}
	scaleCities     = []struct{ city, state string }{{"Los Angeles", "CA"}, {"Houston", "TX"}, {"Miami", "FL"}, {"Chicago", "IL"}, {"Phoenix", "AZ"}, {"Denver", "CO"}, {"Atlanta", "GA"}, {"Seattle", "WA"}, {"Boston", "MA"}, {"New York", "NY"}}
	scaleMessages   = []string{"Client called for an update.", "Medical records requested.", "Police report received.", "Waiting on the insurer's reply.", "Demand letter sent."}
	scaleClosing    = []string{"won_settled", "lost", "no_longer_pursuing"}
)

// scaleClock hands out distinct status-update timestamps. created_at is unique table-wide, so
// each event gets the microseconds counter%1e6 and a second congruent to counter/1e6 modulo 64:
// two events share a timestamp only if they share both, which needs equal counters.
type scaleClock struct{ n int64 }

func (c *scaleClock) stamp(t time.Time) (time.Time, error) {
	k, r := c.n/1_000_000, c.n%1_000_000
	if k >= 64 {
		return time.Time{}, errors.New("scale: more than 64M status updates")
	}
	c.n++
	s := t.Unix()
	s = s - s%64 + k
	return time.Unix(s, r*1000).UTC(), nil
}

// Scale loads n firms in active referral networks with about ScaleReferralsPerFirm referrals
// each, their status histories and messages, documents metadata and routing rules, all from the
// random seed (the same seed gives the same rows). progress, when not nil, is called after each
// firm. It refuses a database that already holds scale data.
func Scale(ctx context.Context, a *app.App, pool *pgxpool.Pool, n int, seed int64, progress func(done, total int)) error {
	if n < 2 {
		return errors.New("scale: need at least 2 firms")
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM firms WHERE slug = $1)`, ScaleSlug(0)).Scan(&exists); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	if exists {
		return errors.New("scale: the database already holds scale data")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5ca1e))
	caseTypes, juris, err := scaleRefData(ctx, pool)
	if err != nil {
		return err
	}
	var refSeq int64
	if err := pool.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM base_case_reference_seq`).Scan(&refSeq); err != nil {
		return fmt.Errorf("scale: reference sequence: %w", err)
	}

	// Firms, network and routing rules.
	firmIDs := make([]uuid.UUID, n)
	names := make([]string, n)
	var (
		firmRows   []db.SeedFirmCopyParams
		relRows    []db.SeedNetworkRelationshipCopyParams
		ruleRows   []db.SeedRoutingRuleCopyParams
		assignRows []db.SeedRoutingRuleAssignmentCopyParams
	)
	for i := range n {
		firmIDs[i] = scaleUUID(rng)
		c := scaleCities[i%len(scaleCities)]
		names[i] = fmt.Sprintf("%s %s Law %d", scaleLastNames[rng.IntN(len(scaleLastNames))], c.city, i+1)
		j := []string{c.state, juris[rng.IntN(len(juris))]}
		created := scaleStart.Add(-time.Duration(rng.IntN(365*24)) * time.Hour)
		firmRows = append(firmRows, db.SeedFirmCopyParams{
			ID: firmIDs[i], Name: names[i], Slug: ptr(ScaleSlug(i)), City: ptr(c.city), State: ptr(c.state), Country: ptr("US"),
			Jurisdictions: j, IsPublic: true, ReferencePrefix: ptr(fmt.Sprintf("S%d", i+1)),
			GeneralReferralInstructions: ptr(fmt.Sprintf("Send %s cases with the police report attached.", c.state)),
			CreatedAt:                   created, UpdatedAt: created,
		})
	}
	peers := func(i int) []int { // the firms i sends to
		k := min(scaleNetworkSize, n-1)
		out := make([]int, k)
		for d := range k {
			out[d] = (i + 1 + d*(n/k+1)) % n
			if out[d] == i {
				out[d] = (i + 1) % n
			}
		}
		return scaleUniq(out, i, n)
	}
	for i := range n {
		for _, j := range peers(i) {
			t := scaleStart.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
			relRows = append(relRows, db.SeedNetworkRelationshipCopyParams{
				ID: scaleUUID(rng), FromFirmID: firmIDs[i], ToFirmID: firmIDs[j], Status: "active",
				SendingPercentage:      pgtype.Numeric{Int: big.NewInt(int64(20 + rng.IntN(20))), Valid: true},
				DaysForUnderEvaluation: ptr(int32(7)), DaysForInvestigating: ptr(int32(30)),
				RequestedAt: t, CreatedAt: t, UpdatedAt: t,
			})
		}
		for p := range 2 {
			id := scaleUUID(rng)
			st := juris[rng.IntN(len(juris))]
			cond := fmt.Sprintf(`[{"field":"jurisdiction","operator":"eq","value":%q}]`, st)
			ruleRows = append(ruleRows, db.SeedRoutingRuleCopyParams{
				ID: id, FirmID: firmIDs[i], Name: fmt.Sprintf("Route %s cases", st), Priority: int32(p), IsActive: true,
				Conditions: []byte(cond), CreatedAt: scaleStart, UpdatedAt: scaleStart,
			})
			for pos, j := range peers(i)[:min(2, len(peers(i)))] {
				assignRows = append(assignRows, db.SeedRoutingRuleAssignmentCopyParams{
					RuleID: id, Position: int32(pos), RecipientType: "casexchange_firm", FirmID: firmIDs[j],
					DistributionWeight: int32(1 + rng.IntN(5)),
				})
			}
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := scaleCopy("firms", len(firmRows), func() (int64, error) { return q.SeedFirmCopy(ctx, firmRows) }); err != nil {
			return err
		}
		if err := scaleCopy("network_relationships", len(relRows), func() (int64, error) { return q.SeedNetworkRelationshipCopy(ctx, relRows) }); err != nil {
			return err
		}
		if err := scaleCopy("routing_rules", len(ruleRows), func() (int64, error) { return q.SeedRoutingRuleCopy(ctx, ruleRows) }); err != nil {
			return err
		}
		return scaleCopy("routing_rule_assignments", len(assignRows), func() (int64, error) { return q.SeedRoutingRuleAssignmentCopy(ctx, assignRows) })
	})
	if err != nil {
		return err
	}

	// Cases, referrals, status updates and documents, one transaction per firm.
	clock := &scaleClock{}
	for i := range n {
		b := scaleBatch{}
		ps := peers(i)
		for count := 0; count < ScaleReferralsPerFirm; {
			refSeq++
			count += b.addCase(rng, clock, firmIDs[i], ps, firmIDs, caseTypes, juris, refSeq)
			if b.err != nil {
				return b.err
			}
		}
		if err := pgx.BeginFunc(ctx, pool, b.write); err != nil {
			return err
		}
		if progress != nil {
			progress(i+1, n)
		}
	}
	if _, err := pool.Exec(ctx, `SELECT setval('base_case_reference_seq', $1)`, refSeq); err != nil {
		return fmt.Errorf("scale: reference sequence: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) firms, network_relationships, routing_rules, routing_rule_assignments, base_cases, referrals, status_updates, documents`); err != nil {
		return fmt.Errorf("scale: vacuum: %w", err)
	}
	if a != nil && a.Log != nil {
		a.Log.Info("scale data ready", "firms", n, "referrals", n*ScaleReferralsPerFirm, "seed", seed)
	}
	return nil
}

type scaleBatch struct {
	cases   []db.SeedBaseCaseCopyParams
	refs    []db.SeedReferralCopyParams
	updates []db.SeedStatusUpdateCopyParams
	docs    []db.SeedDocumentCopyParams
	err     error
}

// addCase adds one case with one referral, or two when the first ended rejected or withdrawn
// and the case was referred again. It returns the number of referrals added.
func (b *scaleBatch) addCase(rng *rand.Rand, clock *scaleClock, owner uuid.UUID, peers []int, firmIDs []uuid.UUID,
	caseTypes []uuid.UUID, juris []string, refSeq int64) int {
	created := scaleStart.Add(time.Duration(rng.Int64N(int64(scaleSpan - 120*24*time.Hour))))
	caseID := scaleUUID(rng)
	ref := fmt.Sprintf("CX-%d-%06d", created.Year(), refSeq)
	first, last := scaleFirstNames[rng.IntN(len(scaleFirstNames))], scaleLastNames[rng.IntN(len(scaleLastNames))]
	title := fmt.Sprintf("%s - %s %s", scaleIncidents[rng.IntN(len(scaleIncidents))], first, last)
	dob := time.Date(1950+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	incident := created.AddDate(0, 0, -rng.IntN(300)).Truncate(24 * time.Hour)
	tier := int32(1 + rng.IntN(5))
	retainer := rng.IntN(4) == 0

	statuses := []string{scalePick(rng)}
	if (statuses[0] == "rejected" || statuses[0] == "withdrawn") && rng.IntN(3) == 0 {
		statuses = append(statuses, scalePick(rng))
	}
	t := created
	updated := created
	used := map[int]bool{}
	for seq, final := range statuses {
		peer := peers[rng.IntN(len(peers))]
		for used[peer] && len(used) < len(peers) {
			peer = peers[rng.IntN(len(peers))]
		}
		used[peer] = true
		refID := scaleUUID(rng)
		refCreated := t
		var referent *uuid.UUID
		if final != "draft" {
			referent = &firmIDs[peer]
		}
		var sentAt, expiresAt, ackAt *time.Time
		var closing *string
		var settlement *float64
		signed := retainer
		from := "draft"
		for _, st := range scalePaths[final] {
			t = t.Add(time.Duration(2+rng.IntN(240)) * time.Hour)
			at, err := clock.stamp(t)
			if err != nil {
				b.err = err
				return 0
			}
			t = at
			switch st {
			case "sent":
				sentAt = &at
				if final == "sent" {
					e := at.Add(72 * time.Hour)
					expiresAt = &e
				}
			case "under_evaluation":
				ackAt = &at
			case "signed":
				signed = true
			case "closed":
				c := scaleClosing[rng.IntN(len(scaleClosing))]
				closing = &c
				if c == "won_settled" {
					s := float64(10_000 + rng.IntN(990_000))
					settlement = &s
				}
			}
			prev := from
			b.updates = append(b.updates, db.SeedStatusUpdateCopyParams{
				ID: scaleUUID(rng), ReferralID: refID, BaseCaseID: caseID, ReferringFirmID: owner, ReferentFirmID: firmIDs[peer],
				FromStatus: &prev, Status: st, Source: "api", ActorFirmID: ptr(scaleActor(owner, firmIDs[peer], st)),
				ActorKind: "api_key", ActorName: ptr("Scale seed key"), CreatedAt: at,
			})
			from = st
			if st != "sent" && rng.IntN(3) == 0 { // a message from the receiving firm
				t = t.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
				mt, err := clock.stamp(t)
				if err != nil {
					b.err = err
					return 0
				}
				t = mt
				b.updates = append(b.updates, db.SeedStatusUpdateCopyParams{
					ID: scaleUUID(rng), ReferralID: refID, BaseCaseID: caseID, ReferringFirmID: owner, ReferentFirmID: firmIDs[peer],
					Status: st, IsMessage: true, Message: ptr(scaleMessages[rng.IntN(len(scaleMessages))]), Source: "api",
					ActorFirmID: ptr(firmIDs[peer]), ActorKind: "api_key", ActorName: ptr("Scale seed key"), CreatedAt: mt,
				})
			}
		}
		var notes *string
		if rng.IntN(2) == 0 {
			s := "Client is responsive; liability looks clear."
			notes = &s
		}
		b.refs = append(b.refs, db.SeedReferralCopyParams{
			ID: refID, BaseCaseID: caseID, SequenceNumber: int32(seq + 1), ReferenceNumber: fmt.Sprintf("%s-R%d", ref, seq+1),
			ReferringFirmID: owner, ReferentFirmID: referent, Status: final, ClosingStatus: closing, Notes: notes,
			SettlementAmount: settlement, IsRetainerSigned: signed, SentAt: sentAt, ExpiresAt: expiresAt, AcknowledgedAt: ackAt,
			LastActivityAt: t, CreatedAt: refCreated, UpdatedAt: t,
		})
		updated = t
	}
	b.cases = append(b.cases, db.SeedBaseCaseCopyParams{
		ID: caseID, OwnerFirmID: owner, ReferenceNumber: ref, Title: title, Description: ptr("Synthetic case for load tests."),
		CaseTypeID: caseTypes[rng.IntN(len(caseTypes))], JurisdictionCode: juris[rng.IntN(len(juris))],
		ClientFirstName: first, ClientLastName: last, ClientEmail: ptr(fmt.Sprintf("%s.%s%d@example.test", first, last, refSeq)),
		ClientPhone: ptr("555-0100"), ClientDateOfBirth: pgtype.Date{Time: dob, Valid: true},
		IncidentDate: pgtype.Date{Time: incident, Valid: true}, Tier: &tier, IsRetainerSigned: retainer,
		CreatedAt: created, UpdatedAt: updated,
	})
	if rng.IntN(5) == 0 {
		id := scaleUUID(rng)
		b.docs = append(b.docs, db.SeedDocumentCopyParams{
			ID: id, BaseCaseID: caseID, StorageKey: "scale/" + id.String(), FileName: "police-report.pdf",
			MimeType: "application/pdf", SizeBytes: int64(20_000 + rng.IntN(2_000_000)), IsPublic: true,
			UploadedByFirmID: owner, UploadedBy: "Scale seed key", CreatedAt: created.Add(time.Hour),
		})
	}
	return len(statuses)
}

func (b *scaleBatch) write(tx pgx.Tx) error {
	ctx := context.Background()
	q := db.New(tx)
	if err := scaleCopy("base_cases", len(b.cases), func() (int64, error) { return q.SeedBaseCaseCopy(ctx, b.cases) }); err != nil {
		return err
	}
	if err := scaleCopy("referrals", len(b.refs), func() (int64, error) { return q.SeedReferralCopy(ctx, b.refs) }); err != nil {
		return err
	}
	if err := scaleCopy("status_updates", len(b.updates), func() (int64, error) { return q.SeedStatusUpdateCopy(ctx, b.updates) }); err != nil {
		return err
	}
	return scaleCopy("documents", len(b.docs), func() (int64, error) { return q.SeedDocumentCopy(ctx, b.docs) })
}

// scaleCopy runs one of the Seed*Copy queries of db/queries/seed.sql (nothing for no rows).
func scaleCopy(table string, n int, copyRows func() (int64, error)) error {
	if n == 0 {
		return nil
	}
	if _, err := copyRows(); err != nil {
		return fmt.Errorf("scale: copy %s: %w", table, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// scaleActor is the firm that made a transition: the referring firm sends and withdraws, the
// receiving firm does the rest.
func scaleActor(referring, referent uuid.UUID, to string) uuid.UUID {
	if to == "sent" || to == "withdrawn" {
		return referring
	}
	return referent
}

func scalePick(rng *rand.Rand) string {
	x := rng.IntN(1000)
	for _, m := range scaleStatusMix {
		if x < m.perMil {
			return m.status
		}
		x -= m.perMil
	}
	return "closed"
}

func scaleUUID(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	for i := range u {
		u[i] = byte(rng.UintN(256))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// scaleUniq drops duplicates and self from peers, filling up with the next firms.
func scaleUniq(in []int, self, n int) []int {
	seen := map[int]bool{self: true}
	out := make([]int, 0, len(in))
	next := self
	for _, p := range in {
		for seen[p] {
			next = (next + 1) % n
			p = next
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

func scaleRefData(ctx context.Context, pool *pgxpool.Pool) ([]uuid.UUID, []string, error) {
	rows, err := pool.Query(ctx, `SELECT id FROM case_types WHERE is_active ORDER BY sort_order, name`)
	if err != nil {
		return nil, nil, fmt.Errorf("scale: case types: %w", err)
	}
	types, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, nil, fmt.Errorf("scale: case types: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT code FROM jurisdictions WHERE kind = 'state' ORDER BY code`)
	if err != nil {
		return nil, nil, fmt.Errorf("scale: jurisdictions: %w", err)
	}
	juris, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("scale: jurisdictions: %w", err)
	}
	if len(types) == 0 || len(juris) == 0 {
		return nil, nil, errors.New("scale: reference data is missing (run migrations)")
	}
	return types, juris, nil
}
