package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func TestShareTokenLifecycleAsJSON(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	if !strings.HasPrefix(tok.ID, "cnst_") || tok.Type != "connect/share-token" {
		t.Fatalf("created %+v", tok)
	}
	want := shareTokenOut{ID: tok.ID, Type: "connect/share-token", Status: "created", Direction: "outbound",
		ConnectionID: w.cxn, Source: &connect.Ref{Type: "inquiry", ID: w.inq}}
	ignoreTimes := func(s shareTokenOut) shareTokenOut { s.CreatedAt, s.ExpiresAt = "", nil; return s }
	if diff := cmp.Diff(want, ignoreTimes(tok)); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	if tok.ExpiresAt == nil || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(tok.CreatedAt) {
		t.Errorf("timestamps not as Persona writes them: created-at %q, expires-at %v", tok.CreatedAt, tok.ExpiresAt)
	}

	// The destination peeks, redeems and waits.
	peek := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.dst), "share-tokens", "peek", tok.ID, "--json").stdout)
	if peek.Direction != "inbound" || peek.SourceData == nil {
		t.Errorf("peek = %+v, want inbound with source-data", peek)
	}
	pending := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.dst), "share-tokens", "redeem", tok.ID, "--json").stdout)
	if pending.Status != "pending" || pending.RedeemMode == nil || *pending.RedeemMode != "clone" {
		t.Errorf("redeem = %+v, want pending clone", pending)
	}
	r := mustRun(t, w.as(w.dst), "share-tokens", "wait", tok.ID, "--json")
	done := decodeOne[shareTokenOut](t, r.stdout)
	if done.Status != "redeemed" || done.Destination == nil || done.Destination.Type != "inquiry" {
		t.Errorf("wait = %+v, want redeemed into an inquiry", done)
	}
	// Progress: not a terminal here, so plain lines, the last one the final status.
	if !strings.Contains(r.stderr, "share token "+tok.ID+" is redeemed\n") || strings.Contains(r.stderr, "\r") {
		t.Errorf("wait progress on stderr = %q", r.stderr)
	}

	got := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.src), "share-tokens", "get", tok.ID, "--json").stdout)
	if got.Status != "redeemed" || got.Direction != "outbound" {
		t.Errorf("get by the source = %+v", got)
	}
}

func TestShareTokensTextOutput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := mustRun(t, w.as(w.src), "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--expires-in", "24h")
	id := regexp.MustCompile(`(?m)^id:\s+(cnst_\S+)$`).FindStringSubmatch(r.stdout)
	if id == nil {
		t.Fatalf("no id line in\n%s", r.stdout)
	}
	for _, line := range []string{"status:      created", "direction:   outbound", "connection:  " + w.cxn, "source:      inquiry " + w.inq} {
		if !strings.Contains(r.stdout, line+"\n") {
			t.Errorf("create output lacks %q:\n%s", line, r.stdout)
		}
	}

	second := w.createToken(t)
	list := mustRun(t, w.as(w.src), "share-tokens", "list")
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("list: want a header and two rows, got\n%s", list.stdout)
	}
	if got := strings.Fields(lines[0]); !cmp.Equal(got, []string{"ID", "STATUS", "DIRECTION", "CONNECTION", "CREATED"}) {
		t.Errorf("header = %q", got)
	}
	// Newest first.
	row := strings.Fields(lines[1])
	if len(row) != 5 || row[0] != second.ID || row[1] != "created" || row[2] != "outbound" || row[3] != w.cxn {
		t.Errorf("first row = %q, want the newest token %s", row, second.ID)
	}
	if _, err := time.Parse(time.RFC3339, row[4]); err != nil {
		t.Errorf("created column %q: %v", row[4], err)
	}
	if strings.Fields(lines[2])[0] != id[1] {
		t.Errorf("second row = %q, want %s", lines[2], id[1])
	}
}

func TestShareTokensListFiltersAndLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b, c := w.createToken(t), w.createToken(t), w.createToken(t)
	mustRun(t, w.as(w.src), "share-tokens", "expire", b.ID)

	ids := func(args ...string) []string {
		t.Helper()
		var toks []shareTokenOut
		if err := json.Unmarshal([]byte(mustRun(t, w.as(w.src), append([]string{"share-tokens", "list", "--json"}, args...)...).stdout), &toks); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tok := range toks {
			out = append(out, tok.ID)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{c.ID, b.ID, a.ID}},
		{[]string{"--limit", "2"}, []string{c.ID, b.ID}},
		{[]string{"--limit", "0"}, []string{c.ID, b.ID, a.ID}},
		{[]string{"--status", "expired"}, []string{b.ID}},
		{[]string{"--direction", "inbound"}, nil},
		{[]string{"--connection", w.cxn, "--status", "created"}, []string{c.ID, a.ID}},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.args...)); diff != "" {
			t.Errorf("list %q (-want +got):\n%s", tc.args, diff)
		}
	}
	// An empty list is [] in JSON, and in text an empty stdout with a note on stderr.
	if r := mustRun(t, w.as(w.src), "share-tokens", "list", "--json", "--direction", "inbound"); r.stdout != "[]\n" {
		t.Errorf("empty JSON list = %q", r.stdout)
	}
	if r := mustRun(t, w.as(w.src), "share-tokens", "list", "--direction", "inbound"); r.stdout != "" || !strings.Contains(r.stderr, "no share tokens") {
		t.Errorf("empty text list: %s", r)
	}
}

