package main

import (
	"errors"
	"strconv"
	"strings"

	connect "github.com/persona-connect/connect-go"
)

// The SDK names the field of its params that it refused ("connect: invalid params:
// SourceID must start with act_, ..."); at a terminal the name to fix is the flag's.

// flagOfField maps the SDK's params fields to the flags that set them. A field has
// the same flag in every command that takes it.
var flagOfField = map[string]string{
	"ConnectionID":              "--connection",
	"SourceID":                  "--source",
	"ExpiresIn":                 "--expires-in",
	"DestinationID":             "--destination",
	"FieldMappings":             "--map",
	"DestinationOrganizationID": "--destination-org",
	"Status":                    "--status",
	"Direction":                 "--direction",
	"Names":                     "--name",
	"ObjectIDs":                 "--object",
}

// inFlagWords returns err's text with the field it names put as its flag, for an
// error wrapping connect.ErrInvalidParams that names one of flagOfField's; any other
// error's text as it is.
func inFlagWords(err error) string {
	text := err.Error()
	rest, ok := strings.CutPrefix(text, connect.ErrInvalidParams.Error()+": ")
	if !errors.Is(err, connect.ErrInvalidParams) || !ok {
		return text
	}
	field, rule, _ := strings.Cut(rest, " ")
	name, index, indexed := strings.Cut(field, "[") // Names[1], FieldMappings[0].SourceFieldName
	flag, known := flagOfField[name]
	if !known {
		return text
	}
	if indexed {
		i, err := strconv.Atoi(index[:strings.IndexByte(index+"]", ']')])
		if err != nil {
			return text
		}
		flag += " (the " + ordinal(i+1) + ")"
	}
	return "connect: " + flag + " " + rule
}

// ordinal writes n as 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
