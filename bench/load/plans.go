package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// planCase is one query behind a benchmarked endpoint, with the parameters the endpoint passes.
type planCase struct {
	title, query string
	params       map[string]any
}

var (
	sqlcArg   = regexp.MustCompile(`sqlc\.n?arg\(([a-z_]+)\)|@([a-z_]+)`)
	sqlcEmbed = regexp.MustCompile(`sqlc\.embed\(([a-z_]+)\)`)
)

// loadQueries reads the named queries of db/queries/*.sql, the source sqlc generates from.
func loadQueries(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var name string
		var body []string
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "-- name: "); ok {
				name, body = strings.Fields(rest)[0], nil
				continue
			}
			if name == "" {
				continue
			}
			body = append(body, line)
			if strings.HasSuffix(strings.TrimSpace(line), ";") {
				out[name] = strings.TrimSuffix(strings.TrimSpace(strings.Join(body, "\n")), ";")
				name = ""
			}
		}
	}
	return out, nil
}

// positional turns sqlc's named parameters into $n and returns the names in order.
func positional(q string) (string, []string) {
	q = sqlcEmbed.ReplaceAllString(q, "$1.*")
	var names []string
	index := map[string]int{}
	q = sqlcArg.ReplaceAllStringFunc(q, func(m string) string {
		sub := sqlcArg.FindStringSubmatch(m)
		n := sub[1] + sub[2]
		i, ok := index[n]
		if !ok {
			names = append(names, n)
			i = len(names)
			index[n] = i
		}
		return fmt.Sprintf("$%d", i)
	})
	return q, names
}

func writePlans(ctx context.Context, path string, pool *pgxpool.Pool, fx fixtures) error {
	queries, err := loadQueries("db/queries")
	if err != nil {
		return err
	}
	firm := uuid.MustParse(fx.firm)
	caseID := uuid.MustParse(fx.caseID)
	var refIDs []uuid.UUID
	rows, err := pool.Query(ctx, `SELECT id FROM referrals WHERE referring_firm_id = $1 ORDER BY updated_at DESC LIMIT 20`, firm)
	if err != nil {
		return err
	}
	if refIDs, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return err
	}
	caseIDs := []uuid.UUID{caseID}
	list := func(search any, offset int64) map[string]any {
		return map[string]any{"firm_id": firm, "include_sent": true, "include_received": false, "search": search,
			"sort": "updatedAt", "descending": true, "row_limit": int64(20), "row_offset": offset}
	}
	cases := []planCase{
		{"GET /sent-cases (page 1): CaseList", "CaseList", list(nil, 0)},
		{"GET /sent-cases (deep page, search=Law): CaseList", "CaseList", list("%Law%", int64(fx.deepPage-1)*20)},
		{"GET /sent-cases: BaseCaseGetByIDs (the page's cases)", "BaseCaseGetByIDs", map[string]any{"ids": caseIDs}},
		{"GET /sent-cases: ReferralGetByIDs (the page's referrals)", "ReferralGetByIDs", map[string]any{"ids": refIDs}},
		{"GET /received-referrals?status=investigating: ReceivedReferralList", "ReceivedReferralList", map[string]any{
			"firm_id": firm, "status": "investigating", "sort": "", "descending": true, "row_limit": int64(20), "row_offset": int64(0)}},
		{"GET /status-updates?updatedSince: StatusUpdateFeed", "StatusUpdateFeed", map[string]any{
			"firm_id": firm, "since": fx.since, "ascending": true, "after_id": uuid.Nil, "row_limit": int64(20), "row_offset": int64(0)}},
		{"GET /sent-cases/{uuid}: BaseCaseResolve", "BaseCaseResolve", map[string]any{
			"id": caseID, "ref": strings.ToUpper(fx.caseID), "ext": fx.caseID, "firm_id": firm}},
		{"GET /sent-cases/{referenceNumber}: BaseCaseResolve", "BaseCaseResolve", map[string]any{
			"ref": fx.caseRef, "ext": fx.caseRef, "firm_id": firm}},
		{"GET /sent-cases/{id}: ReferralListByCases", "ReferralListByCases", map[string]any{"case_ids": caseIDs}},
	}
	var b strings.Builder
	b.WriteString("# Query plans\n\n`EXPLAIN (ANALYZE, BUFFERS)` of the queries behind the benchmarked endpoints, on the benchmark dataset,\n")
	fmt.Fprintf(&b, "with the parameters the endpoints pass (%d referrals, %d status updates). The SQL is read from db/queries.\n\n", fx.referrals, fx.statusCount)
	for _, c := range cases {
		src, ok := queries[c.query]
		if !ok {
			fmt.Fprintf(&b, "## %s\n\nquery %s not found in db/queries\n\n", c.title, c.query)
			continue
		}
		sql, names := positional(src)
		args := make([]any, len(names))
		for i, n := range names {
			args[i] = c.params[n]
		}
		rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
		var plan []string
		if err == nil {
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		fmt.Fprintf(&b, "## %s\n\n```\n", c.title)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		} else {
			b.WriteString(strings.Join(plan, "\n") + "\n")
		}
		b.WriteString("```\n\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
