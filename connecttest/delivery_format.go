package connecttest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Format makes every fmt verb print the delivery as the default formatting would, with
// Signature as "[redacted]" and Body as its size ("[1234 bytes]"): a signature is kept
// out of output like a key, and a body is an event's payload, end-user data in a real
// delivery. A test's failure message lands in CI logs like any other. Code reads
// d.Signature and d.Body as before.
func (d Delivery) Format(f fmt.State, verb rune) {
	formatAs(f, verb, d.fields(), "deliveryFields", "Delivery")
}

// fields is d as Format and MarshalJSON show it.
func (d Delivery) fields() deliveryFields {
	return deliveryFields{
		EventID: d.EventID, EventName: d.EventName, OrganizationID: d.OrganizationID, URL: d.URL,
		Attempt: d.Attempt, StatusCode: d.StatusCode, Err: d.Err,
		Signature: redacted{}, Body: bodySize(len(d.Body)), SentAt: d.SentAt,
	}
}

// LogValue makes slog show the delivery without its signature, and its body's size.
func (d Delivery) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("event_id", d.EventID), slog.String("event_name", string(d.EventName)),
		slog.String("organization_id", d.OrganizationID), slog.String("url", d.URL),
		slog.Int("attempt", d.Attempt), slog.Int("status_code", d.StatusCode),
	}
	if d.Err != "" {
		attrs = append(attrs, slog.String("err", d.Err))
	}
	attrs = append(attrs, slog.Int("body_bytes", len(d.Body)), slog.Time("sent_at", d.SentAt))
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes the delivery without its signature, and with its body's size in
// place of the body: slog's JSON handler hands a delivery inside a slice or a struct to
// encoding/json, without asking LogValue.
func (d Delivery) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.fields())
}

// deliveryFields mirrors Delivery for Format and MarshalJSON, the signature and the
// body replaced.
type deliveryFields struct {
	EventID        string
	EventName      connect.EventName
	OrganizationID string
	URL            string
	Attempt        int
	StatusCode     int
	Err            string
	Signature      redacted
	Body           bodySize `json:"BodyBytes"`
	SentAt         time.Time
}

// bodySize stands for a body in Format: its length, whatever the verb.
type bodySize int

func (n bodySize) Format(f fmt.State, verb rune) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#') && n == 0:
		s = "[]byte(nil)"
	case verb == 'v' && f.Flag('#'):
		s = "[]byte{/* " + strconv.Itoa(int(n)) + " bytes */}"
	case n == 0:
		s = "[]"
	default:
		s = "[" + strconv.Itoa(int(n)) + " bytes]"
	}
	_, _ = f.Write([]byte(s))
}
