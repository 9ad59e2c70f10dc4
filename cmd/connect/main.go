// Command connect is Persona Connect from a terminal: one-off shares (Persona's
// Dashboard path, for testing and single data shares), a stand-alone fake Persona for
// code in any language, and local webhook development against a real sandbox.
//
//	go install github.com/persona-connect/connect-go/cmd/connect@latest
//	export PERSONA_API_KEY=persona_sandbox_...
//	connect share-tokens create --connection cxn_... --source inq_...
//	connect listen --forward-to http://localhost:8080/webhooks/persona
//	connect fake
//
// Run "connect help" for every command, and "connect help COMMAND" for its flags and
// an example. Data goes to stdout; usage, progress, errors and debug lines go to
// stderr. The exit status tells scripts what happened: 0 ok, 1 another error, 2 bad
// usage, 3 not found, 4 unauthorized or forbidden, 5 rate limited, a server error, a
// network failure or a timeout (worth retrying), 6 a webhook signature that does not
// verify.
//
// Every API call goes through the connect-go SDK, with its retries and idempotency
// keys. The API key comes from PERSONA_API_KEY or --api-key-file, never from a flag's
// value, and is never printed, not even by --debug.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel the context: listen and fake stop cleanly and exit 0,
	// other commands end their call and exit 1.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// command is one subcommand, described the way the go command describes its own
// (cmd/go/internal/base): a synopsis, a short and a long text, and an example. setup
// defines the command's flags on a FlagSet of its own and returns what runs it.
type command struct {
	name    string // the words after "connect", e.g. "share-tokens create"
	args    string // the synopsis after the name
	argName string // what its one positional argument is, e.g. "share token id"; "" when it takes none
	short   string // one line, for "connect help"
	long    string // for "connect help NAME" and -h
	example string // full command lines, one per line
	setup   func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional argument ("" for a command that takes
// none); its flags are parsed and its arguments counted already.
type runFunc func(ctx context.Context, a *app, arg string) error

// commands lists every command, in the order "connect help" shows them.
func commands() []*command {
	return []*command{
		shareTokensCreateCmd(), shareTokensGetCmd(), shareTokensPeekCmd(), shareTokensExpireCmd(),
		shareTokensWaitCmd(), shareTokensRedeemCmd(), shareTokensListCmd(),
		connectionsListCmd(), connectionsGetCmd(), connectionsCreateCmd(),
		connectionsDeactivateCmd(), connectionsReactivateCmd(),
		eventsListCmd(), eventsGetCmd(),
		webhooksSignCmd(), webhooksVerifyCmd(),
		listenCmd(), fakeCmd(),
	}
}

// run runs the command line args (without the program name) and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	// Global flags may come before the command's name too: "connect --json events list".
	root := flag.NewFlagSet("connect", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	a.global.register(root)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printMainUsage()
			return exitOK
		}
		fmt.Fprintf(a.stderr, "connect: %v\n", err)
		a.printMainUsage()
		return exitUsage
	}
	args = root.Args()
	if len(args) == 0 {
		a.printMainUsage()
		return exitUsage
	}
	if args[0] == "help" {
		return a.help(args[1:])
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		a.unknownCommand(args)
		return exitUsage
	}
	return a.runCommand(ctx, cmd, rest)
}

// lookup finds the command whose name starts args and returns it with the remaining
// arguments.
func lookup(args []string) (*command, []string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && equalWords(args[:len(words)], words) {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// group returns the commands under a first word such as "share-tokens".
func group(word string) []*command {
	var out []*command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, word+" ") {
			out = append(out, c)
		}
	}
	return out
}

func (a *app) unknownCommand(args []string) {
	if cmds := group(args[0]); len(cmds) > 0 {
		if len(args) == 1 {
			fmt.Fprintf(a.stderr, "connect %s: a subcommand is needed\n\n", args[0])
		} else {
			fmt.Fprintf(a.stderr, "connect %s: unknown subcommand %q\n\n", args[0], args[1])
		}
		a.printCommandList(cmds)
		return
	}
	fmt.Fprintf(a.stderr, "connect: unknown command %q\n\n", args[0])
	a.printMainUsage()
}

// runCommand parses a command's flags (its own and the global ones, anywhere among
// its arguments), runs it and reports how it ended.
func (a *app) runCommand(ctx context.Context, cmd *command, args []string) int {
	fs := flag.NewFlagSet("connect "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage is ours: see printUsage
	parsedBefore := a.global
	a.global.register(fs)   // resets the fields to their defaults...
	a.global = parsedBefore // ...so the values given before the name are put back
	runCmd := cmd.setup(fs)
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		a.printUsage(cmd, fs)
		return exitOK
	}
	if err != nil {
		return a.report(cmd, &usageError{msg: err.Error()})
	}
	arg, err := cmd.positional(positional)
	if err != nil {
		return a.report(cmd, err)
	}
	return a.report(cmd, runCmd(ctx, a, arg))
}

// positional returns the argument of a command that takes one, and refuses any other
// number of them; a command that takes none gets "".
func (c *command) positional(args []string) (string, error) {
	switch {
	case c.argName == "" && len(args) > 0:
		return "", usagef("takes no arguments, got %q", args[0])
	case c.argName == "":
		return "", nil
	case len(args) != 1:
		return "", usagef("takes one %s, got %d arguments", c.argName, len(args))
	}
	return args[0], nil
}

// hintedError is an error with a line of advice printed after it, such as the
// Idempotency-Key to retry a failed POST with.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// report prints err on stderr, as the SDK wrote it (its text names the field at fault,
// put in the words of its flag, or the Request-Id to quote to Persona), and returns the
// exit code for it.
func (a *app) report(cmd *command, err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "connect %s: %s\n", cmd.name, ue.msg)
		fmt.Fprintf(a.stderr, "usage: connect %s %s\nRun 'connect help %s' for its flags and an example.\n", cmd.name, cmd.args, cmd.name)
		return code
	}
	fmt.Fprintln(a.stderr, inFlagWords(err))
	var he *hintedError
	if errors.As(err, &he) {
		fmt.Fprintln(a.stderr, he.hint)
	}
	return code
}
