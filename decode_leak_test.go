package connect_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// errorChain is err and every error it wraps (Unwrap() error and Unwrap() []error), as
// an error reporter that records each cause's text walks it.
func errorChain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		}
	}
	walk(err)
	return out
}

// assertErrorHides fails when err's text, its %+v, %#v or %q, or the text of any error
// it wraps, shows one of values.
func assertErrorHides(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	texts := map[string]string{
		"Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", err), "%q": fmt.Sprintf("%q", err),
	}
	for i, e := range errorChain(err) {
		texts[fmt.Sprintf("cause %d (%T)", i, e)] = e.Error()
	}
	for what, s := range texts {
		for _, v := range values {
			if strings.Contains(s, v) {
				t.Errorf("%s shows %q:\n%s", what, v, s)
			}
		}
	}
}

// A 2xx body that does not fit the caller's type for Client.Do (an inquiry's fields
// are end-user data) gives an error that names the type and the field, never the
// value: encoding/json's own texts quote a number it could not store, a ,string value
// and, through time.Time, a timestamp it could not parse.
func TestDoDecodeErrorsHideValues(t *testing.T) {
	t.Parallel()
	type inquiry struct {
		Data struct {
			Attributes struct {
				Phone     int32     `json:"phone-number"`
				Birthdate time.Time `json:"birthdate"`
				Zip       int       `json:"address-postal-code,string"`
			} `json:"attributes"`
		} `json:"data"`
	}
	tests := []struct {
		name, body, value string
		typeErr           bool // errors.As finds a *json.UnmarshalTypeError
	}{
		{"number too large for the field", `{"data":{"attributes":{"phone-number":5551234567}}}`, "5551234567", true},
		{"fraction into an integer", `{"data":{"attributes":{"phone-number":5551234.567}}}`, "5551234.567", true},
		{"number of a ,string field", `{"data":{"attributes":{"address-postal-code":"94107-1234"}}}`, "94107-1234", true},
		{"string of a ,string field", `{"data":{"attributes":{"address-postal-code":"Jane Doe"}}}`, "Jane Doe", false},
		{"date that is not RFC 3339", `{"data":{"attributes":{"birthdate":"1990-07-14"}}}`, "1990-07-14", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL("/inquiries/inq_1"), respond(http.StatusOK, []byte(tt.body)))
			var out inquiry
			err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1", nil, &out)
			assertErrorHides(t, err, tt.value)
			if !strings.Contains(err.Error(), "inquiry") {
				t.Errorf("error %q does not name the type decoded into", err)
			}
			var typeErr *json.UnmarshalTypeError
			if tt.typeErr && !errors.As(err, &typeErr) {
				t.Errorf("error %v does not wrap the *json.UnmarshalTypeError", err)
			}
			if tt.typeErr && !strings.Contains(err.Error(), "phone-number") && !strings.Contains(err.Error(), "address-postal-code") {
				t.Errorf("error %q does not name the field", err)
			}
			var reqErr *connect.RequestError
			if !errors.As(err, &reqErr) {
				t.Errorf("error %v is not a *RequestError", err)
			}
		})
	}
}

// stringifiedJSON is a field whose value is JSON inside a string, decoded by a method
// that quotes the string in its error, as a caller's own UnmarshalJSON may: the
// *json.SyntaxError it wraps must not carry that text out.
type stringifiedJSON struct{}

func (*stringifiedJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("field holds %q: %w", s, err)
	}
	return nil
}

// A decoding error that wraps a *json.SyntaxError below a text of its own is cut to the
// SyntaxError: the text above it is the caller's method's, and may quote the value.
func TestDoDecodeErrorsHideAValueAboveASyntaxError(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	body := `{"data":{"attributes":{"notes":"Jane Doe, 5551234567"}}}`
	mt.RegisterResponder(http.MethodGet, mockURL("/inquiries/inq_1"), respond(http.StatusOK, []byte(body)))
	var out struct {
		Data struct {
			Attributes struct {
				Notes stringifiedJSON `json:"notes"`
			} `json:"attributes"`
		} `json:"data"`
	}
	err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1", nil, &out)
	assertErrorHides(t, err, "Jane Doe", "5551234567")
	var syntaxErr *json.SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Errorf("error %v does not wrap the *json.SyntaxError", err)
	}
}
