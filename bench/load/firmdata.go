package main

// The firm-size dataset of the matrix run: in one database, sending firms of 100, size/20 and
// size cases (S100, S10k and S200k at -firm-size 200000), a receiving firm with size received
// referrals from three senders, and a few small partner firms. Rows are generated from the seed
// (the same seed and size give the same rows) and written with COPY, in transactions of
// firmBatch cases; the triggers of migration 0016 fire on COPY, so the list read model and its
// counters are filled as the rows arrive.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres"
)

const (
	firmBatch    = 5000 // cases per seeding transaction
	firmPartners = 5    // small partner firms receiving the sending firms' referrals
	firmSenders  = 3    // firms sending to the receiving firm
	partnerCases = 50   // cases of each partner firm
)

// firmRole is what a firm of the dataset is for.
type firmRole string

const (
	roleSender   firmRole = "sender"   // a measured sending firm
	roleReceiver firmRole = "receiver" // the measured receiving firm
	roleFeeder   firmRole = "feeder"   // sends to the receiver
	rolePartner  firmRole = "partner"  // small firm: receives the senders' referrals; the writes act as partners
)

// dataFirm is one firm of the dataset.
type dataFirm struct {
	Label, Slug, Name string
	Role              firmRole
	Cases             int // cases it owns
	ID                uuid.UUID
}

// firmSizes are the sending firms' case counts for size (at least 400).
func firmSizes(size int) []int {
	return []int{100, max(200, size/20), size}
}

