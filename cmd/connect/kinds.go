package main

import (
	"context"
	"flag"
	"iter"

	connect "github.com/persona-connect/connect-go"
)

// The kinds of command that several commands are, each made once: those that take an
// id and print what one call returns for it, and the lists.

// byIDCmd completes cmd as a command that takes one id and prints, with print, what
// call returns for it: a method, as a method expression, of the client's service that
// service picks.
func byIDCmd[S, T any](cmd *command, service func(*connect.Client) S, call func(S, context.Context, string, ...connect.RequestOption) (T, error), print func(*app, T) error) *command {
	cmd.setup = func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, a *app, id string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			v, err := call(service(c), ctx, id)
			if err != nil {
				return err
			}
			return print(a, v)
		}
	}
	return cmd
}

// shareTokenCmd completes cmd as a share-tokens command that takes a token id and
// prints the token that call, a ShareTokensService method, returns for it.
func shareTokenCmd(cmd *command, call func(*connect.ShareTokensService, context.Context, string, ...connect.RequestOption) (*connect.ShareToken, error)) *command {
	cmd.argName = "share token id"
	return byIDCmd(cmd, func(c *connect.Client) *connect.ShareTokensService { return c.ShareTokens }, call, (*app).printShareToken)
}

// connectionCmd completes cmd as a connections command that takes a connection id and
// prints the connection that call, a ConnectionsService method, returns for it.
func connectionCmd(cmd *command, call func(*connect.ConnectionsService, context.Context, string, ...connect.RequestOption) (*connect.Connection, error)) *command {
	cmd.argName = "connection id"
	return byIDCmd(cmd, func(c *connect.Client) *connect.ConnectionsService { return c.Connections }, call, (*app).printConnection)
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
