package connect

import (
	"fmt"
	"time"
)

// The wire structs read timestamps as strings and decode parses them here, not
// encoding/json into time.Time: time's parse error quotes the text it could not read,
// and that error would reach a log line with whatever the body held in its place,
// end-user data included. These errors name the object and the field, never the text.

// parseTime reads the RFC 3339 timestamp s of field, in UTC; what says where, for the
// error ("decode share token cnst_..."). An empty s, as from a JSON null or an absent
// field, is the zero time: decoding is lenient.
func parseTime(what, field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("connect: %s: %s is not an RFC 3339 time", what, field)
	}
	return t.UTC(), nil
}

// parseOptionalTime is parseTime for a field that may be null: nil for "".
func parseOptionalTime(what, field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(what, field, s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
