package httpapi_test

// Concurrency: the same write sent by many clients at once must take effect
// exactly once. Each race first sends its request once, alone, on a fresh subject, to measure
// what one request writes; then it sends the same request from many goroutines at once on
// another fresh subject. Test-only triggers record every effective write (a status that
// changed, a row inserted, a revocation time set) in race_effects, so a second effect that
// leaves the same end state (a transition applied twice, a key revoked twice) is still counted.

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
)

// rcTriggers record effective writes, keyed by the column that names the race's subject.
const rcTriggers = `
CREATE TABLE race_effects (tbl text NOT NULL, op text NOT NULL, subject text NOT NULL);
CREATE FUNCTION race_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO race_effects VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(NEW) ->> TG_ARGV[0]);
	RETURN NULL;
END $$;
CREATE TRIGGER race_referral_status AFTER UPDATE ON referrals FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION race_effect('base_case_id');
CREATE TRIGGER race_referral_insert AFTER INSERT ON referrals FOR EACH ROW EXECUTE FUNCTION race_effect('base_case_id');
CREATE TRIGGER race_history_insert AFTER INSERT ON status_updates FOR EACH ROW EXECUTE FUNCTION race_effect('base_case_id');
CREATE TRIGGER race_network_insert AFTER INSERT ON network_relationships FOR EACH ROW EXECUTE FUNCTION race_effect('to_firm_id');
CREATE TRIGGER race_key_revoke AFTER UPDATE ON api_keys FOR EACH ROW
	WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION race_effect('id');
`

// rcRace is one write raced by many clients.
type rcRace struct {
	name string
	// subject prepares a fresh subject and returns its key in race_effects and the request.
	subject func(t *testing.T) (key string, send func() *apitest.Response)
	// answers checks the answers of a race and returns how many requests took effect.
	answers func(t *testing.T, codes map[int]int, errs map[string]int)
}

func TestRaces(t *testing.T) {
	t.Parallel()
	const n = 20
	ctx := context.Background()
	f := newParties(t)
	h := f.h
	_, err := h.Pool.Exec(ctx, rcTriggers)
	require.NoError(t, err)
	admin, _ := h.Login(f.owner.Admin)

	effects := func(t *testing.T, subject string) map[string]int {
		t.Helper()
		rows, err := h.Pool.Query(ctx, `SELECT tbl || ' ' || op, count(*) FROM race_effects WHERE subject = $1 GROUP BY 1`, subject)
		require.NoError(t, err)
		out := map[string]int{}
		for rows.Next() {
			var k string
			var c int
			require.NoError(t, rows.Scan(&k, &c))
			out[k] = c
		}
		require.NoError(t, rows.Err())
		return out
	}
	oneWinner := func(winner int, losers ...string) func(t *testing.T, codes map[int]int, errs map[string]int) {
		return func(t *testing.T, codes map[int]int, errs map[string]int) {
			require.Equal(t, 1, codes[winner], "exactly one request wins: %v %v", codes, errs)
			lost := 0
			for _, code := range losers {
				lost += errs[code]
			}
			require.Equal(t, n-1, lost, "the others lose with %v: %v %v", losers, codes, errs)
		}
	}

	races := []rcRace{
		{
			name: "acknowledge",
			subject: func(t *testing.T) (string, func() *apitest.Response) {
				id := newCase(t, h, f.ownerStd, &f.recv.ID, nil)
				p := apitest.Path("/api/public/v1/received-referrals", id.String(), "acknowledge")
				return id.String(), func() *apitest.Response { return h.Do("POST", p, apitest.APIKey(f.recvStd)) }
			},
			answers: oneWinner(http.StatusOK, "invalid_state_transition", "conflict"),
		},
		{
			name: "refer",
			subject: func(t *testing.T) (string, func() *apitest.Response) {
				id := newCase(t, h, f.ownerStd, nil, nil)
				p := apitest.Path("/api/public/v1/sent-cases", id.String(), "refer")
				body := apitest.JSON(map[string]any{"referentFirmId": f.recv.ID, "notes": "Raced"})
				return id.String(), func() *apitest.Response { return h.Do("POST", p, apitest.APIKey(f.ownerStd), body) }
			},
			answers: oneWinner(http.StatusOK, "conflict", "invalid_state_transition"),
		},
		{
			name: "network PUT",
			subject: func(t *testing.T) (string, func() *apitest.Response) {
				to := h.NewFirm(apitest.FirmOpts{})
				p := apitest.Path("/api/public/v1/network/outbound", to.ID.String())
				body := apitest.JSON(map[string]any{"description": "Raced", "sendingPercentage": 25})
				return to.ID.String(), func() *apitest.Response { return h.Do("PUT", p, apitest.APIKey(f.ownerStd), body) }
			},
			answers: func(t *testing.T, codes map[int]int, errs map[string]int) {
				require.Equal(t, 1, codes[http.StatusCreated], "exactly one request creates: %v %v", codes, errs)
				require.Equal(t, n-1, codes[http.StatusOK], "the others replace it: %v %v", codes, errs)
			},
		},
		{
			name: "key revocation",
			subject: func(t *testing.T) (string, func() *apitest.Response) {
				r := h.Do("POST", "/api/v1/public-api-keys", apitest.Bearer(admin), apitest.JSON(map[string]string{"name": "Raced " + uuid.NewString()[:8], "tier": "FULL"}))
				require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
				id := mxGet(t, r.Body, "data.id")
				p := apitest.Path("/api/v1/public-api-keys", id)
				return id, func() *apitest.Response { return h.Do("DELETE", p, apitest.Bearer(admin)) }
			},
			answers: func(t *testing.T, codes map[int]int, errs map[string]int) {
				require.Equal(t, n, codes[http.StatusNoContent], "revoking is idempotent: %v %v", codes, errs)
			},
		},
	}

	duplicates, checked := 0, 0
	for _, rc := range races {
		t.Run(rc.name, func(t *testing.T) {
			key, send := rc.subject(t)
			before := effects(t, key)
			r := send()
			require.Less(t, r.StatusCode, 300, string(r.Body))
			alone := rcSub(effects(t, key), before)
			require.NotEmpty(t, alone, "one request alone takes effect")

			key, send = rc.subject(t)
			before = effects(t, key)
			responses := make([]*apitest.Response, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					responses[i] = send()
				}()
			}
			close(start)
			wg.Wait()

			codes, errs := map[int]int{}, map[string]int{}
			for _, r := range responses {
				codes[r.StatusCode]++
				require.Less(t, r.StatusCode, 500, string(r.Body))
				if r.StatusCode >= 400 {
					errs[r.ErrorCode()]++
				}
			}
			rc.answers(t, codes, errs)
			raced := rcSub(effects(t, key), before)
			for k, v := range raced {
				if v > alone[k] {
					duplicates += v - alone[k]
				}
			}
			require.Equal(t, alone, raced, "%d requests at once wrote what one request writes", n)
			checked++
			t.Logf("%d requests: answers %v %v; effects %v", n, codes, errs, raced)
		})
	}
	if !t.Failed() && checked == len(races) {
		testsummary.Printf("concurrency: %d races x %d requests (%s), exactly one effect each, %d duplicate rows",
			len(races), n, rcNames(races), duplicates)
	}
}

func rcNames(races []rcRace) string {
	names := make([]string, len(races))
	for i, r := range races {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// rcSub returns the effects in after that are not in before.
func rcSub(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
