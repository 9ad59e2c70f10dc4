package connect

import (
	"fmt"
	"time"
)

// The wire structs read timestamps as wireTime, and decode turns a bad one into an error
// of its own: encoding/json's error for a time.Time field quotes the text it could not
// read, and that error would reach a log line with whatever the body held in its place,
// end-user data included. These errors name the object and the field, never the text.

// wireTime is an RFC 3339 timestamp of a response: the zero time for null, "" or
// absent, badTime for anything else that is not a time. Its decoding never fails, so
// that encoding/json has no error to quote; decode reports badTime. It is a time.Time,
// and parses the bytes in place as time.Time does, so a timestamp costs no allocation
// and no more room than before.
type wireTime time.Time

// badTimeZone marks badTime; nothing else uses it.
var badTimeZone = time.FixedZone("not an RFC 3339 time", 0)

// badTime is what a wireTime holds when its value was not a time.
var badTime = wireTime(time.Date(1, 1, 1, 0, 0, 0, 0, badTimeZone))

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireTime) UnmarshalJSON(b []byte) error {
	var t time.Time
	if string(b) == `""` { // leniently, as null
		*w = wireTime{}
		return nil
	}
	if err := t.UnmarshalJSON(b); err != nil { // "null" leaves t zero
		*w = badTime // the error quotes b: dropped
		return nil
	}
	*w = wireTime(t)
	return nil
}

func (w wireTime) bad() bool { return time.Time(w).Location() == badTimeZone }

// timeField is one timestamp of a wire struct, w, and where decode puts it: into t, or,
// for a field that may be null, into p. A nullable field is a *wireTime on the wire
// struct, nil for null or absent as encoding/json leaves it, and p then points where
// it does: the wire struct is dropped after decode.
type timeField struct {
	name string // as on the wire: "created-at"
	w    *wireTime
	t    *time.Time
	p    **time.Time
}

// parseTimes puts each field in UTC where it goes, or fails naming the object (what,
// "decode share token", and id) and the field. Null or absent is the zero time, or
// nil: decoding is lenient.
func parseTimes(what, id string, fields ...timeField) error {
	for _, f := range fields {
		if f.w != nil && f.w.bad() {
			return fmt.Errorf("connect: %s %s: %s is not an RFC 3339 time", what, id, f.name)
		}
		switch {
		case f.t != nil:
			*f.t = time.Time(*f.w).UTC()
		case f.w == nil:
			*f.p = nil
		default:
			t := (*time.Time)(f.w)
			*t = t.UTC()
			*f.p = t
		}
	}
	return nil
}
