package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/casexchange/server/internal/config"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // unknown command, flag or argument
)

// cli is what every command gets: where to write and how to read the environment.
type cli struct {
	stdout, stderr io.Writer
	lookup         config.Lookup
	// setDefault makes the command's logger the process-wide slog default (the binary; not
	// the tests, which run commands side by side in one process).
	setDefault bool
}

// command is one node of the command tree. A leaf has setup; a group has subs (and may have
// setup too, run when no subcommand is named: `migrate` is `migrate up`).
type command struct {
	name     string // full name without the program, e.g. "keys create"
	synopsis string // what follows the name in the usage line
	summary  string // one line for the list of commands
	about    string // the paragraph of its own usage
	// nargs bounds the positional arguments; max < 0 means no bound.
	minArgs, maxArgs int
	// setup defines the flags on fs and returns the function that runs the command once
	// fs is parsed; args are the positional arguments.
	setup func(fs *flag.FlagSet) func(ctx context.Context, x *cli, args []string) error
	subs  []*command
}

// usageError is a mistake in the command line: the usage follows it, and the exit code is 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run executes the command line args (without the program name) and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup config.Lookup) int {
	return runWith(ctx, &cli{stdout: stdout, stderr: stderr, lookup: lookup}, args)
}

func runWith(ctx context.Context, x *cli, args []string) int {
	return x.dispatch(ctx, root(), args)
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

func (x *cli) dispatch(ctx context.Context, c *command, args []string) int {
	if len(c.subs) > 0 && len(args) > 0 {
		if isHelp(args[0]) {
			fmt.Fprint(x.stdout, c.usage())
			return exitOK
		}
		for _, s := range c.subs {
			if last(s.name) == args[0] {
				return x.dispatch(ctx, s, args[1:])
			}
		}
		if c.setup == nil || !strings.HasPrefix(args[0], "-") {
			return x.usageFail(c, usagef("unknown command %q", args[0]))
		}
	}
	if c.setup == nil {
		return x.usageFail(c, usagef("missing command"))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	runFn := c.setup(fs)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(x.stdout, c.usageWithFlags(fs))
		return exitOK
	}
	if err != nil {
		return x.usageFail(c, usagef("%v", err))
	}
	if len(pos) < c.minArgs || (c.maxArgs >= 0 && len(pos) > c.maxArgs) {
		switch {
		case c.maxArgs == 0:
			return x.usageFail(c, usagef("unexpected argument %q", pos[0]))
		case len(pos) < c.minArgs:
			return x.usageFail(c, usagef("missing argument"))
		default:
			return x.usageFail(c, usagef("too many arguments"))
		}
	}
	err = runFn(ctx, x, pos)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return x.usageFail(c, err)
	default:
		fmt.Fprintf(x.stderr, "casexchange: %s\n", oneLine(err.Error()))
		return exitError
	}
}

func (x *cli) usageFail(c *command, err error) int {
	fmt.Fprintf(x.stderr, "%s: %s\n\n", progName(c), oneLine(err.Error()))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.setup != nil {
		c.setup(fs)
	}
	fmt.Fprint(x.stderr, c.usageWithFlags(fs))
	return exitUsage
}

// oneLine joins the lines of a multi-line error (errors.Join) so that a failure stays one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func last(name string) string {
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		return name[i+1:]
	}
	return name
}

func progName(c *command) string { return strings.TrimSpace("casexchange " + c.name) }

// usage is the usage of a command without its flags (groups).
func (c *command) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n", strings.TrimSpace(progName(c)+" "+c.synopsis))
	if c.about != "" {
		fmt.Fprintf(&b, "\n%s\n", c.about)
	}
	if len(c.subs) > 0 {
		b.WriteString("\ncommands:\n")
		for _, s := range c.subs {
			line := strings.TrimSpace(last(s.name) + " " + s.synopsis)
			if len(line) > 30 {
				fmt.Fprintf(&b, "  %s\n  %-30s %s\n", line, "", s.summary)
				continue
			}
			fmt.Fprintf(&b, "  %-30s %s\n", line, s.summary)
		}
		fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for the flags of a command.\n", progName(c))
	}
	return b.String()
}

func (c *command) usageWithFlags(fs *flag.FlagSet) string {
	u := c.usage()
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return u
	}
	var b strings.Builder
	b.WriteString(u)
	b.WriteString("\nflags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// parseInterleaved parses flags that may come before, between or after the positional
// arguments (`import cases FILE --firm acme`), which flag.Parse alone stops at. Everything after
// "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
