package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Settings of the scale-out drill.
const (
	scaleReplicas   = 3
	scaleWorkers    = 6
	scaleRateBudget = 24 // CX_RATE_LIMIT_READ_ONLY: one key's budget per window over all replicas
	scaleImportRows = 300
	hcInterval      = 500 * time.Millisecond // HAProxy health check interval; fall 2, rise 2
)

func scaleOut(ctx context.Context, c *common) error {
	began := time.Now()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is not set: run through go run ./cmd/devdb -ephemeral")
	}
	duration := c.duration
	if duration == 0 {
		duration = 40 * time.Second
	}
	store, err := c.startMinIO(ctx)
	if err != nil {
		return err
	}
	c.logf("MinIO ready at %s", store.endpoint)

	lbPort, statsPort := freePort(), freePort()
	lb := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	s := newSite(c, dsn, store)
	s.publicURL = lb
	s.extraEnv = []string{
		"CX_RATE_LIMIT_READ_ONLY=" + itoa(scaleRateBudget),
		"CX_RATE_LIMIT_STANDARD=100000", "CX_RATE_LIMIT_FULL=100000", "CX_RATE_LIMIT_FIRM=100000",
		"CX_RATE_LIMIT_SESSION=100000", "CX_RATE_LIMIT_IP=100000",
	}
	keys, err := s.demo(ctx, "acme=acme-injury-law:full", "bay=bay-legal-group:full", "ro=acme-injury-law:read_only")
	if err != nil {
		return err
	}

	replicas := make([]*replica, scaleReplicas)
	for i := range replicas {
		replicas[i] = &replica{name: fmt.Sprintf("r%d", i+1)}
		replicas[i].addr = fmt.Sprintf("127.0.0.1:%d", freePort())
		replicas[i].url = "http://" + replicas[i].addr
	}
	var wg sync.WaitGroup
	errs := make([]error, len(replicas))
	for i, r := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.startReplica(ctx, r) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	hp, err := c.startHAProxy(ctx, lbPort, statsPort, replicas)
	if err != nil {
		return err
	}
	stats := fmt.Sprintf("http://127.0.0.1:%d/stats;csv", statsPort)
	if err := waitHTTP(ctx, lb+healthPath, hp, 30*time.Second); err != nil {
		return err
	}
	for _, r := range replicas {
		if _, err := waitServerState(ctx, stats, r.name, "UP", 30*time.Second); err != nil {
			return err
		}
	}
	c.logf("3 replicas up behind HAProxy at %s (setup %s)", lb, time.Since(began).Round(time.Second))

	acme, err := loadFirm(ctx, lb, "acme", keys["acme"])
	if err != nil {
		return err
	}
	bay, err := loadFirm(ctx, lb, "bay", keys["bay"])
	if err != nil {
		return err
	}

	// Rate limit: one read-only key, its requests spread over the three replicas directly.
	okBefore429 := 0
	for i := 0; i < 3*scaleRateBudget; i++ {
		r := call(ctx, "GET", replicas[i%3].url+"/api/public/v1/firms/me", keys["ro"], nil, "")
		if r.status == http.StatusTooManyRequests {
			break
		}
		if !r.ok() {
			return fmt.Errorf("rate-limit check, request %d: %s", i+1, r)
		}
		okBefore429++
	}
	if okBefore429 != scaleRateBudget {
		return fmt.Errorf("rate limit not shared: %d requests over 3 replicas passed before a 429, budget %d", okBefore429, scaleRateBudget)
	}
	c.logf("rate limit shared: 429 after %d requests spread over 3 replicas (budget %d per key)", okBefore429, scaleRateBudget)

	// Webhooks of both firms go to a local receiver.
	recv, err := startReceiver()
	if err != nil {
		return err
	}
	defer recv.close()
	for _, f := range []*firm{acme, bay} {
		r := call(ctx, "POST", lb+"/api/public/v1/webhooks", f.key, map[string]any{"url": recv.url}, "")
		if !r.ok() {
			return fmt.Errorf("create webhook of %s: %s", f.slug, r)
		}
	}

	// Which replicas a client may talk to directly: the killed one is left out from just
	// before the kill until its restart answers.
	var upMu sync.Mutex
	up := map[string]bool{"r1": true, "r2": true, "r3": true}
	pickLive := func(avoid string) *replica {
		upMu.Lock()
		defer upMu.Unlock()
		var live []*replica
		for _, r := range replicas {
			if up[r.name] && r.name != avoid {
				live = append(live, r)
			}
		}
		return live[rand.IntN(len(live))]
	}
	w := &workload{firms: [2]*firm{acme, bay}, docs: true, logf: c.logf}
	w.target = func(step, avoid string) (string, string) {
		if step == "lifecycle" && rand.IntN(5) > 0 {
			return lb, "lb"
		}
		r := pickLive(avoid)
		return r.url, r.name
	}

	loadCtx, stopLoad := context.WithTimeout(ctx, duration)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() { w.run(loadCtx, scaleWorkers); close(loadDone) }()

	// The import job starts shortly before the kill, so that it may be running when a replica dies.
	type importResult struct {
		job string
		err error
	}
	importDone := make(chan importResult, 1)
	runID := randomHex(4)
	go func() {
		time.Sleep(duration / 5)
		job, err := startImport(ctx, lb, acme.key, runID, scaleImportRows)
		importDone <- importResult{job, err}
	}()

	victim := replicas[1]
	time.Sleep(duration / 4)
	upMu.Lock()
	up[victim.name] = false
	upMu.Unlock()
	killAt := time.Now()
	victim.p.kill()
	c.logf("killed %s (SIGKILL) at +%s", victim.name, killAt.Sub(began).Round(time.Millisecond))
	downAt, err := waitServerState(ctx, stats, victim.name, "DOWN", 30*time.Second)
	if err != nil {
		return err
	}
	detect := downAt.Sub(killAt)
	c.logf("HAProxy marked %s down after %s", victim.name, detect.Round(time.Millisecond))
	time.Sleep(duration / 4)
	if err := s.startReplica(ctx, victim); err != nil {
		return fmt.Errorf("restart %s: %w", victim.name, err)
	}
	upMu.Lock()
	up[victim.name] = true
	upMu.Unlock()
	upAt, err := waitServerState(ctx, stats, victim.name, "UP", 30*time.Second)
	if err != nil {
		return err
	}
	c.logf("%s restarted; HAProxy sends it traffic again %s after the kill", victim.name, upAt.Sub(killAt).Round(time.Millisecond))
	<-loadDone

	var problems []string
	imp := <-importDone
	if imp.err != nil {
		problems = append(problems, "import: "+imp.err.Error())
	} else if err := waitImport(ctx, lb, acme.key, imp.job, 3*time.Minute); err != nil {
		problems = append(problems, "import job: "+err.Error())
	}

	// Acknowledged writes, read back through the load balancer.
	checked, lost := w.verify(ctx, lb)
	problems = append(problems, lost...)
	for _, id := range w.badBytes {
		problems = append(problems, "document "+id+": downloaded bytes differ from the upload")
	}

	// Failures: only requests in flight at the kill, or through HAProxy before it marked the
	// replica down, are excused.
	var inWindow int
	unexcused := w.failures(func(sm sample) bool {
		excused := (sm.via == "lb" && sm.end.After(killAt) && sm.start.Before(downAt)) ||
			(sm.via == victim.name && sm.end.After(killAt) && sm.start.Before(killAt))
		if excused {
			inWindow++
		}
		return !excused
	})
	for _, sm := range unexcused {
		problems = append(problems, fmt.Sprintf("%s request at +%s failed outside the detection window: %s",
			sm.via, sm.start.Sub(began).Round(time.Millisecond), sm.what))
	}

	// Exactly once: webhook deliveries per event and recipient, and the imported rows.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	hooks, redelivered, hookProblems := checkWebhooks(ctx, conn, recv, killAt, downAt, time.Minute)
	problems = append(problems, hookProblems...)
	rows, rowProblems := checkImportRows(ctx, conn, runID, scaleImportRows)
	problems = append(problems, rowProblems...)

	if len(problems) > 0 {
		for _, p := range problems[:min(len(problems), 30)] {
			c.logf("problem: %s", p)
		}
		return fmt.Errorf("%d problems (first: %s)", len(problems), problems[0])
	}
	c.summary("scale-out: %d replicas, %d requests, %d acknowledged writes, 0 lost (%d read back), %d errors within the %s detection window, 0 after; %d cross-replica signed-link downloads; %d webhook deliveries, each (event, firm) under one delivery id (%d jobs of the killed replica put back by the orphan rescuer, %d deliveries answered before the kill sent again after it); import %d rows exactly once; rate limit 429 after %d requests over 3 replicas (budget %d); total %s",
		scaleReplicas, w.requests(), w.writes(), checked, inWindow, detect.Round(time.Millisecond), w.crossLink,
		hooks, rescued(c.workDir), redelivered, rows, okBefore429, scaleRateBudget, time.Since(began).Round(time.Second))
	return nil
}

