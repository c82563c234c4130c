package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/casexchange/server/internal/storage"
)

const healthPath = "/api/public/v1/health"

// objectStore is a running MinIO server with one bucket.
type objectStore struct {
	endpoint, access, secret, bucket string
}

// startMinIO runs MinIO on a free port with its data under the work dir and creates the bucket.
func (c *common) startMinIO(ctx context.Context) (*objectStore, error) {
	if _, err := os.Stat(c.minio); err != nil {
		return nil, fmt.Errorf("MinIO binary %s: %w (make ha-tools builds it)", c.minio, err)
	}
	port, console := freePort(), freePort()
	s := &objectStore{endpoint: fmt.Sprintf("127.0.0.1:%d", port), access: "hadrill", secret: randomHex(16), bucket: "casexchange"}
	p, err := c.start("minio", []string{"MINIO_ROOT_USER=" + s.access, "MINIO_ROOT_PASSWORD=" + s.secret, "MINIO_BROWSER=off"},
		c.minio, "server", filepath.Join(c.workDir, "minio-data"), "--quiet",
		"--address", s.endpoint, "--console-address", fmt.Sprintf("127.0.0.1:%d", console))
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+s.endpoint+"/minio/health/live", p, time.Minute); err != nil {
		return nil, err
	}
	st, err := storage.NewS3(storage.S3Config{Endpoint: s.endpoint, Bucket: s.bucket, AccessKey: s.access, SecretKey: s.secret, PathStyle: true, Insecure: true})
	if err != nil {
		return nil, err
	}
	if err := st.Client().MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	return s, nil
}

// site is what the replicas of one deployment share: database, object store and secrets.
type site struct {
	c          *common
	dsn        string
	store      *objectStore
	jwtSecret  string
	linkSecret string
	publicURL  string   // CX_PUBLIC_BASE_URL (the load balancer's address when there is one)
	extraEnv   []string // drill-specific settings (rate limits)
}

func newSite(c *common, dsn string, store *objectStore) *site {
	return &site{c: c, dsn: dsn, store: store, jwtSecret: randomHex(32), linkSecret: randomHex(32)}
}

// env is the environment of every process of the site. The secrets are given both as
// variables and as the files the server falls back to in its data directory, so that the drill
// behaves the same whichever of the two the binary reads.
func (s *site) env(dataDir string) []string {
	env := []string{
		"DATABASE_URL=" + s.dsn,
		"CX_DATA_DIR=" + dataDir,
		"CX_JWT_SECRET=" + s.jwtSecret,
		"CX_DOWNLOAD_LINK_SECRET=" + s.linkSecret,
		"CX_SEED=false",
		"CX_LOG_LEVEL=warn",
		"CX_RATE_LIMIT_STORE=postgres",
		"CX_WEBHOOKS_ALLOW_PRIVATE=true",
		"CX_TRUSTED_PROXIES=127.0.0.1/32",
	}
	if s.store != nil {
		env = append(env, "CX_STORAGE=s3", "CX_S3_ENDPOINT="+s.store.endpoint, "CX_S3_BUCKET="+s.store.bucket,
			"CX_S3_ACCESS_KEY="+s.store.access, "CX_S3_SECRET_KEY="+s.store.secret,
			"CX_S3_USE_PATH_STYLE=true", "CX_S3_INSECURE=true")
	}
	if s.publicURL != "" {
		env = append(env, "CX_PUBLIC_BASE_URL="+s.publicURL)
	}
	return append(env, s.extraEnv...)
}

// dataDir creates the data directory of one process with the shared secret files.
func (s *site) dataDir(name string) (string, error) {
	dir := filepath.Join(s.c.workDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for file, v := range map[string]string{"jwt-secret": s.jwtSecret, "download-secret": s.linkSecret} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// cli runs one operator command of the server binary (migrate, seed, keys create).
func (s *site) cli(ctx context.Context, args ...string) (string, error) {
	dir, err := s.dataDir("cli")
	if err != nil {
		return "", err
	}
	return runOut(ctx, s.env(dir), s.c.bin, args...)
}

// replica is one server process.
type replica struct {
	name string
	addr string
	url  string
	dir  string
	p    *proc
}

// startReplica starts (or restarts) a server process and waits for its health endpoint.
func (s *site) startReplica(ctx context.Context, r *replica) error {
	if r.addr == "" {
		r.addr = fmt.Sprintf("127.0.0.1:%d", freePort())
		r.url = "http://" + r.addr
	}
	dir, err := s.dataDir(r.name)
	if err != nil {
		return err
	}
	r.dir = dir
	env := append(s.env(dir), "CX_HTTP_ADDR="+r.addr)
	if s.publicURL == "" {
		env = append(env, "CX_PUBLIC_BASE_URL="+r.url)
	}
	p, err := s.c.start(r.name, env, s.c.bin, "serve")
	if err != nil {
		return err
	}
	r.p = p
	return waitHTTP(ctx, r.url+healthPath, p, 90*time.Second)
}

// demo seeds the demo firms (idempotent) and creates one key per name=firm:tier.
func (s *site) demo(ctx context.Context, keys ...string) (map[string]string, error) {
	if _, err := s.cli(ctx, "migrate"); err != nil {
		return nil, err
	}
	if _, err := s.cli(ctx, "seed"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		name, spec, _ := strings.Cut(k, "=")
		firm, tier, _ := strings.Cut(spec, ":")
		key, err := s.cli(ctx, "keys", "create", "--firm", firm, "--tier", tier, "--name", "hadrill "+name)
		if err != nil {
			return nil, err
		}
		out[name] = strings.TrimSpace(key)
	}
	return out, nil
}
