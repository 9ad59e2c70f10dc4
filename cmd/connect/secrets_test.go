package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The key comes from --api-key-file (one trailing newline trimmed, an empty file
// refused) or PERSONA_API_KEY, the file winning; never from a flag's value.
func TestAPIKeyFromFileOrEnvironment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "PERSONA_BASE_URL=" + w.srv.URL
	for _, tc := range []runCase{
		{"environment", []string{base, "PERSONA_API_KEY=" + w.src.APIKey}, nil, exitOK, ""},
		{"file with a newline", []string{base}, []string{"--api-key-file", file("nl", w.src.APIKey+"\n")}, exitOK, ""},
		{"file with CRLF", []string{base}, []string{"--api-key-file", file("crlf", w.src.APIKey+"\r\n")}, exitOK, ""},
		{"file without a newline", []string{base}, []string{"--api-key-file", file("bare", w.src.APIKey)}, exitOK, ""},
		{"file wins over the environment", []string{base, "PERSONA_API_KEY=persona_sandbox_wrong"}, []string{"--api-key-file", file("wins", w.src.APIKey+"\n")}, exitOK, ""},
		{"empty file", []string{base, "PERSONA_API_KEY=" + w.src.APIKey}, []string{"--api-key-file", file("empty", "")}, exitUsage, "is empty"},
		{"file with only a newline", []string{base}, []string{"--api-key-file", file("newline", "\n")}, exitUsage, "is empty"},
		{"file with two lines", []string{base}, []string{"--api-key-file", file("two", w.src.APIKey+"\n\n")}, exitUsage, "API key must not contain control characters"},
		{"missing file", []string{base}, []string{"--api-key-file", filepath.Join(dir, "absent")}, exitError, "no such file"},
		// A key pasted where the file's path belongs is not repeated.
		{"a key in place of the path", []string{base}, []string{"--api-key-file", w.src.APIKey}, exitError, "no such file or directory (the value given looks like a key"},
		{"a key in place of the path, in a folder", []string{base}, []string{"--api-key-file", filepath.Join(dir, "absent", w.src.APIKey)}, exitError, "looks like a key"},
		{"an empty file named like a key", []string{base}, []string{"--api-key-file", file(w.src.APIKey, "")}, exitUsage, "--api-key-file: the file is empty"},
		{"no key at all", []string{base}, nil, exitUsage, "no API key: set PERSONA_API_KEY or pass --api-key-file FILE"},
	} {
		tc.check(t, runHiding(t, tc.env, []string{w.src.APIKey}, "", append([]string{"connections", "get", w.cxn}, tc.args...)...))
	}
}

// --debug logs every request on stderr through the SDK's logger, and never the key:
// not from the environment, not from a file, not on success or failure.
func TestDebugLogsRequestsButNeverTheKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(w.dst.APIKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.srv.FailNext("GET", "/events", 1, 502) // a retry, which the SDK logs too
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{w.as(w.src), []string{"--debug", "share-tokens", "get", tok.ID}},
		{w.as(w.src), []string{"share-tokens", "list", "--debug", "--json"}},
		{w.as(w.src), []string{"events", "list", "--debug"}},
		{w.as(w.src), []string{"share-tokens", "create", "--debug", "--connection", w.cxn, "--source", w.inq}},
		{w.as(w.src), []string{"share-tokens", "get", "cnst_absent", "--debug"}},
		{[]string{"PERSONA_BASE_URL=" + w.srv.URL}, []string{"share-tokens", "peek", tok.ID, "--debug", "--api-key-file", keyFile}},
	} {
		r := runHiding(t, tc.env, []string{w.src.APIKey, w.dst.APIKey, "Bearer"}, "", tc.args...)
		if !strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stderr, "request_id=req_") {
			t.Errorf("connect %s: no request log on stderr: %s", strings.Join(tc.args, " "), r)
		}
		if strings.Contains(r.stdout, "level=DEBUG") {
			t.Errorf("connect %s: debug lines on stdout: %s", strings.Join(tc.args, " "), r)
		}
	}
}