// rescued sums the jobs that the replicas' orphan rescuers put back (internal/jobs logs each
// release with its count).
func rescued(workDir string) int {
	n := 0
	logs, _ := filepath.Glob(filepath.Join(workDir, "r*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "made available again") {
				continue
			}
			var rec struct{ Jobs int }
			if json.Unmarshal([]byte(line), &rec) == nil {
				n += rec.Jobs
			}
		}
	}
	return n
}

// startHAProxy writes the configuration (round robin, health checks on the health endpoint every
// 500 ms, down after 2 failures, up after 2 successes, redispatch of refused connections) and runs it.
func (c *common) startHAProxy(ctx context.Context, port, statsPort int, replicas []*replica) (*proc, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch 1
frontend api
  bind 127.0.0.1:%d
  default_backend casexchange
backend casexchange
  balance roundrobin
  option httpchk GET %s
  http-check expect status 200
  default-server inter %dms fall 2 rise 2
`, port, healthPath, hcInterval.Milliseconds())
	for _, r := range replicas {
		fmt.Fprintf(&b, "  server %s %s check\n", r.name, r.addr)
	}
	fmt.Fprintf(&b, "listen stats\n  bind 127.0.0.1:%d\n  stats enable\n  stats uri /stats\n", statsPort)
	cfg := filepath.Join(c.workDir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	if _, err := runOut(ctx, nil, c.haproxy, "-c", "-q", "-f", cfg); err != nil {
		return nil, err
	}
	return c.start("haproxy", nil, c.haproxy, "-db", "-f", cfg)
}

// waitServerState polls HAProxy's statistics until server name has state ("UP" or "DOWN") and
// returns when it was first seen.
func waitServerState(ctx context.Context, statsURL, name, state string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if st, err := serverState(statsURL, name); err == nil {
			last = st
			if strings.HasPrefix(st, state) {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("HAProxy did not report %s %s within %s (last %q)", name, state, timeout, last)
}

func serverState(statsURL, name string) (string, error) {
	resp, err := client.Get(statsURL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	rd := csv.NewReader(resp.Body)
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil || len(recs) == 0 {
		return "", fmt.Errorf("stats: %v", err)
	}
	col := -1
	for i, h := range recs[0] {
		if strings.TrimPrefix(h, "# ") == "status" {
			col = i
		}
	}
	for _, r := range recs[1:] {
		if len(r) > col && col >= 0 && r[0] == "casexchange" && r[1] == name {
			return r[col], nil
		}
	}
	return "", errors.New("stats: server not listed")
}

// startImport uploads a CSV of n rows with external ids hadrill-RUN-i as a background import job.
func startImport(ctx context.Context, base, key, runID string, n int) (string, error) {
	var csvBody strings.Builder
	csvBody.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,cmsId\n")
	for i := range n {
		fmt.Fprintf(&csvBody, "Imported drill case %d,Personal Injury,CA,Iris,Import%d,hadrill-%s-%d\n", i, i, runID, i)
	}
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "drill.csv")
	_, _ = io.WriteString(fw, csvBody.String())
	_ = mw.Close()
	r := call(ctx, "POST", base+"/api/public/v1/import/cases?async=true", key, []byte(buf.String()), mw.FormDataContentType())
	if r.status != http.StatusAccepted {
		return "", fmt.Errorf("start import: %s", r)
	}
	id := field(r.body, "data.id")
	if id == "" {
		id = field(r.body, "data.jobId")
	}
	return id, nil
}

// waitImport polls the import job until it succeeds.
func waitImport(ctx context.Context, base, key, job string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		r := call(ctx, "GET", base+"/api/public/v1/import/jobs/"+job, key, nil, "")
		if r.ok() {
			last = field(r.body, "data.status")
			switch last {
			case "succeeded":
				var out struct {
					Data struct {
						Created, Failed int
						Errors          []any
					}
				}
				_ = json.Unmarshal(r.body, &out)
				if out.Data.Created == 0 || out.Data.Failed > 0 {
					return fmt.Errorf("job %s: %d rows failed: %s", job, out.Data.Failed, r)
				}
				return nil
			case "failed":
				return fmt.Errorf("job %s failed: %s", job, r)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("job %s not finished within %s (status %q)", job, timeout, last)
}

// checkImportRows counts the cases of the import by external id (the importer keeps a cmsId
// column in cms_id or salesforce_id, one value space): each exactly once.
func checkImportRows(ctx context.Context, conn *pgx.Conn, runID string, n int) (int, []string) {
	var distinct, total int
	err := conn.QueryRow(ctx, `SELECT count(DISTINCT coalesce(cms_id, salesforce_id)), count(*) FROM base_cases WHERE coalesce(cms_id, salesforce_id) LIKE $1`,
		"hadrill-"+runID+"-%").Scan(&distinct, &total)
	if err != nil {
		return 0, []string{"count imported rows: " + err.Error()}
	}
	if distinct != n || total != n {
		var sample string
		_ = conn.QueryRow(ctx, `SELECT count(*)::text || ' titled like imports; e.g. ' || coalesce(min(coalesce(cms_id, '-') || '/' || coalesce(salesforce_id, '-')), '')
			FROM base_cases WHERE title LIKE 'Imported drill case %'`).Scan(&sample)
		return distinct, []string{fmt.Sprintf("import: %d rows sent, %d distinct external ids written, %d cases (%s)", n, distinct, total, sample)}
	}
	return total, nil
}

// receiver is the local webhook endpoint: it counts deliveries by delivery id and by event and
// recipient firm.
type receiver struct {
	url string
	srv *http.Server
	mu  sync.Mutex
	// byDelivery and byEvent count 2xx answers we gave.
	byDelivery map[string]int
	byEvent    map[string]int // event id + "/" + recipient firm id
	// received holds when each delivery id was answered, in order; deliveryEvents the
	// delivery ids seen for each (event, firm).
	received       map[string][]time.Time
	deliveryEvents map[string]map[string]bool
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rv := &receiver{url: "http://" + ln.Addr().String() + "/hooks", byDelivery: map[string]int{}, byEvent: map[string]int{},
		received: map[string][]time.Time{}, deliveryEvents: map[string]map[string]bool{}}
	rv.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct {
			RecipientFirmID string `json:"recipientFirmId"`
		}
		_ = json.Unmarshal(body, &env)
		rv.mu.Lock()
		delivery, event := r.Header.Get("X-CaseXchange-Delivery"), r.Header.Get("X-CaseXchange-Event-Id")+"/"+env.RecipientFirmID
		rv.byDelivery[delivery]++
		rv.byEvent[event]++
		rv.received[delivery] = append(rv.received[delivery], time.Now())
		if rv.deliveryEvents[event] == nil {
			rv.deliveryEvents[event] = map[string]bool{}
		}
		rv.deliveryEvents[event][delivery] = true
		rv.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = rv.srv.Serve(ln) }()
	return rv, nil
}

func (rv *receiver) close() { _ = rv.srv.Close() }

// checkWebhooks waits until every delivery of the drill's subscriptions has been delivered,
// then compares them with what the receiver got. Each (event, firm) must have exactly one
// delivery id, so a receiver that deduplicates by id applies each event exactly once. Delivery
// is at least once: a delivery answered before the fault ended whose DELIVERED mark died with
// the process or the primary is sent again after the fault began. For a kill both ends are the
// kill: the killed process answered before it. For the primary's stop the fault runs until the
// server's writes work again: a delivery claimed before the stop may be sent during the
// outage, and its mark fails to be written then. Such a repeat is counted and reported; any
// other repeat of a delivery is a problem. A zero timeout checks once without waiting.
func checkWebhooks(ctx context.Context, conn *pgx.Conn, rv *receiver, faultFrom, faultTo time.Time, timeout time.Duration) (int, int, []string) {
	deadline := time.Now().Add(timeout)
	var pending, delivered int
	for {
		err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status <> 'DELIVERED'), count(*) FILTER (WHERE status = 'DELIVERED')
			FROM webhook_deliveries WHERE NOT is_test`).Scan(&pending, &delivered)
		if err != nil {
			return 0, 0, []string{"webhook deliveries: " + err.Error()}
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var problems []string
	if pending > 0 {
		rows, _ := conn.Query(ctx, `SELECT id::text, status, attempts, coalesce(last_error, '') FROM webhook_deliveries WHERE status <> 'DELIVERED' LIMIT 5`)
		for rows.Next() {
			var id, st, le string
			var att int
			_ = rows.Scan(&id, &st, &att, &le)
			problems = append(problems, fmt.Sprintf("webhook delivery %s still %s after %s (attempts %d, %s)", id, st, timeout, att, le))
		}
		rows.Close()
		rows, _ = conn.Query(ctx, `SELECT id, state::text, attempt, coalesce(array_to_string(attempted_by, ','), ''), coalesce(attempted_at::text, ''), args::text
			FROM river_job WHERE kind = 'webhook_delivery' AND state NOT IN ('completed', 'discarded', 'cancelled') LIMIT 5`)
		for rows.Next() {
			var id int64
			var st, by, at, args string
			var att int
			_ = rows.Scan(&id, &st, &att, &by, &at, &args)
			problems = append(problems, fmt.Sprintf("river job %d %s attempt %d by %s at %s: %s", id, st, att, by, at, args))
		}
		rows.Close()
		problems = append(problems, fmt.Sprintf("webhooks: %d deliveries not delivered within %s", pending, timeout))
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	redelivered, unexplained, twoIDs := 0, 0, 0
	example := "" // the receipts of the first unexplained repeat, relative to the fault
	for _, times := range rv.received {
		if len(times) < 2 {
			continue
		}
		// The first answer must precede the fault's end and the repeat follow its start: the
		// repeat is the redelivery of a delivery whose mark was lost in it. One repeat only.
		if times[0].Before(faultTo) && !times[1].Before(faultFrom) && len(times) == 2 {
			redelivered++
		} else {
			unexplained++
			if example == "" {
				for _, t := range times {
					example += fmt.Sprintf(" %+.3fs", t.Sub(faultFrom).Seconds())
				}
			}
		}
	}
	for _, ids := range rv.deliveryEvents {
		if len(ids) > 1 {
			twoIDs++
		}
	}
	if unexplained > 0 {
		problems = append(problems, fmt.Sprintf("webhooks: %d deliveries received more than once without a fault between the receipts (first at%s from the fault)", unexplained, example))
	}
	if twoIDs > 0 {
		problems = append(problems, fmt.Sprintf("webhooks: %d (event, firm) pairs received under more than one delivery id", twoIDs))
	}
	if len(rv.byDelivery) != delivered {
		problems = append(problems, fmt.Sprintf("webhooks: %d deliveries marked delivered, the receiver saw %d", delivered, len(rv.byDelivery)))
	}
	if delivered == 0 {
		problems = append(problems, "webhooks: no delivery at all")
	}
	return delivered, redelivered, problems
}
