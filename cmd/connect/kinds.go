package main

import (
	"context"
	"flag"
	"iter"
	"strings"

	connect "github.com/persona-connect/connect-go"
)

// The kinds of command that several commands are, each made once: those that take an
// id and print what one call returns for it, and the lists.

// byIDCmd completes cmd as a command that takes one id and prints, with print, what
// call returns for it: a method, as a method expression, of the client's service that
// service picks. When isPost is set the call is a POST: the command takes
// --idempotency-key, and a failure says which key to retry with (see retrykey.go).
func byIDCmd[S, T any](cmd *command, service func(*connect.Client) S, call func(S, context.Context, string, ...connect.RequestOption) (T, error), print func(*app, T) error, isPost bool) *command {
	cmd.setup = func(fs *flag.FlagSet) runFunc {
		var key retryKey
		if isPost {
			key = idempotencyKeyFlag(fs)
		}
		return func(ctx context.Context, a *app, id string) error {
			var v T
			var err error
			if isPost {
				verb := cmd.name[strings.LastIndexByte(cmd.name, ' ')+1:] // "expire"
				v, err = post(a, key, "the "+verb, "and get its first answer, not an error about the state it left",
					func(c *connect.Client, idem connect.RequestOption) (T, error) { return call(service(c), ctx, id, idem) })
			} else {
				var c *connect.Client
				if c, err = a.client(); err == nil {
					v, err = call(service(c), ctx, id)
				}
			}
			if err != nil {
				return err
			}
			return print(a, v)
		}
	}
	return cmd
}

// shareTokenCmd completes cmd as a share-tokens command that takes a token id and
// prints the token that call, a ShareTokensService method, returns for it; post says
// that call is a POST.
func shareTokenCmd(cmd *command, call func(*connect.ShareTokensService, context.Context, string, ...connect.RequestOption) (*connect.ShareToken, error), post bool) *command {
	cmd.argName = "share token id"
	return byIDCmd(cmd, func(c *connect.Client) *connect.ShareTokensService { return c.ShareTokens }, call, (*app).printShareToken, post)
}

// connectionCmd completes cmd as a connections command that takes a connection id and
// prints the connection that call, a ConnectionsService method, returns for it; post
// says that call is a POST.
func connectionCmd(cmd *command, call func(*connect.ConnectionsService, context.Context, string, ...connect.RequestOption) (*connect.Connection, error), post bool) *command {
	cmd.argName = "connection id"
	return byIDCmd(cmd, func(c *connect.Client) *connect.ConnectionsService { return c.Connections }, call, (*app).printConnection, post)
}

// lister is a list command once its flags are defined: limit is its --limit (print at
// most that many; 0 prints all), check (nil for none) refuses flag values that cannot
// hold before the API key is read, and list lists by the other flags with a client and
// a page size.
type lister[T any] struct {
	limit *int
	check func() error
	list  func(ctx context.Context, c *connect.Client, pageSize int) iter.Seq2[T, error]
}

// listCmd completes cmd as a list command: flags defines its flags and returns its
// lister, and l prints what it lists.
func listCmd[T any](cmd *command, flags func(*flag.FlagSet) lister[T], l listing[T]) *command {
	cmd.setup = func(fs *flag.FlagSet) runFunc {
		ls := flags(fs)
		return func(ctx context.Context, a *app, _ string) error {
			if ls.check != nil {
				if err := ls.check(); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return printSeq(a, l, ls.list(ctx, c, pageSize(*ls.limit)), *ls.limit)
		}
	}
	return cmd
}
