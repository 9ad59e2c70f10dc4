package connect

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ReplayResult counts what WebhookHandler.Replay did with the events it listed.
type ReplayResult struct {
	Ran          int // claimed and run, the function succeeded
	AlreadyDone  int // done before (delivered, or replayed): nothing ran
	Unregistered int // no function registered for the name: not claimed
}

// Replay feeds the events the organization's Events API lists as created at or after
// since (in since's millisecond or later: Persona's timestamps are whole milliseconds)
// through the handler, oldest first, with the same claims and functions as deliveries
// (see Process): use it after an outage longer than Persona's retries (about 51 hours),
// or to catch up a new endpoint. Events done before are skipped, so running Replay
// again, or on several replicas at once, runs nothing twice: as long as the Deduper
// still remembers them. It forgets a done event after its retention (72 hours by
// default: DefaultDedupeRetention, pgdedupe's and redisdedupe's WithRetention), and
// Replay would run such an event again. So choose since no earlier than the first
// event that did not run (the start of the outage), and before a catch-up that reaches
// further back than the retention, raise it.
//
// It stops at the first event that fails, with an error naming the event id (and
// wrapping the function's error, or ErrEventInProgress when another delivery is
// running that event right now), and returns the counts so far: the events after it
// wait for the next Replay, so they never run before an older one that failed. When
// ctx ends it stops the same way, before the next event, with an error wrapping
// ctx.Err().
//
// events is a Client's Events service; the listing's errors are returned as they come.
// A nil events, or a zero since (which would replay the organization's whole history),
// is an error wrapping ErrInvalidParams.
func (h *WebhookHandler) Replay(ctx context.Context, events *EventsService, since time.Time) (ReplayResult, error) {
	var res ReplayResult
	if events == nil {
		return res, invalidParam("events", "must not be nil")
	}
	if since.IsZero() {
		// A zero time would replay the organization's whole history: say so instead.
		return res, invalidParam("since", "must be set")
	}
	// since itself is in: an event created in the outage's first instant was missed
	// too (and since given as the first missed event's CreatedAt must not skip it),
	// while one delivered before is done in the Deduper and skipped. Persona's
	// timestamps are whole milliseconds, so an event listed in the millisecond since
	// falls in may have been made after it: the listing starts at that millisecond.
	// CreatedAfter is strict, hence the nanosecond before it.
	after := since.Truncate(time.Millisecond).Add(-time.Nanosecond)
	var list []*Event
	for ev, err := range events.List(ctx, &ListEventsParams{CreatedAfter: after, PageSize: maxPageSize}) {
		if err != nil {
			return res, wrapError("replay: list events", err)
		}
		list = append(list, ev)
	}
	// The API lists newest first; a stable sort by creation keeps the API's order
	// between events of the same instant, reversed, as the oldest-first order needs.
	slices.Reverse(list)
	slices.SortStableFunc(list, func(a, b *Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, ev := range list {
		// Checked here, not left to the Deduper and the functions, which may not look
		// at ctx (MemoryDeduper does not): a cancelled Replay stops before the next
		// event, which waits for the next Replay.
		if err := ctx.Err(); err != nil {
			return res, wrapError(fmt.Sprintf("replay stopped before event %s (%s)", ev.ID, printable(string(ev.Name))), err)
		}
		out, err := h.process(ctx, ev)
		if err != nil {
			return res, wrapError(fmt.Sprintf("replay stopped at event %s (%s)", ev.ID, printable(string(ev.Name))), err)
		}
		switch out {
		case outcomeRan:
			res.Ran++
		case outcomeDone:
			res.AlreadyDone++
		case outcomeUnregistered:
			res.Unregistered++
		}
	}
	return res, nil
}
