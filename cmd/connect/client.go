package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"

	connect "github.com/persona-connect/connect-go"
)

// Environment variables the command reads.
const (
	envAPIKey  = "PERSONA_API_KEY"
	envBaseURL = "PERSONA_BASE_URL"
)

// app is one run of the command: its streams, its environment and the global flags.
type app struct {
	stdin  io.Reader
	stdout io.Writer // data only
	stderr io.Writer // usage, progress, errors, debug lines
	getenv func(string) string
	global globalFlags
}

// client builds the SDK client every API command uses. The key comes from
// --api-key-file or PERSONA_API_KEY, never from a flag's value (which any user of the
// machine can read in the process list), and is never printed: the SDK keeps it out of
// its errors and its debug lines.
func (a *app) client() (*connect.Client, error) {
	key, err := a.apiKey()
	if err != nil {
		return nil, err
	}
	opts := []connect.Option{connect.WithUserAgent("connect-cli/" + connect.Version)}
	base := a.global.baseURL
	if base == "" {
		base = a.getenv(envBaseURL)
	}
	if base != "" {
		opts = append(opts, connect.WithBaseURL(base))
	}
	if a.global.debug {
		h := slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		opts = append(opts, connect.WithLogger(slog.New(h)))
	}
	return connect.New(key, opts...)
}

// isTerminal reports whether w is a terminal, by the character-device bit of its mode
// (os.File.Stat; no dependency). Pipes, files and test buffers are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// randomHex128 makes 128 random bits in hex: an idempotency key, as the SDK makes one
// for a call without it, or the body of a generated webhook secret.
func randomHex128() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("connect: read random bytes: %v", err) // %v: see exitCode
	}
	return hex.EncodeToString(b[:]), nil
}
