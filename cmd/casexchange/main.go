// Command casexchange is the CaseXchange server and its operator tools; `casexchange help`
// lists the commands.
//
// Configuration comes only from environment variables (docs/configuration.md). Without
// DATABASE_URL a private PostgreSQL cluster is started under CX_DATA_DIR and stopped on exit.
//
// Every command answers -h and --help with its usage on stdout and does nothing else; a wrong
// command, flag or argument prints the usage on stderr and exits 2; any other failure is one
// line on stderr ("casexchange: ...") and exit 1.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runWith(ctx, &cli{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv, setDefault: true}, os.Args[1:])
	cancel()
	os.Exit(code)
}