// sizeLabel is 100 -> "100", 10000 -> "10k", 200000 -> "200k".
func sizeLabel(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// firmPlan lists the firms of the dataset of size, ids drawn from rng.
func firmPlan(size int, rng *rand.Rand) []dataFirm {
	var out []dataFirm
	add := func(label, slug, name string, role firmRole, cases int) {
		out = append(out, dataFirm{Label: label, Slug: slug, Name: name, Role: role, Cases: cases, ID: scaleUUID(rng)})
	}
	for i, n := range firmSizes(size) {
		add("S"+sizeLabel(n), fmt.Sprintf("fs-sender-%d", i+1), fmt.Sprintf("%s Injury Law (%s cases)", companies[i], sizeLabel(n)), roleSender, n)
	}
	add("R"+sizeLabel(size), "fs-receiver", fmt.Sprintf("Receiving Trial Lawyers (%s referrals)", sizeLabel(size)), roleReceiver, 0)
	for i := range firmSenders {
		add(fmt.Sprintf("F%d", i+1), fmt.Sprintf("fs-feeder-%d", i+1), fmt.Sprintf("%s Feeder Law %d", companies[10+i], i+1), roleFeeder, size/firmSenders+btoi(i < size%firmSenders))
	}
	for i := range firmPartners {
		add(fmt.Sprintf("P%d", i+1), fmt.Sprintf("fs-partner-%d", i+1), fmt.Sprintf("%s Partner Law %d", companies[20+i], i+1), rolePartner, partnerCases)
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

var companies = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent",
	"Hooli", "Vandelay", "Massive", "Aperture", "Oscorp", "Gringotts", "Monarch", "Pied Piper", "Dunder", "Sterling",
	"Prestige", "Nakatomi", "Virtucon", "Zorg", "Vehement", "Omni", "Duff", "Krusty", "Bluth", "Gekko", "Cogswell", "Spacely"}

// firmDB is the firm-size dataset: its database, a pool, an in-process App and its firms.
type firmDB struct {
	scaleDB
	Firms    []dataFirm
	SeedTime time.Duration // 0: kept from an earlier run
	Counts   map[string]int64
}

func (d *firmDB) firm(label string) dataFirm {
	for _, f := range d.Firms {
		if f.Label == label {
			return f
		}
	}
	panic("no firm " + label)
}

func (d *firmDB) byRole(r firmRole) []dataFirm {
	var out []dataFirm
	for _, f := range d.Firms {
		if f.Role == r {
			out = append(out, f)
		}
	}
	return out
}

// openFirmSize opens (creating, migrating and seeding when needed) the firm-size dataset.
func openFirmSize(ctx context.Context, o options) (*firmDB, error) {
	name := o.firmDB
	if _, err := ensureDatabase(ctx, o.dsn, name); err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	dsn, err := dsnFor(o.dsn, name)
	if err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	d := &firmDB{scaleDB: scaleDB{dsn: dsn, pool: pool, info: datasetInfo{DB: name}}}
	fail := func(err error) (*firmDB, error) { d.close(); return nil, err }
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		return fail(fmt.Errorf("migrate %s: %w", name, err))
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		return fail(fmt.Errorf("migrate the job queue of %s: %w", name, err))
	}
	acfg, err := config.Load()
	if err != nil {
		return fail(err)
	}
	acfg.DatabaseURL = dsn
	if err := acfg.ResolveSecrets(false); err != nil {
		return fail(err)
	}
	if d.app, err = app.New(ctx, acfg, pool, quiet, app.Options{}); err != nil {
		return fail(err)
	}
	rng := rand.New(rand.NewPCG(uint64(o.seed), 0xf1a5))
	d.Firms = firmPlan(o.firmSize, rng)
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM firms WHERE slug LIKE 'fs-%'`).Scan(&have); err != nil {
		return fail(err)
	}
	switch {
	case have == 0:
		total := 0
		for _, f := range d.Firms {
			total += f.Cases
		}
		fmt.Fprintf(os.Stderr, "seeding %s: %d firms, %d cases (firm sizes %v, receiver %d referrals)\n", name, len(d.Firms), total, firmSizes(o.firmSize), o.firmSize)
		t0 := time.Now()
		if err := seedFirmSize(ctx, d, rng, importer.ProgressBarOf(os.Stderr, 40, "cases")); err != nil {
			return fail(fmt.Errorf("seed %s: %w", name, err))
		}
		d.SeedTime = time.Since(t0)
		d.info.SeedTime = d.SeedTime
		fmt.Fprintf(os.Stderr, "seeded %s in %s\n", name, d.SeedTime.Round(time.Millisecond))
	case have != len(d.Firms):
		return fail(fmt.Errorf("database %s holds %d firm-size firms, not %d: drop it to reseed", name, have, len(d.Firms)))
	default:
		// A kept dataset carries the writes of earlier runs and migrations applied since it was
		// seeded: bring it to the state autovacuum keeps a live database in (visibility map set,
		// statistics current), so index-only ranges read no heap. Cheap when nothing changed.
		fmt.Fprintf(os.Stderr, "vacuum analyze (kept dataset)\n")
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) firms, network_relationships, base_cases, referrals, status_updates, case_listings, list_counts`); err != nil {
			return fail(fmt.Errorf("vacuum: %w", err))
		}
	}
	// The ids of a kept dataset (the same seed gives the same ids; check).
	for i, f := range d.Firms {
		var id uuid.UUID
		if err := pool.QueryRow(ctx, `SELECT id FROM firms WHERE slug = $1`, f.Slug).Scan(&id); err != nil {
			return fail(fmt.Errorf("firm %s: %w", f.Slug, err))
		}
		if id != f.ID {
			return fail(fmt.Errorf("database %s was seeded with another -seed or -firm-size: drop it to reseed", name))
		}
		d.Firms[i].ID = id
	}
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM referrals), (SELECT count(*) FROM status_updates), (SELECT count(*) FROM base_cases)`).
		Scan(&d.info.Referrals, &d.info.StatusUpdates, &d.info.BaseCases); err != nil {
		return fail(err)
	}
	d.Counts = map[string]int64{}
	for _, f := range d.Firms {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM case_listings WHERE firm_id = $1`, f.ID).Scan(&n); err != nil {
			return fail(fmt.Errorf("case_listings (migration 0016): %w", err))
		}
		d.Counts[f.Label] = n
	}
	fmt.Fprintf(os.Stderr, "dataset %s: %d cases, %d referrals, %d status updates\n", name, d.info.BaseCases, d.info.Referrals, d.info.StatusUpdates)
	return d, nil
}

