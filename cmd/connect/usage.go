package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
)

// Usage and help. Usage is not data, so it goes to stderr like every other message;
// "connect help" and -h exit 0, a usage mistake exits 2.

// help runs "connect help [COMMAND]".
func (a *app) help(args []string) int {
	if len(args) == 0 {
		a.printMainUsage()
		return exitOK
	}
	if cmd, rest := lookup(args); cmd != nil && len(rest) == 0 {
		fs := flag.NewFlagSet("connect "+cmd.name, flag.ContinueOnError)
		var g globalFlags
		g.register(fs)
		cmd.setup(fs)
		a.printUsage(cmd, fs)
		return exitOK
	}
	if cmds := group(args[0]); len(cmds) > 0 && len(args) == 1 {
		a.printCommandList(cmds)
		return exitOK
	}
	fmt.Fprintf(a.stderr, "connect help: unknown command %q\n\n", strings.Join(args, " "))
	a.printMainUsage()
	return exitUsage
}

func (a *app) printMainUsage() {
	w := a.stderr
	fmt.Fprint(w, `connect is Persona Connect from a terminal: one-off share tokens, local webhook
forwarding and a stand-alone fake Persona.

usage: connect COMMAND [flags] [arguments]

`)
	a.printCommandList(commands())
	fmt.Fprint(w, "\nGlobal flags, accepted by every command, before or after its name:\n")
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	var g globalFlags
	g.register(fs)
	var global []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { global = append(global, f) })
	printFlags(a, global)
	fmt.Fprint(w, `
Exit codes: 0 ok; 1 other errors; 2 usage; 3 not found; 4 unauthorized or forbidden;
5 rate limited, server error, network failure or timeout (worth retrying);
6 webhook signature not valid.

Run 'connect help COMMAND' for a command's flags and an example, e.g.
  connect help share-tokens create
`)
}

// printCommandList prints the synopsis and short text of cmds.
func (a *app) printCommandList(cmds []*command) {
	fmt.Fprintln(a.stderr, "Commands:")
	tw := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	tw.Flush()
}

// printUsage prints one command's usage: synopsis, description, its flags, the
// global flags and an example.
func (a *app) printUsage(cmd *command, fs *flag.FlagSet) {
	w := a.stderr
	fmt.Fprintf(w, "usage: connect %s %s\n\n%s\n", cmd.name, cmd.args, strings.TrimSpace(cmd.long))
	var own, global []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if isGlobalFlag(f.Name) {
			global = append(global, f)
		} else {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(a, own)
	}
	fmt.Fprint(w, "\nGlobal flags:\n")
	printFlags(a, global)
	fmt.Fprint(w, "\nExample:\n")
	for _, line := range strings.Split(strings.TrimSpace(cmd.example), "\n") {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(line))
	}
}

// printFlags prints flags with two dashes (the flag package accepts one or two) and
// the placeholder named in their usage text between backquotes.
func printFlags(a *app, flags []*flag.Flag) {
	tw := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	for _, f := range flags {
		placeholder, usage := flag.UnquoteUsage(f)
		if placeholder != "" {
			placeholder = " " + placeholder
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, placeholder, usage)
	}
	tw.Flush()
}
