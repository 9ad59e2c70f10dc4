package main

import (
	"context"
	"flag"
	"iter"

	connect "github.com/persona-connect/connect-go"
)

// The connections commands, on the SDK's ConnectionsService.

func connectionsListCmd() *command {
	return listCmd(&command{
		name:  "connections list",
		args:  "[--status S] [--destination-org org_..] [--limit N]",
		short: "list connections, newest first",
		long: `Lists the connections your organization is a side of, newest first: a table of id,
status, source and destination organization and creation time, or with --json an array.`,
		example: "connect connections list --status active",
	}, func(fs *flag.FlagSet) lister[*connect.Connection] {
		limit := fs.Int("limit", defaultListLimit, "list at most `N` connections; 0 lists all")
		status := fs.String("status", "", "only connections in status `S`: pending, active or inactive")
		destination := fs.String("destination-org", "", "only connections to this destination `org_..`")
		return lister[*connect.Connection]{limit: limit, list: func(ctx context.Context, c *connect.Client, pageSize int) iter.Seq2[*connect.Connection, error] {
			return c.Connections.List(ctx, &connect.ListConnectionsParams{
				Status: connect.ConnectionStatus(*status), DestinationOrganizationID: *destination, PageSize: pageSize,
			})
		}}
	}, listing[*connect.Connection]{
		what: "connections", header: []string{"ID", "STATUS", "SOURCE", "DESTINATION", "CREATED"},
		row: func(cxn *connect.Connection) []string {
			return []string{cxn.ID, string(cxn.Status), cxn.SourceOrganizationID, cxn.DestinationOrganizationID, textTimeOf(cxn.CreatedAt)}
		},
		toJSON: func(cxn *connect.Connection) any { return connectionToJSON(cxn) },
	})
}

func connectionsGetCmd() *command {
	return connectionCmd(&command{
		name: "connections get", args: "cxn_..", short: "show a connection",
		long:    "Prints one connection: its status and its source and destination organizations.",
		example: "connect connections get cxn_ABC123",
	}, (*connect.ConnectionsService).Get, false)
}

func connectionsDeactivateCmd() *command {
	return connectionCmd(&command{
		name: "connections deactivate", args: "cxn_.. [--idempotency-key K]", short: "stop sharing through a connection",
		long: `Deactivates a pending or active connection (either side may): no token can be
created or redeemed over it until it is reactivated and accepted again.`,
		example: "connect connections deactivate cxn_ABC123",
	}, (*connect.ConnectionsService).Deactivate, true)
}

func connectionsReactivateCmd() *command {
	return connectionCmd(&command{
		name: "connections reactivate", args: "cxn_.. [--idempotency-key K]", short: "return an inactive connection to pending (source organization)",
		long: `Reactivates an inactive connection: it becomes pending until the destination accepts
it again in Persona's dashboard.`,
		example: "connect connections reactivate cxn_ABC123",
	}, (*connect.ConnectionsService).Reactivate, true)
}

func connectionsCreateCmd() *command {
	return &command{
		name:  "connections create",
		args:  "--destination-org org_.. [--idempotency-key K]",
		short: "ask another organization for a connection",
		long: `Creates a pending connection from your organization to a destination organization
and prints it. It becomes active when the destination accepts it in Persona's
dashboard; then share tokens can be created over it.`,
		example: "connect connections create --destination-org org_XYZ789",
		setup: func(fs *flag.FlagSet) runFunc {
			destination := fs.String("destination-org", "", "the destination `org_..`, the organization that will receive data (required)")
			idempotencyKey := idempotencyKeyFlag(fs)
			return func(ctx context.Context, a *app, _ string) error {
				if *destination == "" {
					return usagef("--destination-org is required")
				}
				params := connect.CreateConnectionParams{DestinationOrganizationID: *destination}
				cxn, err := post(a, idempotencyKey, "the create", "without asking for a second connection",
					func(c *connect.Client, key connect.RequestOption) (*connect.Connection, error) {
						return c.Connections.Create(ctx, params, key)
					})
				if err != nil {
					return err
				}
				return a.printConnection(cxn)
			}
		},
	}
}