// seedFirmSize writes the dataset's firms, network and cases.
func seedFirmSize(ctx context.Context, d *firmDB, rng *rand.Rand, progress func(done, total int)) error {
	pool := d.pool
	caseTypes, juris, err := scaleRefData(ctx, pool)
	if err != nil {
		return err
	}
	var refSeq int64
	if err := pool.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM base_case_reference_seq`).Scan(&refSeq); err != nil {
		return fmt.Errorf("reference sequence: %w", err)
	}
	receiver := d.byRole(roleReceiver)[0]
	partners := d.byRole(rolePartner)
	var firmRows, relRows [][]any
	for i, f := range d.Firms {
		c := scaleCities[i%len(scaleCities)]
		created := scaleStart.Add(-time.Duration(rng.IntN(365*24)) * time.Hour)
		firmRows = append(firmRows, []any{f.ID, f.Name, f.Slug, c.city, c.state, "US", []string{c.state, juris[rng.IntN(len(juris))]}, true,
			fmt.Sprintf("FS%d", i+1), "Send the police report with each case.", created, created})
	}
	rel := func(from, to uuid.UUID) {
		t := scaleStart.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
		relRows = append(relRows, []any{scaleUUID(rng), from, to, "active", float64(20 + rng.IntN(20)), 7, 30, t, t, t})
	}
	peersOf := map[uuid.UUID][]uuid.UUID{}
	for _, f := range d.Firms {
		switch f.Role {
		case roleSender:
			for _, p := range partners {
				rel(f.ID, p.ID)
				peersOf[f.ID] = append(peersOf[f.ID], p.ID)
			}
		case roleFeeder:
			rel(f.ID, receiver.ID)
			peersOf[f.ID] = []uuid.UUID{receiver.ID}
		case rolePartner:
			for _, p := range partners {
				if p.ID != f.ID {
					rel(f.ID, p.ID)
					peersOf[f.ID] = append(peersOf[f.ID], p.ID)
				}
			}
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := scaleCopy(ctx, tx, "firms", []string{"id", "name", "slug", "city", "state", "country", "jurisdictions", "is_public",
			"reference_prefix", "general_referral_instructions", "created_at", "updated_at"}, firmRows); err != nil {
			return err
		}
		return scaleCopy(ctx, tx, "network_relationships", []string{"id", "from_firm_id", "to_firm_id", "status",
			"sending_percentage", "days_for_under_evaluation", "days_for_investigating", "requested_at", "created_at", "updated_at"}, relRows)
	})
	if err != nil {
		return err
	}
	total := 0
	for _, f := range d.Firms {
		total += f.Cases
	}
	clock := &scaleClock{}
	done := 0
	for _, f := range d.Firms {
		b := &caseBatch{}
		for n := 1; n <= f.Cases; n++ {
			refSeq++
			b.add(rng, clock, f, n, peersOf[f.ID], caseTypes, juris, refSeq)
			if b.err != nil {
				return b.err
			}
			if len(b.cases) == firmBatch || n == f.Cases {
				if err := pgx.BeginFunc(ctx, pool, b.write); err != nil {
					return err
				}
				done += len(b.cases)
				b = &caseBatch{}
				if progress != nil {
					progress(done, total)
				}
			}
		}
	}
	if _, err := pool.Exec(ctx, `SELECT setval('base_case_reference_seq', $1)`, refSeq); err != nil {
		return fmt.Errorf("reference sequence: %w", err)
	}
	fmt.Fprintf(os.Stderr, "vacuum analyze\n")
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) firms, network_relationships, base_cases, referrals, status_updates, case_listings, list_counts`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

// caseBatch is the rows of up to firmBatch cases.
type caseBatch struct {
	cases, refs, updates [][]any
	err                  error
}

// add adds case n of firm f: a title "<Company> Holdings #n", and one referral to one of peers
// in the status mix of the scale seed (drafts have no receiving firm), or two when the first
// ended rejected or withdrawn and the case was referred again. A feeder's cases have exactly one
// referral, never a draft, so the receiving firm receives exactly one referral per feeder case.
func (b *caseBatch) add(rng *rand.Rand, clock *scaleClock, f dataFirm, n int, peers []uuid.UUID, caseTypes []uuid.UUID, juris []string, refSeq int64) {
	created := scaleStart.Add(time.Duration(rng.Int64N(int64(scaleSpan - 120*24*time.Hour))))
	caseID := scaleUUID(rng)
	ref := fmt.Sprintf("CX-%d-%06d", created.Year(), refSeq)
	first, last := scaleFirstNames[rng.IntN(len(scaleFirstNames))], scaleLastNames[rng.IntN(len(scaleLastNames))]
	title := fmt.Sprintf("%s Holdings #%d", companies[rng.IntN(len(companies))], n)
	dob := time.Date(1950+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	incident := created.AddDate(0, 0, -rng.IntN(300)).Truncate(24 * time.Hour)
	retainer := rng.IntN(4) == 0
	pick := func() string {
		s := scalePick(rng)
		for f.Role == roleFeeder && s == "draft" {
			s = scalePick(rng)
		}
		return s
	}
	statuses := []string{pick()}
	if f.Role != roleFeeder && (statuses[0] == "rejected" || statuses[0] == "withdrawn") && rng.IntN(3) == 0 {
		statuses = append(statuses, pick())
	}
	t, updated := created, created
	prevPeer := -1
	for seq, final := range statuses {
		pi := rng.IntN(len(peers))
		if pi == prevPeer && len(peers) > 1 {
			pi = (pi + 1) % len(peers)
		}
		prevPeer = pi
		peer := peers[pi]
		refID := scaleUUID(rng)
		refCreated := t
		var referent *uuid.UUID
		if final != "draft" {
			referent = &peer
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
				return
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
			b.updates = append(b.updates, []any{scaleUUID(rng), refID, caseID, f.ID, peer, &prev, st, false, nil, "api",
				scaleActor(f.ID, peer, st), "api_key", "Bench seed key", at})
			from = st
			if st != "sent" && rng.IntN(4) == 0 { // a message from the receiving firm
				t = t.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
				mt, err := clock.stamp(t)
				if err != nil {
					b.err = err
					return
				}
				t = mt
				b.updates = append(b.updates, []any{scaleUUID(rng), refID, caseID, f.ID, peer, nil, st, true,
					scaleMessages[rng.IntN(len(scaleMessages))], "api", peer, "api_key", "Bench seed key", mt})
			}
		}
		var notes *string
		if rng.IntN(2) == 0 {
			s := "Client is responsive; liability looks clear."
			notes = &s
		}
		b.refs = append(b.refs, []any{refID, caseID, int32(seq + 1), fmt.Sprintf("%s-R%d", ref, seq+1), f.ID, referent, final,
			closing, notes, settlement, signed, sentAt, expiresAt, ackAt, t, refCreated, t})
		updated = t
	}
	b.cases = append(b.cases, []any{caseID, f.ID, ref, title, "Synthetic case for the firm-size benchmark.", caseTypes[rng.IntN(len(caseTypes))],
		juris[rng.IntN(len(juris))], first, last, fmt.Sprintf("%s.%s%d@example.test", first, last, refSeq), "555-0100",
		dob, incident, int32(1 + rng.IntN(5)), retainer, created, updated})
}

func (b *caseBatch) write(tx pgx.Tx) error {
	ctx := context.Background()
	if len(b.cases) == 0 {
		return errors.New("empty batch")
	}
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
	return scaleCopy(ctx, tx, "status_updates", []string{"id", "referral_id", "base_case_id", "referring_firm_id", "referent_firm_id",
		"from_status", "status", "is_message", "message", "source", "actor_firm_id", "actor_kind", "actor_name", "created_at"}, b.updates)
}
