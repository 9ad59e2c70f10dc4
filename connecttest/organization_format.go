package connecttest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Format makes every fmt verb print the organization as the default formatting would,
// with APIKey as "[redacted]": the key is the fake's, but a test's failure message
// lands in CI logs like any other, and the rule that no API key reaches output has no
// exception for a fake one. Code reads o.APIKey as before.
func (o Organization) Format(f fmt.State, verb rune) {
	formatAs(f, verb, organizationFields{ID: o.ID, Name: o.Name, APIKey: redacted{}}, "organizationFields", "Organization")
}

// formatAs prints mirror, a struct of the same fields as a type of the package named
// real with the secret ones replaced, under f and verb, as that type's Format: %#v
// names real, so the output reads as the type the caller formatted.
func formatAs(f fmt.State, verb rune, mirror any, mirrorName, real string) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), mirror)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "connecttest."+mirrorName+"{", "connecttest."+real+"{", 1)
	}
	_, _ = f.Write([]byte(s))
}

// LogValue makes slog show the organization's id and name, without its key.
func (o Organization) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", o.ID), slog.String("name", o.Name))
}

// MarshalJSON encodes the organization with APIKey as "[redacted]": slog's JSON handler
// hands an organization inside a slice or a struct to encoding/json, without asking
// LogValue.
func (o Organization) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ ID, Name, APIKey string }{o.ID, o.Name, redactedText})
}

// redactedText is what output shows in place of a key or a signature.
const redactedText = "[redacted]"

// organizationFields mirrors Organization for Format, the key replaced.
type organizationFields struct {
	ID     string
	Name   string
	APIKey redacted
}

// redacted stands for a key in Format, whatever the verb, and in JSON.
type redacted struct{}

func (redacted) MarshalJSON() ([]byte, error) { return json.Marshal(redactedText) }

func (redacted) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(strconv.Quote(redactedText)))
		return
	}
	_, _ = f.Write([]byte(redactedText))
}
