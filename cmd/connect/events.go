package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// The events commands, on the SDK's EventsService: what happened, and what a webhook
// endpoint should have received.

func eventsListCmd() *command {
	return listCmd(&command{
		name:  "events list",
		args:  "[--name N]... [--object ID]... [--since 1h] [--limit N]",
		short: "list events, newest first",
		long: `Lists your organization's events, newest first: a table of id, name, the object the
event is about and creation time, or with --json an array of events with their payload.`,
		example: `connect events list --name connect/share-token.inbound-created --since 24h
connect events list --object cnst_ABC123 --json`,
	}, func(fs *flag.FlagSet) lister[*connect.Event] {
		limit := fs.Int("limit", defaultListLimit, "list at most `N` events; 0 lists all")
		var names, objects stringList
		fs.Var(&names, "name", "only events named `N` (repeatable)")
		fs.Var(&objects, "object", "only events about the object `ID` (repeatable)")
		since := durationFlag(fs, "since", 0, "only events created within this long before now, e.g. 1h or 7d (default: all)")
		return lister[*connect.Event]{
			limit: limit,
			check: func() error {
				if *since < 0 {
					return usagef("--since must not be negative")
				}
				return nil
			},
			list: func(ctx context.Context, c *connect.Client, pageSize int) iter.Seq2[*connect.Event, error] {
				params := &connect.ListEventsParams{ObjectIDs: objects, PageSize: pageSize}
				for _, n := range names {
					params.Names = append(params.Names, connect.EventName(n))
				}
				if *since > 0 {
					params.CreatedAfter = time.Now().Add(-*since)
				}
				return c.Events.List(ctx, params)
			},
		}
	}, listing[*connect.Event]{
		what: "events", header: []string{"ID", "NAME", "OBJECT", "CREATED"},
		row: func(ev *connect.Event) []string {
			return []string{ev.ID, string(ev.Name), orDash(ev.Object.ID), textTimeOf(ev.CreatedAt)}
		},
		toJSON: func(ev *connect.Event) any { return eventToJSON(ev) },
	})
}

func eventsGetCmd() *command {
	var delivery *bool
	cmd := byIDCmd(&command{
		name: "events get", args: "evt_.. [--delivery]", argName: "event id", short: "show one event with its payload",
		long: `Prints one event: its name, creation time, the object it is about and its payload.
With --delivery it prints instead the body Persona delivers to a webhook for it
({"data": <event>}, in kebab case), exactly and alone: a body to sign with
webhooks sign and send to your endpoint.`,
		example: `connect events get evt_ABC123 --json
connect events get evt_ABC123 --delivery > event.json`,
	}, func(c *connect.Client) *connect.EventsService { return c.Events }, (*connect.EventsService).Get,
		func(a *app, ev *connect.Event) error {
			if *delivery {
				return a.printDelivery(ev)
			}
			return a.printEvent(ev)
		}, false)
	setup := cmd.setup
	cmd.setup = func(fs *flag.FlagSet) runFunc {
		delivery = fs.Bool("delivery", false, "print the body a webhook delivery of the event carries, to sign with webhooks sign")
		return setup(fs)
	}
	return cmd
}

// printDelivery writes the body a delivery of ev carries, as listen forwards it: the
// bytes alone, so that a file of them is what gets signed and sent (a newline follows
// only on a terminal, where the prompt would otherwise join the line).
func (a *app) printDelivery(ev *connect.Event) error {
	body, err := deliveryBody(ev)
	if err != nil {
		return fmt.Errorf("connect: encode the delivery of %s: %w", ev.ID, err)
	}
	if isTerminal(a.stdout) {
		body = append(body, '\n')
	}
	_, err = a.stdout.Write(body)
	return err
}
