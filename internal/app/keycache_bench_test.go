package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

// BenchmarkKeyAuth measures authenticated Public API requests at concurrency 16 with the API
// key cache (listener running) and without it (no listener: every request looks the key up):
// AuthenticateKey alone, and GET /api/public/v1/firms/me over HTTP (auth plus one firm query).
//
//	go run ./cmd/devdb -ephemeral -- go test ./internal/app -run '^$' -bench BenchmarkKeyAuth -benchtime 3s
func BenchmarkKeyAuth(b *testing.B) {
	for _, cached := range []bool{true, false} {
		name := "nocache"
		if cached {
			name = "cache"
		}
		pool, _ := pgtest.NewDB(b)
		a := newApp(b, testConfig(b), pool)
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		if cached {
			go a.Auth.RunKeyListener(ctx)
			require.Eventually(b, func() bool { return a.Auth.KeyCacheStats().Live }, 10*time.Second, 5*time.Millisecond)
		}
		srv := httptest.NewServer(a.Echo)
		b.Cleanup(srv.Close)
		f := newFirm(b, a)
		key := newKey(b, a, f.FirmID, auth.TierFull)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		par := max(1, 16/runtime.GOMAXPROCS(0))

		b.Run(name+"/AuthenticateKey", func(b *testing.B) {
			before := a.Auth.KeyCacheStats().Lookups
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := a.Auth.AuthenticateKey(ctx, key); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(a.Auth.KeyCacheStats().Lookups-before)/float64(b.N), "lookups/req")
		})
		b.Run(name+"/GET_firms_me", func(b *testing.B) {
			before := a.Auth.KeyCacheStats().Lookups
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", srv.URL+"/api/public/v1/firms/me", nil)
					req.Header.Set("X-API-Key", key)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(a.Auth.KeyCacheStats().Lookups-before)/float64(b.N), "lookups/req")
		})
		cancel()
		a.Close()
	}
}
