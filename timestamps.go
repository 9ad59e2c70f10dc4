package connect

import (
	"fmt"
	"time"
)

// The wire structs read timestamps as strings and decode parses them here, not
// encoding/json into time.Time: time's parse error quotes the text it could not read,
// and that error would reach a log line with whatever the body held in its place,
// end-user data included. These errors name the object and the field, never the text.

// timeField is one RFC 3339 timestamp of a wire struct and where decode puts it: into
// t, or, for a field that may be null, into p (nil when absent).
type timeField struct {
	name string // as on the wire: "created-at"
	s    string // the wire text; "" for null or absent
	t    *time.Time
	p    **time.Time
}

// parseTimes parses each field in UTC; what says where, for the error ("decode share
// token cnst_..."). An empty text is the zero time, or nil: decoding is lenient.
func parseTimes(what string, fields ...timeField) error {
	for _, f := range fields {
		var t time.Time
		if f.s != "" {
			var err error
			if t, err = time.Parse(time.RFC3339Nano, f.s); err != nil {
				return fmt.Errorf("connect: %s: %s is not an RFC 3339 time", what, f.name)
			}
			t = t.UTC()
		}
		switch {
		case f.t != nil:
			*f.t = t
		case f.s != "":
			*f.p = &t
		default:
			*f.p = nil
		}
	}
	return nil
}
