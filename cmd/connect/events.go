package main

import (
	"context"
	"flag"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// The events commands, on the SDK's EventsService: what happened, and what a webhook
// endpoint should have received.

func eventsListCmd() *command {
	return &command{
		name:  "events list",
		args:  "[--name N]... [--object ID]... [--since 1h] [--limit N]",
		short: "list events, newest first",
		long: `Lists your organization's events, newest first: a table of id, name, the object the
event is about and creation time, or with --json an array of events with their payload.`,
		example: `connect events list --name connect/share-token.inbound-created --since 24h
connect events list --object cnst_ABC123 --json`,
		setup: func(fs *flag.FlagSet) runFunc {
			var names, objects stringList
			fs.Var(&names, "name", "only events named `N` (repeatable)")
			fs.Var(&objects, "object", "only events about the object `ID` (repeatable)")
			since := fs.Duration("since", 0, "only events created within this long before now (default: all)")
			limit := fs.Int("limit", defaultListLimit, "list at most `N` events; 0 lists all")
			return func(ctx context.Context, a *app, _ string) error {
				if *since < 0 {
					return usagef("--since must not be negative")
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				params := &connect.ListEventsParams{ObjectIDs: objects, PageSize: pageSize(*limit)}
				for _, n := range names {
					params.Names = append(params.Names, connect.EventName(n))
				}
				if *since > 0 {
					params.CreatedAfter = time.Now().Add(-*since)
				}
				return printSeq(a, "events", c.Events.List(ctx, params), *limit, []string{"ID", "NAME", "OBJECT", "CREATED"},
					func(ev *connect.Event) any { return eventToJSON(ev) },
					func(ev *connect.Event) []string {
						return []string{ev.ID, string(ev.Name), orDash(ev.Object.ID), textTimeOf(ev.CreatedAt)}
					})
			}
		},
	}
}

func eventsGetCmd() *command {
	return byIDCmd(&command{
		name: "events get", args: "evt_..", short: "show one event with its payload",
		long:    "Prints one event: its name, creation time, the object it is about and its payload.",
		example: "connect events get evt_ABC123 --json",
	}, "event id", func(ctx context.Context, c *connect.Client, id string) (*connect.Event, error) {
		return c.Events.Get(ctx, id)
	}, (*app).printEvent)
}
