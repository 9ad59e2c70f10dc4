package main

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"
	"text/tabwriter"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/safetext"
)

// Output: a table for lists and a key/value block for one resource, or with --json one
// JSON object per resource and an array for lists. Keys are Persona's attribute names
// (kebab case); a relationship to one object becomes "<name>-id" when only its id
// matters (connection-id, as the create request names it) and a {"type", "id"} object
// otherwise. Absent timestamps and enums are null, as Persona sends them, so that a
// script sees the same keys on every resource.

// jsonTime formats a time as Persona does: UTC with milliseconds.
const jsonTime = "2006-01-02T15:04:05.000Z07:00"

// textTime is the shorter form the tables and key/value blocks use.
const textTime = time.RFC3339

func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(jsonTime)
	return &s
}

func timePtrJSON(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return timeJSON(*t)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// shareTokenJSON is a share token as --json prints it.
type shareTokenJSON struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Status        string          `json:"status"`
	Direction     string          `json:"direction"`
	RedeemMode    *string         `json:"redeem-mode"`
	FailureReason *string         `json:"failure-reason"`
	ConnectionID  *string         `json:"connection-id"`
	Creator       *connect.Ref    `json:"creator"`
	Source        *connect.Ref    `json:"source"`
	Destination   *connect.Ref    `json:"destination"`
	CreatedAt     *string         `json:"created-at"`
	UpdatedAt     *string         `json:"updated-at"`
	PendingAt     *string         `json:"pending-at"`
	RedeemedAt    *string         `json:"redeemed-at"`
	ExpiresAt     *string         `json:"expires-at"`
	FailedAt      *string         `json:"failed-at"`
	SourceData    json.RawMessage `json:"source-data,omitempty"` // peek only
}

func shareTokenToJSON(t *connect.ShareToken) shareTokenJSON {
	return shareTokenJSON{
		ID: t.ID, Type: "connect/share-token", Status: string(t.Status), Direction: string(t.Direction),
		RedeemMode: nullable(string(t.RedeemMode)), FailureReason: nullable(string(t.FailureReason)),
		ConnectionID: nullable(t.ConnectionID),
		Creator:      t.Creator, Source: t.Source, Destination: t.Destination,
		CreatedAt: timeJSON(t.CreatedAt), UpdatedAt: timeJSON(t.UpdatedAt),
		PendingAt: timePtrJSON(t.PendingAt), RedeemedAt: timePtrJSON(t.RedeemedAt),
		ExpiresAt: timePtrJSON(t.ExpiresAt), FailedAt: timePtrJSON(t.FailedAt),
		SourceData: t.SourceData,
	}
}

// connectionJSON is a connection as --json prints it.
type connectionJSON struct {
	ID                        string       `json:"id"`
	Type                      string       `json:"type"`
	Status                    string       `json:"status"`
	SourceOrganizationID      string       `json:"source-organization-id"`
	DestinationOrganizationID string       `json:"destination-organization-id"`
	Creator                   *connect.Ref `json:"creator"`
	CreatedAt                 *string      `json:"created-at"`
	UpdatedAt                 *string      `json:"updated-at"`
}

func connectionToJSON(c *connect.Connection) connectionJSON {
	return connectionJSON{
		ID: c.ID, Type: "connect/connection", Status: string(c.Status),
		SourceOrganizationID: c.SourceOrganizationID, DestinationOrganizationID: c.DestinationOrganizationID,
		Creator: c.Creator, CreatedAt: timeJSON(c.CreatedAt), UpdatedAt: timeJSON(c.UpdatedAt),
	}
}

// eventJSON is an event as --json prints it: Persona's event resource with its
// attributes lifted up (name, created-at, payload, context). An event has no status.
type eventJSON struct {
	ID        string       `json:"id"`
	Type      string       `json:"type"`
	Name      string       `json:"name"`
	CreatedAt *string      `json:"created-at"`
	Object    *connect.Ref `json:"object"` // payload.data's type and id, as the table's OBJECT column; null without one
	Payload   eventPayload `json:"payload"`
	Context   rawOrEmpty   `json:"context"`
}

// eventPayload is an event's payload: the object as the organization saw it.
type eventPayload struct {
	Data     json.RawMessage   `json:"data"`
	Included []json.RawMessage `json:"included"`
}

// rawOrEmpty is verbatim JSON that prints as {} when absent, as Persona's context does.
type rawOrEmpty json.RawMessage

func (r rawOrEmpty) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("{}"), nil
	}
	return r, nil
}

func eventToJSON(e *connect.Event) eventJSON {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	included := e.Included
	if included == nil {
		included = []json.RawMessage{}
	}
	var object *connect.Ref
	if e.Object.ID != "" {
		object = &connect.Ref{Type: e.Object.Type, ID: e.Object.ID}
	}
	return eventJSON{
		ID: e.ID, Type: "event", Name: string(e.Name), CreatedAt: timeJSON(e.CreatedAt), Object: object,
		Payload: eventPayload{Data: data, Included: included}, Context: rawOrEmpty(e.Context),
	}
}

