package main

import (
	"context"
	"flag"

	connect "github.com/persona-connect/connect-go"
)

// The connections commands, on the SDK's ConnectionsService.

func connectionsListCmd() *command {
	return &command{
		name:  "connections list",
		args:  "[--status S] [--destination-org org_..] [--limit N]",
		short: "list connections, newest first",
		long: `Lists the connections your organization is a side of, newest first: a table of id,
status, source and destination organization and creation time, or with --json an array.`,
		example: "connect connections list --status active",
		setup: func(fs *flag.FlagSet) runFunc {
			status := fs.String("status", "", "only connections in status `S`: pending, active or inactive")
			destination := fs.String("destination-org", "", "only connections to this destination `org_..`")
			limit := fs.Int("limit", defaultListLimit, "list at most `N` connections; 0 lists all")
			return func(ctx context.Context, a *app, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *limit < 0 {
					return usagef("--limit must not be negative")
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				seq := c.Connections.List(ctx, &connect.ListConnectionsParams{
					Status: connect.ConnectionStatus(*status), DestinationOrganizationID: *destination,
					PageSize: pageSize(*limit),
				})
				var items []any
				var rows [][]string
				for cxn, err := range seq {
					if err != nil {
						return err
					}
					items = append(items, connectionToJSON(cxn))
					rows = append(rows, []string{cxn.ID, string(cxn.Status), cxn.SourceOrganizationID,
						cxn.DestinationOrganizationID, textTimeOf(cxn.CreatedAt)})
					if len(rows) == *limit {
						break
					}
				}
				return a.printList("connections", items,
					[]string{"ID", "STATUS", "SOURCE", "DESTINATION", "CREATED"}, rows)
			}
		},
	}
}

// connectionByIDCmd is a command that takes one connection id and prints the
// connection that call returns.
func connectionByIDCmd(verb, short, long, example string, call func(*connect.ConnectionsService, context.Context, string) (*connect.Connection, error)) *command {
	return &command{
		name: "connections " + verb, args: "cxn_..", short: short, long: long, example: example,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				id, err := oneArg(args, "connection id")
				if err != nil {
					return err
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				cxn, err := call(c.Connections, ctx, id)
				if err != nil {
					return err
				}
				return a.printConnection(cxn)
			}
		},
	}
}

func connectionsGetCmd() *command {
	return connectionByIDCmd("get", "show a connection",
		"Prints one connection: its status and its source and destination organizations.",
		"connect connections get cxn_ABC123",
		func(s *connect.ConnectionsService, ctx context.Context, id string) (*connect.Connection, error) {
			return s.Get(ctx, id)
		})
}

func connectionsDeactivateCmd() *command {
	return connectionByIDCmd("deactivate", "stop sharing through a connection",
		`Deactivates a pending or active connection (either side may): no token can be
created or redeemed over it until it is reactivated and accepted again.`,
		"connect connections deactivate cxn_ABC123",
		func(s *connect.ConnectionsService, ctx context.Context, id string) (*connect.Connection, error) {
			return s.Deactivate(ctx, id)
		})
}

func connectionsReactivateCmd() *command {
	return connectionByIDCmd("reactivate", "return an inactive connection to pending (source organization)",
		`Reactivates an inactive connection: it becomes pending until the destination accepts
it again in Persona's dashboard.`,
		"connect connections reactivate cxn_ABC123",
		func(s *connect.ConnectionsService, ctx context.Context, id string) (*connect.Connection, error) {
			return s.Reactivate(ctx, id)
		})
}

func connectionsCreateCmd() *command {
	return &command{
		name:  "connections create",
		args:  "--destination-org org_..",
		short: "ask another organization for a connection",
		long: `Creates a pending connection from your organization to a destination organization
and prints it. It becomes active when the destination accepts it in Persona's
dashboard; then share tokens can be created over it.`,
		example: "connect connections create --destination-org org_XYZ789",
		setup: func(fs *flag.FlagSet) runFunc {
			destination := fs.String("destination-org", "", "the destination `org_..`, the organization that will receive data (required)")
			return func(ctx context.Context, a *app, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *destination == "" {
					return usagef("--destination-org is required")
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				cxn, err := c.Connections.Create(ctx, connect.CreateConnectionParams{DestinationOrganizationID: *destination})
				if err != nil {
					return err
				}
				return a.printConnection(cxn)
			}
		},
	}
}