func TestShareTokensExpire(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	got := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.src), "share-tokens", "expire", tok.ID, "--json").stdout)
	if got.ID != tok.ID || got.Status != "expired" {
		t.Fatalf("expire = %+v", got)
	}
}

// Flags may come before or after the positional argument, global ones included.
func TestRedeemFlagsBeforeOrAfterTheID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, order := range []string{"after", "before", "split"} {
		tok := w.createToken(t)
		target := w.srv.CreateInquiry(w.dst)
		var args []string
		switch order {
		case "after":
			args = []string{"share-tokens", "redeem", tok.ID, "--destination", target, "--map", "name_first=first_name", "--json"}
		case "before":
			args = []string{"--json", "share-tokens", "redeem", "--destination", target, "--map", "name_first=first_name", tok.ID}
		case "split":
			args = []string{"share-tokens", "redeem", "--map", "name_first=first_name", tok.ID, "--json", "--destination=" + target}
		}
		got := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.dst), args...).stdout)
		if got.ID != tok.ID || got.RedeemMode == nil || *got.RedeemMode != "hydrate" {
			t.Errorf("%s: redeem = %+v, want a hydrate of %s", order, got, tok.ID)
		}
		done := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.dst), "share-tokens", "wait", tok.ID, "--json").stdout)
		if done.Destination == nil || done.Destination.ID != target {
			t.Errorf("%s: hydrated %+v, want %s", order, done.Destination, target)
		}
	}
}

// A bad --map is a usage error, caught before any request.
func TestRedeemRefusesABadMapping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	r := run(t, w.as(w.dst), "", "share-tokens", "redeem", tok.ID, "--destination", w.inq, "--map", "no-equals-sign")
	if r.code != exitUsage || !strings.Contains(r.stderr, "SOURCE_FIELD=DEST_FIELD") {
		t.Fatalf("want exit 2 naming the form: %s", r)
	}
}

func TestWaitTimesOutWithExit5(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(time.Hour))
	tok := w.createToken(t)
	mustRun(t, w.as(w.dst), "share-tokens", "redeem", tok.ID)
	r := run(t, w.as(w.dst), "", "share-tokens", "wait", tok.ID, "--timeout", "1s")
	if r.code != exitRetryable || r.stdout != "" {
		t.Fatalf("want exit 5 and nothing on stdout: %s", r)
	}
	if !strings.Contains(r.stderr, tok.ID+" still pending after --timeout 1s") {
		t.Errorf("stderr does not say why: %s", r.stderr)
	}
}

// A create whose outcome is unknown (every answer lost after the token was made)
// prints the Idempotency-Key; retrying with it returns the same token, not a second.
func TestCreatePrintsTheIdempotencyKeyToRetryWith(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.DropAfterCommit("POST", "/connect/share-tokens", 3) // the first try and the SDK's 2 retries
	r := run(t, w.as(w.src), "", "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--json")
	if r.code != exitRetryable {
		t.Fatalf("want exit 5 for a lost answer: %s", r)
	}
	m := regexp.MustCompile(`--idempotency-key (\S+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no key to retry with on stderr: %s", r.stderr)
	}
	retried := decodeOne[shareTokenOut](t, mustRun(t, w.as(w.src), "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--json", "--idempotency-key", m[1]).stdout)

	client := w.sdk(t, w.src)
	var all []string
	for tok, err := range client.ShareTokens.List(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tok.ID)
	}
	if diff := cmp.Diff([]string{retried.ID}, all); diff != "" {
		t.Errorf("tokens after the retry (-want +got):\n%s", diff)
	}
}

// Input the SDK refuses before sending is a usage error that names the flag (not the
// SDK's field); no request is made, so no key is offered for a retry.
func TestCreateRefusesBadIDsLocally(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := run(t, w.as(w.src), "", "share-tokens", "create", "--connection", w.inq, "--source", w.inq)
	if r.code != exitUsage || !strings.Contains(r.stderr, "connect: --connection must start with cxn_") || strings.Contains(r.stderr, "idempotency") {
		t.Fatalf("want exit 2 naming --connection: %s", r)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"share-tokens", "create", "--connection", w.cxn, "--source", "foo_1"}, "connect: --source must start with act_"},
		{[]string{"share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--expires-in", "1s"}, "connect: --expires-in must be between 1m"},
		{[]string{"share-tokens", "redeem", "cnst_1", "--destination", "x y"}, "connect: --destination must not contain whitespace"},
		{[]string{"events", "list", "--name", "a", "--name", "a,b"}, "connect: --name (the 2nd) must be a non-empty event name"},
		{[]string{"connections", "create", "--destination-org", "cxn_1"}, "connect: --destination-org must start with org_"},
	} {
		r := run(t, w.as(w.src), "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("connect %s: want exit 2 and %q: %s", strings.Join(tc.args, " "), tc.want, r)
		}
	}
	r = run(t, w.as(w.src), "", "share-tokens", "create", "--source", w.inq)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--connection and --source are required") {
		t.Fatalf("want exit 2 for a missing flag: %s", r)
	}
}
