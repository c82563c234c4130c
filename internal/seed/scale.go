package seed

// Scale loads a large synthetic dataset for benchmarks (`casexchange seed --scale N`). Rows are
// written with COPY, one batch of tables per firm, in the shape the referral lifecycle leaves
// behind: every referral past draft has one status update per transition, in order, plus some
// messages; acknowledged_at, expires_at, closing_status and is_retainer_signed match the status.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	var firmRows, relRows, ruleRows, assignRows [][]any
	for i := range n {
		firmIDs[i] = scaleUUID(rng)
		c := scaleCities[i%len(scaleCities)]
		names[i] = fmt.Sprintf("%s %s Law %d", scaleLastNames[rng.IntN(len(scaleLastNames))], c.city, i+1)
		j := []string{c.state, juris[rng.IntN(len(juris))]}
		created := scaleStart.Add(-time.Duration(rng.IntN(365*24)) * time.Hour)
		firmRows = append(firmRows, []any{firmIDs[i], names[i], ScaleSlug(i), c.city, c.state, "US", j, true,
			fmt.Sprintf("S%d", i+1), fmt.Sprintf("Send %s cases with the police report attached.", c.state), created, created})
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
			relRows = append(relRows, []any{scaleUUID(rng), firmIDs[i], firmIDs[j], "active",
				float64(20 + rng.IntN(20)), 7, 30, t, t, t})
		}
		for p := range 2 {
			id := scaleUUID(rng)
			st := juris[rng.IntN(len(juris))]
			cond := fmt.Sprintf(`[{"field":"jurisdiction","operator":"eq","value":%q}]`, st)
			ruleRows = append(ruleRows, []any{id, firmIDs[i], fmt.Sprintf("Route %s cases", st), int32(p), true, cond, scaleStart, scaleStart})
			for pos, j := range peers(i)[:min(2, len(peers(i)))] {
				assignRows = append(assignRows, []any{id, int32(pos), "casexchange_firm", firmIDs[j], int32(1 + rng.IntN(5))})
			}
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := scaleCopy(ctx, tx, "firms", []string{"id", "name", "slug", "city", "state", "country", "jurisdictions", "is_public",
			"reference_prefix", "general_referral_instructions", "created_at", "updated_at"}, firmRows); err != nil {
			return err
		}
		if err := scaleCopy(ctx, tx, "network_relationships", []string{"id", "from_firm_id", "to_firm_id", "status",
			"sending_percentage", "days_for_under_evaluation", "days_for_investigating", "requested_at", "created_at", "updated_at"}, relRows); err != nil {
			return err
		}
		if err := scaleCopy(ctx, tx, "routing_rules", []string{"id", "firm_id", "name", "priority", "is_active", "conditions", "created_at", "updated_at"}, ruleRows); err != nil {
			return err
		}
		return scaleCopy(ctx, tx, "routing_rule_assignments", []string{"rule_id", "position", "recipient_type", "firm_id", "distribution_weight"}, assignRows)
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
	cases, refs, updates, docs [][]any
	err                        error
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
			b.updates = append(b.updates, []any{scaleUUID(rng), refID, caseID, owner, firmIDs[peer], &prev, st, false, nil, "api",
				scaleActor(owner, firmIDs[peer], st), "api_key", "Scale seed key", at})
			from = st
			if st != "sent" && rng.IntN(3) == 0 { // a message from the receiving firm
				t = t.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
				mt, err := clock.stamp(t)
				if err != nil {
					b.err = err
					return 0
				}
				t = mt
				b.updates = append(b.updates, []any{scaleUUID(rng), refID, caseID, owner, firmIDs[peer], nil, st, true,
					scaleMessages[rng.IntN(len(scaleMessages))], "api", firmIDs[peer], "api_key", "Scale seed key", mt})
			}
		}
		var notes *string
		if rng.IntN(2) == 0 {
			s := "Client is responsive; liability looks clear."
			notes = &s
		}
		b.refs = append(b.refs, []any{refID, caseID, int32(seq + 1), fmt.Sprintf("%s-R%d", ref, seq+1), owner, referent, final,
			closing, notes, settlement, signed, sentAt, expiresAt, ackAt, t, refCreated, t})
		updated = t
	}
	b.cases = append(b.cases, []any{caseID, owner, ref, title, "Synthetic case for load tests.", caseTypes[rng.IntN(len(caseTypes))],
		juris[rng.IntN(len(juris))], first, last, fmt.Sprintf("%s.%s%d@example.test", first, last, refSeq), "555-0100",
		dob, incident, tier, retainer, created, updated})
	if rng.IntN(5) == 0 {
		id := scaleUUID(rng)
		b.docs = append(b.docs, []any{id, caseID, "scale/" + id.String(), "police-report.pdf", "application/pdf",
			int64(20_000 + rng.IntN(2_000_000)), true, owner, "Scale seed key", created.Add(time.Hour)})
	}
	return len(statuses)
}

func (b *scaleBatch) write(tx pgx.Tx) error {
	ctx := context.Background()
	if err := scaleCopy(ctx, tx, "base_cases", []string{"id", "owner_firm_id", "reference_number", "title", "description", "case_type_id",
		"jurisdiction_code", "client_first_name", "client_last_name", "client_email", "client_phone", "client_date_of_birth",
		"incident_date", "tier", "is_retainer_signed", "created_at", "updated_at"}, b.cases); err != nil {
		return err
	}
	if err := scaleCopy(ctx, tx, "referrals", []string{"id", "base_case_id", "sequence_number", "reference_number", "referring_firm_id",
		"referent_firm_id", "status", "closing_status", "notes", "settlement_amount", "is_retainer_signed", "sent_at", "expires_at",
		"acknowledged_at", "last_activity_at", "created_at", "updated_at"}, b.refs); err != nil {
		return err
	}
	if err := scaleCopy(ctx, tx, "status_updates", []string{"id", "referral_id", "base_case_id", "referring_firm_id", "referent_firm_id",
		"from_status", "status", "is_message", "message", "source", "actor_firm_id", "actor_kind", "actor_name", "created_at"}, b.updates); err != nil {
		return err
	}
	return scaleCopy(ctx, tx, "documents", []string{"id", "base_case_id", "storage_key", "file_name", "mime_type", "size_bytes",
		"is_public", "uploaded_by_firm_id", "uploaded_by", "created_at"}, b.docs)
}

func scaleCopy(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("scale: copy %s: %w", table, err)
	}
	return nil
}

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
