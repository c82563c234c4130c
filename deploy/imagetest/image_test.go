// Package imagetest checks the container image that `make image` builds (Containerfile): its
// contents and configuration always, and, where podman can run containers, the server in it
// against a PostgreSQL database of the test: migrate, seed, keys create, serve, /health and one
// Public API call. `make image-test` runs it with CX_IMAGE set; without CX_IMAGE it is skipped.
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/seed"
	"github.com/casexchange/server/internal/testsummary"
)

func TestMain(m *testing.M) { pgtest.MainFS(m, nil) }

// nonRootUID is the user the image runs as (deploy/image/passwd).
const nonRootUID = 65532

// runFlags are the podman settings that work on sandboxed machines (shared/notes/containers.md),
// plus the restrictions the Helm chart applies: no capabilities, no privilege gain, read-only
// root filesystem with only /data writable.
var runFlags = []string{
	"--rm", "--runtime", "runc", "--cgroup-manager=cgroupfs", "--network", "host",
	"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
	"--read-only", "--tmpfs", "/data:rw,U", // U: owned by the container user, like an emptyDir with fsGroup
}

func TestImage(t *testing.T) {
	image := os.Getenv("CX_IMAGE")
	if image == "" {
		t.Skip("CX_IMAGE is not set: make image-test builds the image and runs this test")
	}
	_, err := exec.LookPath("podman")
	require.NoError(t, err, "podman is needed to inspect the image (.ci/run installs it)")

	contents := checkContents(t, image)

	_, dsn := pgtest.NewEmptyDB(t)
	env := []string{"DATABASE_URL=" + dsn, "CX_SEED=false", "CX_LOG_LEVEL=warn"}

	// A first container tells whether this machine can run containers at all. A failure of
	// podman itself (exit 125: runtime, cgroups, ulimits) is reported as such; any other
	// non-zero exit is the server's, and fails the test.
	out, code, err := podmanRun(t, image, env, "migrate")
	if code == 125 || code == 126 || code == 127 {
		testsummary.Printf("image: %s built, contents ok (%s); podman cannot run containers on this machine (exit %d: %s), so the server in it was not started", image, contents, code, firstLine(out))
		return
	}
	require.NoError(t, err, "migrate in the container: %s", out)

	out, _, err = podmanRun(t, image, env, "seed")
	require.NoError(t, err, "seed in the container: %s", out)
	firm := seed.DemoFirms[0]
	out, _, err = podmanRun(t, image, env, "keys", "create", "--firm", firm.Slug, "--tier", "read_only", "--name", "image-test")
	require.NoError(t, err, "keys create in the container: %s", out)
	key := lastLine(out)
	require.NotEmpty(t, key, "keys create printed no key: %s", out)

	addr := freeAddr(t)
	name := fmt.Sprintf("cx-imagetest-%d", time.Now().UnixNano())
	serveEnv := append(env,
		"CX_HTTP_ADDR="+addr,
		"CX_JWT_SECRET="+strings.Repeat("j", 40),
		"CX_DOWNLOAD_LINK_SECRET="+strings.Repeat("d", 40),
	)
	args := append([]string{"run", "-d", "--name", name}, runFlags...)
	for _, e := range serveEnv {
		args = append(args, "-e", e)
	}
	args = append(args, image) // the image's default command: serve
	started := time.Now()
	startOut, err := podman(args...).CombinedOutput()
	require.NoError(t, err, "podman run -d: %s", startOut)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman("logs", name).CombinedOutput()
			t.Logf("container logs:\n%s", logs)
		}
		_ = podman("rm", "-f", "-t", "0", name).Run()
	})

	base := "http://" + addr
	var health int
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/api/public/v1/health")
		if err == nil {
			health = resp.StatusCode
			resp.Body.Close()
			if health == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server in the container did not answer /api/public/v1/health with 200 within 60 s (last status %d, error %v)", health, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ready := time.Since(started)

	req, err := http.NewRequest(http.MethodGet, base+"/api/public/v1/firms/me", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET /api/public/v1/firms/me: %s", body)
	require.Contains(t, string(body), fmt.Sprintf("%q", firm.Name))

	// SIGTERM (podman stop) drains and exits 0 well within the chart's grace period.
	stopStart := time.Now()
	stopOut, err := podman("stop", "-t", "30", name).CombinedOutput()
	require.NoError(t, err, "podman stop: %s", stopOut)
	stopped := time.Since(stopStart)

	testsummary.Printf("image: %s (%s) ran as uid %d with a read-only root, no capabilities, --network host: migrate, seed, keys create, serve; /health 200 after %s, GET /firms/me with the new key 200; stopped by SIGTERM in %s",
		image, contents, nonRootUID, ready.Round(10*time.Millisecond), stopped.Round(10*time.Millisecond))
}

// checkContents saves the image as an archive and checks what is in it: one executable (the
// server), the CA bundle, passwd/group naming the non-root user and nothing else (no shell), and
// the configuration (user, entrypoint, command, labels). It returns a short description.
func checkContents(t *testing.T, image string) string {
	t.Helper()
	archive := path.Join(t.TempDir(), "image.tar")
	out, err := podman("image", "save", "--format", "docker-archive", "-o", archive, image).CombinedOutput()
	require.NoError(t, err, "podman image save: %s", out)
	outer := readTar(t, archive)

	var manifest []struct {
		Config string
		Layers []string
	}
	require.NoError(t, json.Unmarshal(outer[manifestName], &manifest))
	require.Len(t, manifest, 1)

	var cfg struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
		} `json:"config"`
	}
	require.NoError(t, json.Unmarshal(outer[manifest[0].Config], &cfg))
	c := cfg.Config
	require.Equal(t, fmt.Sprintf("%d:%d", nonRootUID, nonRootUID), c.User, "image user")
	require.Equal(t, []string{"/casexchange"}, c.Entrypoint)
	require.Equal(t, []string{"serve"}, c.Cmd)
	require.Contains(t, c.ExposedPorts, "8080/tcp")
	for _, l := range []string{"version", "revision", "source", "licenses"} {
		require.NotEmpty(t, c.Labels["org.opencontainers.image."+l], "label org.opencontainers.image.%s", l)
	}

	files := map[string]*tar.Header{}
	data := map[string][]byte{}
	for _, layer := range manifest[0].Layers {
		tr := tar.NewReader(bytes.NewReader(outer[layer]))
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "layer %s", layer)
			name := "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			files[name] = h
			if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
				b, err := io.ReadAll(tr)
				require.NoError(t, err)
				data[name] = b
			}
		}
	}
	var executables, regular []string
	for name, h := range files {
		if h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink {
			t.Errorf("unexpected link in the image: %s -> %s", name, h.Linkname)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		regular = append(regular, name)
		if h.Mode&0o111 != 0 {
			executables = append(executables, name)
		}
	}
	sort.Strings(regular)
	require.Equal(t, []string{"/casexchange"}, executables, "the server must be the only executable (no shell)")
	allowed := map[string]bool{"/casexchange": true, "/etc/passwd": true, "/etc/group": true, "/etc/ssl/certs/ca-certificates.crt": true}
	for _, name := range regular {
		require.True(t, allowed[name], "unexpected file in the image: %s (all files: %v)", name, regular)
	}
	ca := files["/etc/ssl/certs/ca-certificates.crt"]
	require.NotNil(t, ca, "CA bundle missing")
	certs := bytes.Count(data["/etc/ssl/certs/ca-certificates.crt"], []byte("BEGIN CERTIFICATE"))
	require.Greater(t, certs, 10, "CA bundle holds too few certificates")
	require.Contains(t, string(data["/etc/passwd"]), fmt.Sprintf(":%d:%d:", nonRootUID, nonRootUID))
	require.Contains(t, string(data["/etc/group"]), fmt.Sprintf(":%d:", nonRootUID))
	d := files["/data"]
	require.NotNil(t, d, "/data missing")
	require.Equal(t, nonRootUID, d.Uid, "/data owner")

	bin := files["/casexchange"]
	return fmt.Sprintf("%d files: /casexchange %.1f MB, %d CA certificates, uid %d, version label %s",
		len(regular), float64(bin.Size)/1e6, certs, nonRootUID, c.Labels["org.opencontainers.image.version"])
}

const manifestName = "manifest.json"

// readTar reads every entry of a docker-archive, resolving the symbolic links podman writes
// for layer paths.
func readTar(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close() //nolint:errcheck // read only
	entries := map[string][]byte{}
	links := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch h.Typeflag {
		case tar.TypeSymlink:
			links[h.Name] = path.Join(path.Dir(h.Name), h.Linkname)
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			entries[h.Name] = b
		}
	}
	for name, target := range links {
		entries[name] = entries[target]
	}
	return entries
}

func podman(args ...string) *exec.Cmd {
	return exec.Command("podman", args...) // CONTAINERS_CONF comes from the environment (mk/image.mk)
}

// podmanRun runs one command of the image in a container and returns its standard output (with
// standard error added on failure) and exit code.
func podmanRun(t *testing.T, image string, env []string, cmd ...string) (string, int, error) {
	t.Helper()
	args := append([]string{"run"}, runFlags...)
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, image)
	args = append(args, cmd...)
	c := podman(args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	if err != nil {
		return strings.TrimSpace(stdout.String() + "\n" + stderr.String()), code, err
	}
	return strings.TrimSpace(stdout.String()), code, nil
}

// lastLine returns the last line of a command's standard output (keys create prints the key).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
