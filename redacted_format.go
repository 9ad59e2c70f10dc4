package connect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The pieces ShareToken's and Event's Format methods print their fields with: fields
// that hold end-user data show as their size, pointers as what they point to.

// formatMirror prints mirror, a struct that copies a value field by field with the
// fields that hold end-user data replaced, as the default formatting would print the
// value under f's verb and flags: %#v names the value's type (typeName,
// "connect.ShareToken") where the mirror's (mirrorName) would stand.
func formatMirror(f fmt.State, verb rune, mirror any, mirrorName, typeName string) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), mirror)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, mirrorName+"{", typeName+"{", 1)
	}
	_, _ = f.Write([]byte(s))
}

// optional prints what p points to with the same verb and flags, or <nil> (nil for
// %#v): fmt prints a pointer inside a struct as an address.
type optional[T any] struct{ p *T }

func (o optional[T]) Format(f fmt.State, verb rune) {
	if o.p == nil {
		if verb == 'v' && f.Flag('#') {
			_, _ = f.Write([]byte("nil"))
		} else {
			_, _ = f.Write([]byte("<nil>"))
		}
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), *o.p)
}

// rawSize stands for a json.RawMessage of end-user data (ShareToken.SourceData,
// Event.Data and Context) in Format: its length, whatever the verb.
type rawSize int

func (n rawSize) Format(f fmt.State, verb rune) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#') && n == 0:
		s = "json.RawMessage(nil)"
	case verb == 'v' && f.Flag('#'):
		s = "json.RawMessage{/* " + strconv.Itoa(int(n)) + " bytes */}"
	case n == 0:
		s = "[]"
	default:
		s = "[" + strconv.Itoa(int(n)) + " bytes]"
	}
	_, _ = f.Write([]byte(s))
}

// rawListSize stands for a []json.RawMessage of end-user data (Event.Included) in
// Format: how many documents and bytes, whatever the verb.
type rawListSize struct{ docs, bytes int }

func sizeOfRawList(l []json.RawMessage) rawListSize {
	n := rawListSize{docs: len(l)}
	for _, d := range l {
		n.bytes += len(d)
	}
	return n
}

func (n rawListSize) Format(f fmt.State, verb rune) {
	sizes := strconv.Itoa(n.docs) + " documents, " + strconv.Itoa(n.bytes) + " bytes"
	var s string
	switch {
	case verb == 'v' && f.Flag('#') && n.docs == 0:
		s = "[]json.RawMessage(nil)"
	case verb == 'v' && f.Flag('#'):
		s = "[]json.RawMessage{/* " + sizes + " */}"
	case n.docs == 0:
		s = "[]"
	default:
		s = "[" + sizes + "]"
	}
	_, _ = f.Write([]byte(s))
}
