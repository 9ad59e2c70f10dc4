package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

const testBody = `{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed"}}}`

func TestWebhooksSign(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_sign_test"
	env := []string{"HOOK_SECRET=" + secret}
	at := time.Unix(1767225600, 0)
	r := mustRunStdin(t, env, testBody, "webhooks", "sign", "--secret-env", "HOOK_SECRET", "--time", strconv.FormatInt(at.Unix(), 10))
	if want := connect.SignHeader([]byte(testBody), secret, at) + "\n"; r.stdout != want {
		t.Fatalf("sign = %q, want %q", r.stdout, want)
	}
	// Without --time it signs now, and the result verifies.
	now := mustRunStdin(t, env, testBody, "webhooks", "sign", "--secret-env", "HOOK_SECRET")
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify([]byte(testBody), strings.TrimSpace(now.stdout)); err != nil {
		t.Fatalf("a signature made now does not verify: %v", err)
	}
}

func TestWebhooksVerify(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_verify_test"
	env := []string{"HOOK_SECRET=" + secret, "OLD_SECRET=wbhsec_old_one"}
	now := time.Now()
	valid := connect.SignHeader([]byte(testBody), secret, now)
	for _, tc := range []struct {
		name, body, header string
		args               []string
		code               int
		stderr             string
	}{
		{"valid", testBody, valid, nil, exitOK, "signature is valid"},
		{"valid during a rotation", testBody, valid, []string{"--secret-env", "OLD_SECRET"}, exitOK, "signature is valid"},
		{"body changed", testBody + " ", valid, nil, exitInvalidSignature, connect.ErrNoValidSignature.Error()},
		{"other secret", testBody, connect.SignHeader([]byte(testBody), "wbhsec_other", now), nil, exitInvalidSignature, connect.ErrNoValidSignature.Error()},
		{"too old", testBody, connect.SignHeader([]byte(testBody), secret, now.Add(-time.Hour)), nil, exitInvalidSignature, connect.ErrTimestampOutOfTolerance.Error()},
		{"old but tolerated", testBody, connect.SignHeader([]byte(testBody), secret, now.Add(-time.Hour)), []string{"--tolerance", "2h"}, exitOK, "signature is valid"},
		{"malformed", testBody, "v1=abc", nil, exitInvalidSignature, connect.ErrInvalidSignatureHeader.Error()},
		{"empty", testBody, "", nil, exitInvalidSignature, connect.ErrMissingSignature.Error()},
	} {
		args := append([]string{"webhooks", "verify", "--secret-env", "HOOK_SECRET", "--header", tc.header}, tc.args...)
		r := run(t, env, tc.body, args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) || r.stdout != "" {
			t.Errorf("%s: want exit %d with %q on stderr: %s", tc.name, tc.code, tc.stderr, r)
		}
		// Neither the signature given nor the one expected shows in an error.
		if sig := tc.header[strings.LastIndex(tc.header, "=")+1:]; len(sig) == 64 && strings.Contains(r.stderr, sig) {
			t.Errorf("%s: stderr holds the signature: %s", tc.name, r.stderr)
		}
	}
}

func TestWebhooksUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"sign without --secret-env", []string{"webhooks", "sign"}, "--secret-env is required"},
		{"sign with an unset variable", []string{"webhooks", "sign", "--secret-env", "NOT_SET_ANYWHERE"}, `"NOT_SET_ANYWHERE"`},
		// A secret pasted where the variable's name belongs is not repeated, nor is
		// what cannot be a name (runHiding below checks both).
		{"sign with a secret for the name", []string{"webhooks", "sign", "--secret-env", "wbhsec_0123456789abcdef"}, "not the secret"},
		{"verify with a secret for the name", []string{"webhooks", "verify", "--secret-env", "WBHSEC_0123456789abcdef", "--header", "x"}, "not the secret"},
		{"sign with what is not a name", []string{"webhooks", "sign", "--secret-env", "s3cr3t-v@lue"}, "(letters, digits and _)"},
		{"verify without --header", []string{"webhooks", "verify", "--secret-env", "HOOK_SECRET"}, "--header are required"},
		{"verify with a zero tolerance", []string{"webhooks", "verify", "--secret-env", "HOOK_SECRET", "--header", "x", "--tolerance", "0s"}, "--tolerance must be positive"},
	} {
		r := runHiding(t, []string{"HOOK_SECRET=wbhsec_x"}, []string{"0123456789abcdef", "s3cr3t-v@lue"}, testBody, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: want exit 2 with %q: %s", tc.name, tc.want, r)
		}
	}
}

// mustRunStdin is mustRun with a body on stdin.
func mustRunStdin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	r := run(t, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("connect %s: %s", strings.Join(args, " "), r)
	}
	return r
}
