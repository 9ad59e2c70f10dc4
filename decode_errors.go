package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// valueFree returns err, an error of encoding/json's decoding of an answer or a
// delivery, in a form whose text quotes nothing of the body: the body holds end-user
// data (an inquiry's fields, a token's source data), and a decoding error ends up in an
// error text, a log line and, wrapped, in the cause chain an error reporter records.
// encoding/json's own texts quote such values: a number its field cannot hold ("number
// 5551234567"), a ,string value, and the errors of UnmarshalJSON and UnmarshalText
// methods, time.Time's among them ("parsing time \"1990-07-14\"..."), pass through
// with whatever they quote.
//
//   - A *json.UnmarshalTypeError is kept, for errors.As, with its Value cut to the
//     kind of JSON value ("number"): the field's path and Go type stay.
//   - A *json.SyntaxError is kept, without whatever wraps it: its text quotes at most
//     the one character at fault, and its offset is what finds the fault, but a text
//     above it (an UnmarshalJSON method's own, decoding JSON held in a string) may
//     quote the value.
//   - Anything else is replaced by an error that names its Go type only.
func valueFree(err error) error {
	if err == nil {
		// Before the targets of errors.As, which escape to the heap where they are
		// declared: a decode that succeeded allocates nothing here.
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr):
		return syntaxErr
	case errors.As(err, &typeErr):
		cp := *typeErr
		cp.Value, _, _ = strings.Cut(cp.Value, " ")
		return &cp
	}
	return &withheldDecodeError{kind: fmt.Sprintf("%T", err)}
}

// withheldDecodeError stands for a decoding error whose text may quote a value.
type withheldDecodeError struct{ kind string }

func (e *withheldDecodeError) Error() string {
	return "a value does not fit its field (" + e.kind + "; its text is withheld, as it may quote the value)"
}