// printJSON writes v as one line of compact JSON, so that a script can read one
// resource per line and any JSON tool reads the whole.
func printJSON(w io.Writer, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("connect: encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printResource prints one resource: JSON, or the key/value pairs of text. Text escapes
// what Persona sent (printList's cells too): a value holding ESC or a line break would
// otherwise recolour the terminal or forge a line. JSON escapes control characters
// itself.
func (a *app) printResource(v any, pairs [][2]string) error {
	if a.global.json {
		return printJSON(a.stdout, v)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, p := range pairs {
		if p[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", p[0], safetext.Escape(p[1]))
		}
	}
	return tw.Flush()
}

// defaultListLimit keeps a list at a terminal to a screenful; --limit 0 lists all.
const defaultListLimit = 20

// pageSize asks for no more than a list will print, within the API's 1..100.
func pageSize(limit int) int {
	if limit <= 0 || limit > 100 {
		return 100
	}
	return limit
}

// listing is how a list command prints one kind of resource: a table of columns, or
// with --json an array of objects.
type listing[T any] struct {
	what   string           // the resources, as "connect: no share tokens" says an empty list
	header []string         // the table's columns
	row    func(T) []string // a resource's cells, in the order of header
	toJSON func(T) any      // a resource as --json prints it
}

// printSeq prints the first limit resources of seq (all for 0) as l says. The listing
// stops with the first error, and nothing is printed then: half a JSON array would not
// parse.
func printSeq[T any](a *app, l listing[T], seq iter.Seq2[T, error], limit int) error {
	if limit < 0 {
		return usagef("--limit must not be negative")
	}
	var items []any
	var rows [][]string
	for v, err := range seq {
		if err != nil {
			return err
		}
		items = append(items, l.toJSON(v))
		rows = append(rows, l.row(v))
		if len(rows) == limit {
			break
		}
	}
	return a.printList(l.what, items, l.header, rows)
}

// printList prints a list: a JSON array, or a table with a header row. An empty list is
// an empty array, or in text a note on stderr (stdout stays empty for scripts).
func (a *app) printList(what string, items []any, header []string, rows [][]string) error {
	if a.global.json {
		if items == nil {
			items = []any{}
		}
		return printJSON(a.stdout, items)
	}
	if len(rows) == 0 {
		fmt.Fprintf(a.stderr, "connect: no %s\n", what)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = safetext.Escape(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func textTimeOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(textTime)
}

func textTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return textTimeOf(*t)
}

func refText(r *connect.Ref) string {
	if r == nil || r.ID == "" {
		return ""
	}
	return r.Type + " " + r.ID
}

// orDash fills an empty table cell, so that columns stay readable.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shareTokenPairs(t *connect.ShareToken) [][2]string {
	pairs := [][2]string{
		{"id", t.ID}, {"status", string(t.Status)}, {"direction", string(t.Direction)},
		{"redeem-mode", string(t.RedeemMode)}, {"failure-reason", string(t.FailureReason)},
		{"connection", t.ConnectionID}, {"source", refText(t.Source)},
		{"destination", refText(t.Destination)}, {"creator", refText(t.Creator)},
		{"created-at", textTimeOf(t.CreatedAt)}, {"updated-at", textTimeOf(t.UpdatedAt)},
		{"pending-at", textTimePtr(t.PendingAt)}, {"redeemed-at", textTimePtr(t.RedeemedAt)},
		{"expires-at", textTimePtr(t.ExpiresAt)}, {"failed-at", textTimePtr(t.FailedAt)},
	}
	if len(t.SourceData) > 0 {
		pairs = append(pairs, [2]string{"source-data", string(t.SourceData)})
	}
	return pairs
}

func connectionPairs(c *connect.Connection) [][2]string {
	return [][2]string{
		{"id", c.ID}, {"status", string(c.Status)},
		{"source-organization", c.SourceOrganizationID}, {"destination-organization", c.DestinationOrganizationID},
		{"creator", refText(c.Creator)},
		{"created-at", textTimeOf(c.CreatedAt)}, {"updated-at", textTimeOf(c.UpdatedAt)},
	}
}

func eventPairs(e *connect.Event) [][2]string {
	pairs := [][2]string{
		{"id", e.ID}, {"name", string(e.Name)}, {"object", refText(&e.Object)},
		{"created-at", textTimeOf(e.CreatedAt)},
	}
	if len(e.Data) > 0 {
		pairs = append(pairs, [2]string{"payload", string(e.Data)})
	}
	return pairs
}

func (a *app) printShareToken(t *connect.ShareToken) error {
	return a.printResource(shareTokenToJSON(t), shareTokenPairs(t))
}

func (a *app) printConnection(c *connect.Connection) error {
	return a.printResource(connectionToJSON(c), connectionPairs(c))
}

func (a *app) printEvent(e *connect.Event) error {
	return a.printResource(eventToJSON(e), eventPairs(e))
}
