package main

// Helpers of the firm-size seeder, copied from internal/seed/scale.go (unexported there) so the
// bench's dataset keeps the scale seed's status mix and shapes without widening that package.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// scaleStart and scaleSpan bound the creation times: fixed, so a seed always gives the same rows.
var (
	scaleStart = time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	scaleSpan  = 730 * 24 * time.Hour
)

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
