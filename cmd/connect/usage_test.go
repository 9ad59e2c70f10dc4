package main

import (
	"strings"
	"testing"
)

// help, help CMD and -h or --help on every command print usage with an example on
// stderr and exit 0; usage mistakes exit 2.
func TestHelpForEveryCommand(t *testing.T) {
	t.Parallel()
	main := run(t, nil, "", "help")
	if main.code != exitOK || main.stdout != "" || !strings.Contains(main.stderr, "Exit codes: 0 ok;") {
		t.Fatalf("connect help: %s", main)
	}
	for _, c := range commands() {
		if !strings.Contains(main.stderr, "  "+c.name+"  ") {
			t.Errorf("connect help does not list %q", c.name)
		}
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			append([]string{"help"}, words...),
			append(append([]string(nil), words...), "-h"),
			append(append([]string(nil), words...), "--help"),
		} {
			r := run(t, nil, "", args...)
			if r.code != exitOK || r.stdout != "" {
				t.Errorf("connect %s: %s", strings.Join(args, " "), r)
				continue
			}
			_, example, _ := strings.Cut(r.stderr, "\nExample:\n  ")
			if !strings.Contains(example, "connect "+c.name+" ") {
				t.Errorf("connect %s: no example of the command:\n%s", strings.Join(args, " "), r.stderr)
			}
			for _, want := range []string{"usage: connect " + c.name + " " + c.args + "\n", "\nGlobal flags:\n  --api-key-file FILE"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("connect %s: usage lacks %q:\n%s", strings.Join(args, " "), want, r.stderr)
				}
			}
		}
	}
	group := run(t, nil, "", "help", "share-tokens")
	if group.code != exitOK || !strings.Contains(group.stderr, "share-tokens wait") || strings.Contains(group.stderr, "connections list") {
		t.Errorf("connect help share-tokens: %s", group)
	}
}

func TestUsageMistakesExit2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: connect COMMAND"},
		{[]string{"share-tokens"}, "connect share-tokens: a subcommand is needed"},
		{[]string{"share-tokens", "burn"}, `unknown subcommand "burn"`},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
		{[]string{"help", "nonsense"}, `unknown command "nonsense"`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"share-tokens", "get", "cnst_a", "cnst_b"}, "takes one share token id, got 2 arguments"},
		{[]string{"share-tokens", "list", "extra"}, `takes no arguments, got "extra"`},
		{[]string{"share-tokens", "wait", "cnst_a", "--timeout", "soon"}, `invalid value "soon" for flag -timeout`},
		{[]string{"events", "list", "--limit", "-1"}, "--limit must not be negative"},
		{[]string{"listen"}, "--forward-to is required"},
		{[]string{"listen", "--forward-to", "localhost:8080"}, "--forward-to must be an http or https URL"},
	} {
		r := run(t, []string{"PERSONA_API_KEY=persona_sandbox_unused"}, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("connect %s: want exit 2 with %q, got %s", strings.Join(tc.args, " "), tc.want, r)
		}
	}
}

// Global flags work on every command, before or after its name.
func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	env := []string{"PERSONA_API_KEY=" + w.src.APIKey} // the base URL only from the flag
	for _, args := range [][]string{
		{"--json", "--base-url", w.srv.URL, "share-tokens", "get", tok.ID},
		{"share-tokens", "get", "--json", tok.ID, "--base-url", w.srv.URL},
		{"share-tokens", "get", "--base-url=" + w.srv.URL, tok.ID, "--json"},
	} {
		r := run(t, env, "", args...)
		if r.code != exitOK {
			t.Errorf("connect %s: %s", strings.Join(args, " "), r)
			continue
		}
		if got := decodeOne[shareTokenOut](t, r.stdout); got.ID != tok.ID {
			t.Errorf("connect %s: printed %+v", strings.Join(args, " "), got)
		}
	}
	// The flag wins over PERSONA_BASE_URL.
	r := run(t, append(env, "PERSONA_BASE_URL=http://127.0.0.1:1/api/v1"), "", "share-tokens", "get", tok.ID, "--base-url", w.srv.URL)
	if r.code != exitOK {
		t.Errorf("--base-url over PERSONA_BASE_URL: %s", r)
	}
}
