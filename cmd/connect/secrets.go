package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Where the command reads its secrets: the API key from --api-key-file or
// PERSONA_API_KEY, a webhook secret from the variable --secret-env names. Neither comes
// from a flag's value, which any user of the machine can read in the process list, and
// no message repeats one: stderr ends up in CI logs. That holds even when a secret was
// pasted where a name belongs, so a file's path or a variable's name is repeated only
// when it does not look like one.

// apiKey reads the key from --api-key-file (which wins, being explicit) or from
// PERSONA_API_KEY. A file loses one trailing newline, as editors and `echo` add one;
// an empty key is refused here rather than sent.
func (a *app) apiKey() (string, error) {
	if path := a.global.apiKeyFile; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			// The path's error, never the file's content; and not the path when a key
			// was given in its place.
			var pe *fs.PathError
			if looksLikeSecret(path) && errors.As(err, &pe) {
				return "", fmt.Errorf("connect: read --api-key-file: %v (the value given looks like a key: --api-key-file takes the path of a file that holds it)", pe.Err) // %v: see exitCode
			}
			return "", fmt.Errorf("connect: read --api-key-file: %v", err) // %v: see exitCode
		}
		key := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if strings.TrimSpace(key) == "" {
			if looksLikeSecret(path) {
				return "", usagef("--api-key-file: the file is empty")
			}
			return "", usagef("--api-key-file %s is empty", path)
		}
		return key, nil
	}
	if key := a.getenv(envAPIKey); key != "" {
		return key, nil
	}
	return "", usagef("no API key: set %s or pass --api-key-file FILE", envAPIKey)
}

// envName is what a portable environment variable's name is made of.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secretFrom reads a webhook secret from the environment variable name. The message
// for an unset one names the variable, never a value; a name that is not one, or that
// looks like a secret, is not repeated at all.
func (a *app) secretFrom(name string) (string, error) {
	if name == "" {
		return "", usagef("--secret-env is required")
	}
	if !envName.MatchString(name) || looksLikeSecret(name) {
		return "", usagef("--secret-env takes the name of the environment variable that holds the secret (letters, digits and _), not the secret")
	}
	secret := a.getenv(name)
	if secret == "" {
		return "", usagef("the environment variable %s (--secret-env) is unset or empty", strconv.Quote(name))
	}
	return secret, nil
}

// looksLikeSecret reports whether s, or the last element of a path s, begins as a
// Persona API key (persona_sandbox_..., persona_production_...) or a webhook secret
// (wbhsec_...) does.
func looksLikeSecret(s string) bool {
	s = strings.ToLower(s[strings.LastIndexAny(s, `/\`)+1:])
	for _, prefix := range []string{"persona_sandbox_", "persona_production_", "wbhsec_"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
