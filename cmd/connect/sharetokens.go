package main

import (
	"context"
	"errors"
	"flag"
	"iter"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// The share-tokens commands: Persona's Dashboard path for one-off shares, on the SDK's
// ShareTokensService.

func shareTokensCreateCmd() *command {
	return &command{
		name:  "share-tokens create",
		args:  "--connection cxn_.. --source inq_.. [--expires-in 24h] [--idempotency-key K]",
		short: "create a share token (source organization)",
		long: `Creates a share token over an active connection, letting the connection's
destination organization copy the source object (an inquiry, account, transaction or
verification), and prints it. Send its id to the destination, or let its webhook pick
it up.

Every create carries an Idempotency-Key. When a create fails, the key it was sent with
is printed: pass it back with --idempotency-key to retry without risking a second token
(Persona replays the first answer to a key for 24 hours).`,
		example: "connect share-tokens create --connection cxn_ABC123 --source inq_ABC123 --expires-in 24h",
		setup: func(fs *flag.FlagSet) runFunc {
			connection := fs.String("connection", "", "share over this active `cxn_..` connection (required)")
			source := fs.String("source", "", "share this `inq_..` object, or an act_, txn_ or ver_ one (required)")
			expiresIn := durationFlag(fs, "expires-in", 0, "the token's time to live, 1m to 21d in whole seconds, e.g. 24h or 7d (default Persona's, 14d)")
			idempotencyKey := idempotencyKeyFlag(fs)
			return func(ctx context.Context, a *app, _ string) error {
				if *connection == "" || *source == "" {
					return usagef("--connection and --source are required")
				}
				params := connect.CreateShareTokenParams{ConnectionID: *connection, SourceID: *source, ExpiresIn: *expiresIn}
				tok, err := post(a, idempotencyKey, "the create", "without making a second token",
					func(c *connect.Client, key connect.RequestOption) (*connect.ShareToken, error) {
						return c.ShareTokens.Create(ctx, params, key)
					})
				if err != nil {
					return err
				}
				return a.printShareToken(tok)
			}
		},
	}
}

func shareTokensGetCmd() *command {
	return shareTokenCmd(&command{
		name: "share-tokens get", args: "cnst_..", short: "show a share token as your organization sees it",
		long: `Prints a share token as the calling organization sees it: its status, its direction
(outbound for the source, inbound for the destination) and its relationships.`,
		example: "connect share-tokens get cnst_ABC123",
	}, (*connect.ShareTokensService).Get, false)
}

func shareTokensPeekCmd() *command {
	return shareTokenCmd(&command{
		name: "share-tokens peek", args: "cnst_..", short: "show a token with its source data (destination organization)",
		long: `Prints a share token with source-data, the PII-filtered snapshot of the source
object Persona shows a destination organization with the peek capability, so that you
can decide whether to redeem it. The snapshot is end-user data: handle the output
accordingly.`,
		example: "connect share-tokens peek cnst_ABC123 --json",
	}, (*connect.ShareTokensService).Peek, false)
}

func shareTokensExpireCmd() *command {
	return shareTokenCmd(&command{
		name: "share-tokens expire", args: "cnst_.. [--idempotency-key K]", short: "expire a created token before its time (source organization)",
		long: `Ends a share token that has not been redeemed, before its time to live runs out.
Only the source organization may expire a token.`,
		example: "connect share-tokens expire cnst_ABC123",
	}, (*connect.ShareTokensService).Expire, true)
}

func shareTokensRedeemCmd() *command {
	return &command{
		name:    "share-tokens redeem",
		args:    "cnst_.. [--destination inq_..] [--map SOURCE_FIELD=DEST_FIELD]... [--idempotency-key K]",
		argName: "share token id",
		short:   "start redeeming a token (destination organization)",
		long: `Starts the redemption of a share token and prints it, pending. Without
--destination the source is cloned into a new object (inquiry and verification
sources); with it, the source's data hydrates that existing account, transaction or
inquiry, and each --map copies a source field into a destination field of another name.
Redemption is asynchronous: follow it with "connect share-tokens wait".`,
		example: `connect share-tokens redeem cnst_ABC123
connect share-tokens redeem cnst_ABC123 --destination inq_XYZ789 --map address_street_1=street_address`,
		setup: func(fs *flag.FlagSet) runFunc {
			destination := fs.String("destination", "", "hydrate this existing `inq_..` object, or an act_ or txn_ one (default: clone)")
			var mappings []connect.FieldMapping
			fs.Func("map", "copy a source field into a destination field: `SOURCE_FIELD=DEST_FIELD` (repeatable; hydrate only)", func(v string) error {
				src, dst, ok := strings.Cut(v, "=")
				if !ok || strings.TrimSpace(src) == "" || strings.TrimSpace(dst) == "" {
					return errors.New("want SOURCE_FIELD=DEST_FIELD")
				}
				mappings = append(mappings, connect.FieldMapping{SourceFieldName: src, DestinationFieldName: dst})
				return nil
			})
			idempotencyKey := idempotencyKeyFlag(fs)
			return func(ctx context.Context, a *app, id string) error {
				params := connect.RedeemShareTokenParams{DestinationID: *destination, FieldMappings: mappings}
				tok, err := post(a, idempotencyKey, "the redeem", "and get its first answer, not an error about the state it left",
					func(c *connect.Client, key connect.RequestOption) (*connect.ShareToken, error) {
						return c.ShareTokens.Redeem(ctx, id, params, key)
					})
				if err != nil {
					return err
				}
				return a.printShareToken(tok)
			}
		},
	}
}

func shareTokensListCmd() *command {
	return listCmd(&command{
		name:  "share-tokens list",
		args:  "[--connection cxn_..] [--status S] [--direction D] [--limit N]",
		short: "list share tokens, newest first",
		long: `Lists the share tokens your organization can see, in both directions, newest
first: a table of id, status, direction, connection and creation time, or with --json an
array of tokens.`,
		example: `connect share-tokens list --status created --direction outbound
connect share-tokens list --connection cxn_ABC123 --limit 0 --json`,
	}, func(fs *flag.FlagSet) lister[*connect.ShareToken] {
		limit := fs.Int("limit", defaultListLimit, "list at most `N` tokens; 0 lists all")
		connection := fs.String("connection", "", "only tokens of this `cxn_..` connection")
		status := fs.String("status", "", "only tokens in status `S`: created, pending, redeemed, expired or failed")
		direction := fs.String("direction", "", "only tokens in direction `D`: outbound (you are the source) or inbound")
		return lister[*connect.ShareToken]{limit: limit, list: func(ctx context.Context, c *connect.Client, pageSize int) iter.Seq2[*connect.ShareToken, error] {
			return c.ShareTokens.List(ctx, &connect.ListShareTokensParams{
				ConnectionID: *connection, Status: connect.ShareTokenStatus(*status),
				Direction: connect.Direction(*direction), PageSize: pageSize,
			})
		}}
	}, listing[*connect.ShareToken]{
		what: "share tokens", header: []string{"ID", "STATUS", "DIRECTION", "CONNECTION", "CREATED"},
		row: func(tok *connect.ShareToken) []string {
			return []string{tok.ID, string(tok.Status), string(tok.Direction), orDash(tok.ConnectionID), textTimeOf(tok.CreatedAt)}
		},
		toJSON: func(tok *connect.ShareToken) any { return shareTokenToJSON(tok) },
	})
}

func shareTokensWaitCmd() *command {
	return &command{
		name:    "share-tokens wait",
		args:    "cnst_.. [--timeout 10m]",
		argName: "share token id",
		short:   "wait until a token is redeemed, expired or failed",
		long: `Polls a share token until it is redeemed, expired or failed, and prints it. Progress
goes to stderr: one status line rewritten in place at a terminal, a line per change of
status otherwise. A failed or expired token is printed and exits 0: check its status.
When --timeout passes first, it exits 5.`,
		example: `connect share-tokens redeem cnst_ABC123 && connect share-tokens wait cnst_ABC123 --timeout 2m`,
		setup: func(fs *flag.FlagSet) runFunc {
			timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long and exit 5")
			return func(ctx context.Context, a *app, id string) error {
				if *timeout <= 0 {
					return usagef("--timeout must be positive")
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				tok, err := a.waitForToken(ctx, c, id, *timeout)
				if err != nil {
					return err
				}
				return a.printShareToken(tok)
			}
		},
	}
}
