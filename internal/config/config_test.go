package config_test

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/storage"
)

var update = flag.Bool("update", false, "rewrite the generated table of docs/configuration.md")

type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func load(t *testing.T, e env) config.Config {
	t.Helper()
	c, err := config.LoadFrom(e.lookup)
	require.NoError(t, err)
	return c
}

const secret = "config-test-secret-0123456789abcdef012345"

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsAreTheDocumentedOnes", func(t *testing.T) {
		t.Parallel()
		c := load(t, env{})
		require.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
		require.Equal(t, "http://127.0.0.1:8080", c.PublicBaseURL)
		require.True(t, filepath.IsAbs(c.DataDir))
		require.Equal(t, ".data", filepath.Base(c.DataDir))
		require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
		require.Equal(t, 168*time.Hour, c.RefreshTokenTTL)
		require.Equal(t, time.Minute, c.RateWindow)
		require.Equal(t, 20*time.Second, c.ShutdownTimeout)
		require.Zero(t, c.DrainDelay)
		require.Equal(t, []int{300, 600, 1200, 2400, 600, 3000, 25}, []int{c.RateReadOnly, c.RateStandard, c.RateFull, c.RateFirm, c.RateSession, c.RateIP, c.MaxActiveKeys})
		require.Equal(t, config.DefaultRateSession, c.RateSession)
		require.Equal(t, config.DefaultRateIP, c.RateIP)
		require.Equal(t, []time.Duration{30 * time.Second, 10 * time.Minute, time.Minute, 30 * time.Second},
			[]time.Duration{c.BodyReadTimeout, c.UploadReadTimeout, c.WriteTimeout, c.StreamWriteTimeout})
		require.Equal(t, "memory", c.RateStore)
		require.Equal(t, config.DefaultGCPercent, c.GCPercent, "serve's GC target without GOGC")
		require.Zero(t, load(t, env{"GOGC": "50"}).GCPercent, "GOGC set: the runtime's own reading stands")
		require.Equal(t, "INFO", c.LogLevel.String())
		require.False(t, c.SecureCookies)
		require.Empty(t, c.MetricsAddr, "metrics are off by default")
		require.Empty(t, c.TrustedProxies)
		require.Equal(t, config.HeaderXForwardedFor, c.ClientIPHeader)
		require.False(t, c.WebhooksAllowPrivate)
		require.Nil(t, c.JWTSecret)
		require.Equal(t, notify.Config{From: notify.DefaultFrom, MailDir: filepath.Join(c.DataDir, "mail")}, c.Mail)
		require.Equal(t, storage.Config{Backend: storage.BackendLocal, LocalDir: filepath.Join(c.DataDir, "objects")}, c.Storage)
	})

	t.Run("DemoDataOnlyForThePrivateCluster", func(t *testing.T) {
		t.Parallel()
		require.True(t, load(t, env{}).Seed, "the private cluster gets the demo data")
		require.False(t, load(t, env{"CX_SEED": "false"}).Seed)
		require.False(t, load(t, env{"DATABASE_URL": "postgres://db/x"}).Seed, "a database someone else runs gets none by default")
		require.True(t, load(t, env{"DATABASE_URL": "postgres://db/x", "CX_SEED": "true"}).Seed, "unless asked explicitly")
	})

	t.Run("EveryValueIsRead", func(t *testing.T) {
		t.Parallel()
		c := load(t, env{
			"CX_HTTP_ADDR": "0.0.0.0:9000", "CX_PUBLIC_BASE_URL": "https://cx.example.com/", "CX_RATE_LIMIT_FULL": "50",
			"CX_DRAIN_DELAY": "5s", "CX_METRICS_ADDR": "127.0.0.1:9090", "CX_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5,2001:db8::/32",
			"CX_CLIENT_IP_HEADER": "forwarded", "CX_JWT_SECRET": secret, "CX_DOWNLOAD_LINK_SECRET": secret + "x",
			"CX_SMTP_ADDR": "smtp.example.com:587", "CX_SMTP_USERNAME": "apikey", "CX_SMTP_PASSWORD": "pw",
			"CX_SMTP_STARTTLS": "true", "CX_SMTP_FROM": "Alerts <alerts@example.com>", "CX_WEBHOOKS_ALLOW_PRIVATE": "true",
			"CX_S3_BUCKET": "docs", "CX_S3_ACCESS_KEY": "ak", "CX_S3_SECRET_KEY": "sk", "CX_S3_ENDPOINT": "http://minio:9000",
			"CX_S3_REGION": "eu-west-1", "CX_S3_USE_PATH_STYLE": "yes", "CX_S3_INSECURE": "1", "CX_DATA_DIR": "/srv/cx",
		})
		require.Equal(t, "https://cx.example.com", c.PublicBaseURL)
		require.Equal(t, 50, c.RateFull)
		require.Equal(t, 100, c.RateFirm, "the firm budget follows the full tier's")
		require.Equal(t, 5*time.Second, c.DrainDelay)
		require.Equal(t, "127.0.0.1:9090", c.MetricsAddr)
		require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.5/32"), netip.MustParsePrefix("2001:db8::/32")}, c.TrustedProxies)
		require.Equal(t, config.HeaderForwarded, c.ClientIPHeader)
		require.Equal(t, []byte(secret), c.JWTSecret)
		require.True(t, c.WebhooksAllowPrivate)
		require.Equal(t, notify.Config{SMTPAddr: "smtp.example.com:587", Username: "apikey", Password: "pw",
			StartTLS: true, From: "Alerts <alerts@example.com>", MailDir: "/srv/cx/mail"}, c.Mail)
		require.Equal(t, storage.Config{Backend: storage.BackendS3, LocalDir: "/srv/cx/objects", LinkSecret: []byte(secret + "x"),
			S3: storage.S3Config{Endpoint: "http://minio:9000", Bucket: "docs", AccessKey: "ak", SecretKey: "sk", Region: "eu-west-1",
				PathStyle: true, Insecure: true}}, c.Storage, "a bucket chooses s3")
		require.Empty(t, c.MissingSecrets())
	})

	t.Run("BadValuesAreAllReportedByName", func(t *testing.T) {
		t.Parallel()
		_, err := config.LoadFrom(env{
			"CX_RATE_LIMIT_FULL": "0", "CX_ACCESS_TOKEN_TTL": "soon", "CX_SEED": "maybe", "CX_LOG_LEVEL": "loud",
			"CX_RATE_LIMIT_STORE": "redis", "CX_TRUSTED_PROXIES": "10.0.0.0/8,the-lb", "CX_CLIENT_IP_HEADER": "X-Real-IP",
			"CX_JWT_SECRET": "short", "CX_DOWNLOAD_LINK_SECRET": "short", "CX_STORAGE": "ftp", "CX_SMTP_FROM": "not an address",
			"CX_SMTP_STARTTLS": "perhaps",
		}.lookup)
		require.Error(t, err)
		for _, name := range []string{"CX_RATE_LIMIT_FULL", "CX_ACCESS_TOKEN_TTL", "CX_SEED", "CX_LOG_LEVEL", "CX_RATE_LIMIT_STORE",
			"CX_TRUSTED_PROXIES", "CX_CLIENT_IP_HEADER", "CX_JWT_SECRET", "CX_DOWNLOAD_LINK_SECRET", "CX_STORAGE", "CX_SMTP_FROM",
			"CX_SMTP_STARTTLS"} {
			require.Contains(t, err.Error(), name+":")
		}
	})

	t.Run("SMTPAndS3Rules", func(t *testing.T) {
		t.Parallel()
		_, err := config.LoadFrom(env{"CX_SMTP_ADDR": "no-port"}.lookup)
		require.ErrorContains(t, err, "CX_SMTP_ADDR")
		_, err = config.LoadFrom(env{"CX_SMTP_ADDR": "smtp.example.com:587", "CX_SMTP_USERNAME": "u"}.lookup)
		require.ErrorContains(t, err, "CX_SMTP_STARTTLS", "a password is never sent in clear text to a remote server")
		load(t, env{"CX_SMTP_ADDR": "127.0.0.1:25", "CX_SMTP_USERNAME": "u"}) // a local relay may
		_, err = config.LoadFrom(env{"CX_STORAGE": "s3", "CX_S3_BUCKET": "b"}.lookup)
		require.ErrorContains(t, err, "CX_S3_ACCESS_KEY and CX_S3_SECRET_KEY")
		_, err = config.LoadFrom(env{"CX_STORAGE": "s3", "CX_S3_ACCESS_KEY": "a", "CX_S3_SECRET_KEY": "s"}.lookup)
		require.ErrorContains(t, err, "CX_S3_BUCKET")
		require.Equal(t, storage.BackendLocal, load(t, env{"CX_STORAGE": "local", "CX_S3_BUCKET": "b"}).Storage.Backend, "an explicit local wins")
	})

	t.Run("LoadWritesNothing", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		load(t, env{"CX_DATA_DIR": dir})
		_, err := os.Stat(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestResolveSecrets(t *testing.T) {
	t.Parallel()

	t.Run("PrivateClusterKeepsGeneratedSecretsInTheDataDir", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		c := load(t, env{"CX_DATA_DIR": dir})
		require.Equal(t, []string{"CX_JWT_SECRET", "CX_DOWNLOAD_LINK_SECRET"}, c.MissingSecrets())
		require.NoError(t, c.ResolveSecrets(true))
		require.GreaterOrEqual(t, len(c.JWTSecret), config.MinSecretLength)
		require.GreaterOrEqual(t, len(c.Storage.LinkSecret), config.MinSecretLength)
		require.NotEqual(t, c.JWTSecret, c.Storage.LinkSecret)
		again := load(t, env{"CX_DATA_DIR": dir})
		require.NoError(t, again.ResolveSecrets(true))
		require.Equal(t, c.JWTSecret, again.JWTSecret, "the secret survives a restart")
		require.Equal(t, c.Storage.LinkSecret, again.Storage.LinkSecret)
		for _, f := range []string{"jwt-secret", "download-secret"} {
			fi, err := os.Stat(filepath.Join(dir, f))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		}
	})

	t.Run("ADatabaseURLNeedsConfiguredSecretsToServe", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		c := load(t, env{"DATABASE_URL": "postgres://db/x", "CX_DATA_DIR": dir})
		err := c.ResolveSecrets(true)
		require.EqualError(t, err, "DATABASE_URL is set, so the secrets must be configured: set CX_JWT_SECRET and CX_DOWNLOAD_LINK_SECRET (at least 32 characters each, the same on every replica)")
		c = load(t, env{"DATABASE_URL": "postgres://db/x", "CX_DATA_DIR": dir, "CX_JWT_SECRET": secret})
		require.ErrorContains(t, c.ResolveSecrets(true), "set CX_DOWNLOAD_LINK_SECRET (")
		c = load(t, env{"DATABASE_URL": "postgres://db/x", "CX_DATA_DIR": dir, "CX_JWT_SECRET": secret,
			"CX_S3_BUCKET": "b", "CX_S3_ACCESS_KEY": "a", "CX_S3_SECRET_KEY": "s"})
		require.NoError(t, c.ResolveSecrets(true), "S3 links need no link secret")

		// The operator tools sign nothing: random secrets in memory, no file.
		c = load(t, env{"DATABASE_URL": "postgres://db/x", "CX_DATA_DIR": dir})
		require.NoError(t, c.ResolveSecrets(false))
		require.GreaterOrEqual(t, len(c.JWTSecret), config.MinSecretLength)
		_, err = os.Stat(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

// TestSettingsDocument checks that docs/configuration.md holds the table generated from
// Settings, and that Settings documents exactly the variables LoadFrom reads.
func TestSettingsDocument(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	_, _ = config.LoadFrom(func(k string) (string, bool) { read[k] = true; return "", false })
	documented := map[string]bool{}
	for _, s := range config.Settings {
		require.False(t, documented[s.Name], "%s listed twice", s.Name)
		documented[s.Name] = true
		require.NotEmpty(t, s.Meaning, s.Name)
	}
	require.Equal(t, documented, read, "config.Settings and the variables LoadFrom reads differ")

	const path = "../../docs/configuration.md"
	const begin, end = "<!-- settings:begin (generated from internal/config/settings.go) -->\n", "<!-- settings:end -->"
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	re := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(begin) + `.*?` + regexp.QuoteMeta(end))
	require.Regexp(t, re, string(doc), "docs/configuration.md lacks the generated section")
	want := re.ReplaceAllLiteralString(string(doc), begin+config.SettingsTable()+end)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, string(doc), "docs/configuration.md is stale: go test ./internal/config -run TestSettingsDocument -update")
	for name := range read {
		require.True(t, strings.Contains(string(doc), "`"+name+"`"), name)
	}
}
