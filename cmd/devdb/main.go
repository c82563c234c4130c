// Command devdb runs a command against a private PostgreSQL cluster:
//
//	go run ./cmd/devdb [-data DIR] [-ephemeral] [-db NAME] -- CMD [ARG...]
//
// It starts the cluster (see internal/pgcluster), exports DATABASE_URL for CMD, runs CMD,
// stops the cluster and exits with CMD's status. With DATABASE_URL already set it just runs
// CMD. -ephemeral uses a fresh cluster in a temporary directory with durability off (fast
// tests) and removes it afterwards; otherwise the cluster lives in -data (default $CX_DATA_DIR,
// or ./.data/postgres) and is kept.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/casexchange/server/internal/pgcluster"
)

func main() {
	os.Exit(run())
}

func run() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	dataDir := fs.String("data", envOr("CX_DATA_DIR", pgcluster.DefaultDataDir), "cluster data directory")
	ephemeral := fs.Bool("ephemeral", false, "use a throwaway cluster in a temporary directory (no fsync)")
	database := fs.String("db", pgcluster.DefaultDatabase, "database to create and put in DATABASE_URL")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: devdb [-data DIR] [-ephemeral] [-db NAME] -- CMD [ARG...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		fs.Usage()
		return 2
	}

	// Ctrl-C reaches CMD (same process group) and us: we wait for CMD to finish, then stop
	// the cluster. Catch SIGINT rather than ignore it: an ignored signal stays ignored in CMD.
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, syscall.SIGINT)
	go func() {
		for range interrupts {
		}
	}()
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()

	if os.Getenv("DATABASE_URL") == "" {
		opts := pgcluster.Options{DataDir: *dataDir, Database: *database, Logger: log}
		if *ephemeral {
			tmp, err := os.MkdirTemp(pgcluster.ScratchDir(), "casexchange-devdb-")
			if err != nil {
				log.Error("devdb: temp dir", "err", err)
				return 1
			}
			defer os.RemoveAll(tmp)
			// MkdirTemp makes 0700: the server user (when we are root) must enter it.
			if err := os.Chmod(tmp, 0o755); err != nil {
				log.Error("devdb: temp dir", "err", err)
				return 1
			}
			opts.DataDir, opts.TestMode = filepath.Join(tmp, "data"), true
		}
		dsn, stop, err := pgcluster.EnsureRunning(ctx, opts)
		if err != nil {
			log.Error("devdb: start PostgreSQL", "err", err)
			return 1
		}
		defer stop()
		if err := os.Setenv("DATABASE_URL", dsn); err != nil {
			log.Error("devdb: setenv", "err", err)
			return 1
		}
		log.Info("devdb: DATABASE_URL set", "dsn", dsn)
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Error("devdb: run command", "cmd", argv[0], "err", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err = <-done
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if code := exitErr.ExitCode(); code >= 0 {
			return code
		}
		return 1 // killed by a signal
	default:
		log.Error("devdb: command", "err", err)
		return 1
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
