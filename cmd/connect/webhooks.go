package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// The webhooks commands sign and verify Persona-Signature values on the SDK's
// SignHeader and Verifier, to test a webhook endpoint by hand or check a captured
// delivery. Secrets are read from the environment, never from a flag's value, and
// never printed; neither is a signature in an error.

func webhooksSignCmd() *command {
	return &command{
		name:  "webhooks sign",
		args:  "--secret-env VAR [--time UNIX] < body",
		short: "print a Persona-Signature value for a body",
		long: `Reads a request body from stdin, exactly as it will be sent (mind the newline echo
adds), and prints the Persona-Signature header value Persona would send with it,
signed with the webhook secret in the environment variable VAR at --time (default
now).`,
		example: `export WEBHOOK_SECRET=wbhsec_...
connect events get evt_ABC123 --delivery > event.json
sig=$(connect webhooks sign --secret-env WEBHOOK_SECRET < event.json)
curl -H "Persona-Signature: $sig" -H 'Content-Type: application/json' --data-binary @event.json http://localhost:8080/webhooks/persona`,
		setup: func(fs *flag.FlagSet) runFunc {
			secretEnv := fs.String("secret-env", "", "sign with the webhook secret in the environment variable `VAR` (required)")
			at := fs.Int64("time", 0, "sign at this time `UNIX`, in seconds since 1970 (default now)")
			return func(ctx context.Context, a *app, _ string) error {
				secret, err := a.secretFrom(*secretEnv)
				if err != nil {
					return err
				}
				body, err := io.ReadAll(a.stdin)
				if err != nil {
					return fmt.Errorf("connect: read the body from stdin: %v", err) // %v: see exitCode
				}
				t := time.Now()
				if *at != 0 {
					t = time.Unix(*at, 0)
				}
				_, err = fmt.Fprintln(a.stdout, connect.SignHeader(body, secret, t))
				return err
			}
		},
	}
}

func webhooksVerifyCmd() *command {
	return &command{
		name:  "webhooks verify",
		args:  "--secret-env VAR --header VALUE [--tolerance 5m] < body",
		short: "check a Persona-Signature value against a body",
		long: `Reads a request body from stdin, exactly as received, and checks the
Persona-Signature header value given with --header against the webhook secret in the
environment variable VAR, as a webhook endpoint does. Exits 0 when it is valid, and 6
with the reason (missing, malformed, no valid signature, timestamp outside the
tolerance) when it is not. Repeat --secret-env while you rotate a secret.`,
		example: `connect webhooks verify --secret-env WEBHOOK_SECRET --header "$sig" < event.json`,
		setup: func(fs *flag.FlagSet) runFunc {
			var secretEnvs stringList
			fs.Var(&secretEnvs, "secret-env", "check against the webhook secret in the environment variable `VAR` (required; repeatable)")
			var header string
			headerGiven := false
			fs.Func("header", "the Persona-Signature header's `VALUE` (required)", func(v string) error {
				header, headerGiven = v, true
				return nil
			})
			tolerance := fs.Duration("tolerance", connect.DefaultTolerance, "how far the signed time may lie from now, either way")
			return func(ctx context.Context, a *app, _ string) error {
				if len(secretEnvs) == 0 || !headerGiven {
					return usagef("--secret-env and --header are required")
				}
				if *tolerance <= 0 {
					return usagef("--tolerance must be positive")
				}
				secrets := make([]string, len(secretEnvs))
				for i, name := range secretEnvs {
					s, err := a.secretFrom(name)
					if err != nil {
						return err
					}
					secrets[i] = s
				}
				v, err := connect.NewVerifier(secrets, connect.WithTolerance(*tolerance))
				if err != nil {
					return err
				}
				body, err := io.ReadAll(a.stdin)
				if err != nil {
					return fmt.Errorf("connect: read the body from stdin: %v", err) // %v: see exitCode
				}
				if err := v.Verify(body, header); err != nil {
					return &signatureError{err: err}
				}
				fmt.Fprintln(a.stderr, "connect: the signature is valid")
				return nil
			}
		},
	}
}
