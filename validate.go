package connect

import (
	"strings"
	"time"
	"unicode"
)

// ID prefixes, by what the ID names. Validating them before any I/O turns a swapped
// argument (a share token id passed as source-id) into a clear local error instead of
// a 404 or, worse, a token made over the wrong object.
var (
	connectionPrefixes   = []string{"cxn_"}
	shareTokenPrefixes   = []string{"cnst_"}
	sourcePrefixes       = []string{"act_", "inq_", "txn_", "ver_"}
	hydrateDestPrefixes  = []string{"act_", "inq_", "txn_"}
	organizationPrefixes = []string{"org_"}
	eventPrefixes        = []string{"evt_"}
	webhookPrefixes      = []string{"wbh_"}
)

// Limits from the spec, and the characters that would change a URL's meaning.
const (
	minShareTokenTTL      = time.Minute
	maxShareTokenTTL      = 21 * 24 * time.Hour // expires-in-seconds: 60..1814400
	maxPageSize           = 100                 // page[size]: 1..100
	forbiddenInIdentifier = `/?#%\`
)

// validateID checks an ID that goes into a URL path or a request body: not empty, no
// character that would change the URL's meaning, not a dot segment, and one of the
// expected prefixes (any when prefixes is nil).
func validateID(field, id string, prefixes []string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return invalidParam(field, "must not be empty")
	case strings.ContainsAny(id, forbiddenInIdentifier):
		return invalidParam(field, "must not contain any of / ? # % \\")
	case hasControl(id) || strings.IndexFunc(id, unicode.IsSpace) >= 0:
		return invalidParam(field, "must not contain whitespace or control characters")
	case id == "." || id == "..":
		return invalidParam(field, "must not be . or ..")
	}
	if len(prefixes) == 0 {
		return nil
	}
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			return nil
		}
	}
	return invalidParam(field, "must start with "+strings.Join(prefixes, ", "))
}

// validateOptionalID is validateID for a filter that may be left empty.
func validateOptionalID(field, id string, prefixes []string) error {
	if id == "" {
		return nil
	}
	return validateID(field, id, prefixes)
}

// validateTTL accepts 0 (the server's default, 14 days) or whole seconds from 1 minute
// to 21 days: expires-in-seconds is an integer between 60 and 1814400.
func validateTTL(field string, d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d%time.Second != 0 {
		return invalidParam(field, "must be whole seconds")
	}
	if d < minShareTokenTTL || d > maxShareTokenTTL {
		return invalidParam(field, "must be between 1m and 504h (21 days)")
	}
	return nil
}

// validatePageSize accepts 0 (the server's default, 10) or 1..100.
func validatePageSize(n int) error {
	if n < 0 || n > maxPageSize {
		return invalidParam("PageSize", "must be between 1 and 100 (0 for the default)")
	}
	return nil
}

// validateEnum accepts "" (no filter) or one of the known values. Filters are encoded
// strictly: an unknown value would be a silent no-match on the server.
func validateEnum[T ~string](field string, v T, known ...T) error {
	if v == "" {
		return nil
	}
	for _, k := range known {
		if v == k {
			return nil
		}
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return invalidParam(field, "must be one of "+strings.Join(names, ", "))
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
