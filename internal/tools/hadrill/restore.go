package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/casexchange/server/internal/pgcluster"
)

const restoreWorkers = 3

func restore(ctx context.Context, c *common) error {
	began := time.Now()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is not set: run through go run ./cmd/devdb -ephemeral")
	}
	duration := c.duration
	if duration == 0 {
		duration = 5 * time.Second // load before the dump starts
	}
	binDir, err := pgcluster.FindBinDir()
	if err != nil {
		return err
	}
	store, err := c.startMinIO(ctx)
	if err != nil {
		return err
	}
	s := newSite(c, dsn, store)
	keys, err := s.demo(ctx, "acme=acme-injury-law:full", "bay=bay-legal-group:full")
	if err != nil {
		return err
	}
	origin := &replica{name: "origin"}
	if err := s.startReplica(ctx, origin); err != nil {
		return err
	}
	acme, err := loadFirm(ctx, origin.url, "acme", keys["acme"])
	if err != nil {
		return err
	}
	bay, err := loadFirm(ctx, origin.url, "bay", keys["bay"])
	if err != nil {
		return err
	}
	w := &workload{firms: [2]*firm{acme, bay}, docs: true, logf: c.logf}
	w.target = func(string, string) (string, string) { return origin.url, "origin" }
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() { w.run(loadCtx, restoreWorkers); close(loadDone) }()
	time.Sleep(duration)

	// Every write acknowledged before t0 must be in the dump: its snapshot is taken after t0.
	t0 := time.Now()
	writesBefore := w.writes()
	dump := filepath.Join(c.workDir, "casexchange.dump")
	if _, err := runOut(ctx, nil, filepath.Join(binDir, "pg_dump"), "--format=custom", "--file="+dump, "--dbname="+dsn); err != nil {
		return err
	}
	dumpTook := time.Since(t0)
	writesDuring := w.writes() - writesBefore
	time.Sleep(time.Second)
	stopLoad()
	<-loadDone
	fi, err := os.Stat(dump)
	if err != nil {
		return err
	}
	c.logf("pg_dump: %.1f MB in %s while %d writes were acknowledged", float64(fi.Size())/1e6, dumpTook.Round(time.Millisecond), writesDuring)

	copyDSN, err := otherDatabase(dsn, "casexchange_restored")
	if err != nil {
		return err
	}
	adminDSN, _ := otherDatabase(dsn, "postgres")
	if err := sqlExec(ctx, adminDSN, "DROP DATABASE IF EXISTS casexchange_restored", "CREATE DATABASE casexchange_restored"); err != nil {
		return err
	}
	restoreStart := time.Now()
	if _, err := runOut(ctx, nil, filepath.Join(binDir, "pg_restore"), "--exit-on-error", "--no-owner", "--jobs=2", "--dbname="+copyDSN, dump); err != nil {
		return err
	}
	restoreTook := time.Since(restoreStart)
	c.logf("pg_restore into a fresh database: %s", restoreTook.Round(time.Millisecond))

	// A server on the copy, with the same object store and secrets.
	cs := newSite(c, copyDSN, store)
	cs.jwtSecret, cs.linkSecret = s.jwtSecret, s.linkSecret
	restored := &replica{name: "restored"}
	if err := cs.startReplica(ctx, restored); err != nil {
		return err
	}

	var problems []string
	cases, refs, docs, later := 0, 0, 0, 0
	w.mu.Lock()
	all := append([]*caseRec(nil), w.cases...)
	w.mu.Unlock()
	for _, cr := range all {
		if !cr.createdAt.Before(t0) {
			later++
			continue
		}
		cases++
		orig := call(ctx, "GET", origin.url+"/api/public/v1/sent-cases/"+cr.id, cr.owner.key, nil, "")
		got := call(ctx, "GET", restored.url+"/api/public/v1/sent-cases/"+cr.id, cr.owner.key, nil, "")
		if !got.ok() || !orig.ok() {
			problems = append(problems, fmt.Sprintf("case %s: origin %s, copy %s", cr.id, orig, got))
			continue
		}
		for _, f := range []string{"data.referenceNumber", "data.title", "data.clientLastName"} {
			if field(orig.body, f) != field(got.body, f) {
				problems = append(problems, fmt.Sprintf("case %s: %s is %q on the copy, %q on the origin", cr.id, f, field(got.body, f), field(orig.body, f)))
			}
		}
		if cr.ackState == "acked" && cr.ackAt.Before(t0) && field(got.body, "data.status") == "sent" {
			problems = append(problems, fmt.Sprintf("case %s: acknowledged before the dump, still sent on the copy", cr.id))
		}
		// The referral, as the receiving firm sees it.
		refs++
		rr := call(ctx, "GET", restored.url+"/api/public/v1/received-referrals/"+cr.id, cr.partner.key, nil, "")
		if !rr.ok() {
			problems = append(problems, fmt.Sprintf("referral of case %s on the copy: %s", cr.id, rr))
		}
		for _, d := range cr.docs {
			if !d.ackedAt.Before(t0) {
				continue
			}
			docs++
			sum, r := fetchDocument(ctx, restored.url, cr.owner.key, d)
			if !r.ok() {
				problems = append(problems, fmt.Sprintf("document %s on the copy: %s", d.id, r))
			} else if sum != d.sum {
				problems = append(problems, fmt.Sprintf("document %s on the copy: bytes differ", d.id))
			}
		}
	}
	if failed := w.failures(func(sample) bool { return true }); len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d requests of the load failed (first: %s)", len(failed), failed[0].what))
	}
	if cases == 0 || docs == 0 {
		problems = append(problems, "no case or document was acknowledged before the dump")
	}
	if len(problems) > 0 {
		for _, p := range problems[:min(len(problems), 30)] {
			c.logf("problem: %s", p)
		}
		return fmt.Errorf("%d problems (first: %s)", len(problems), problems[0])
	}
	c.summary("restore-drill: pg_dump %.1f MB in %s under load (%d writes during it), pg_restore %s; the copy served %d cases, %d referrals, %d documents (bytes via download) written before the dump, 0 missing; total %s",
		float64(fi.Size())/1e6, dumpTook.Round(time.Millisecond), writesDuring, restoreTook.Round(time.Millisecond), cases, refs, docs,
		time.Since(began).Round(time.Second))
	_ = later
	return nil
}

// otherDatabase returns dsn (a URL) naming database instead.
func otherDatabase(dsn, database string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return "", fmt.Errorf("DATABASE_URL: want a postgres:// URL, got %q", dsn)
	}
	u.Path = "/" + database
	return u.String(), nil
}
