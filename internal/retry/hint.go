package retry

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Forever is the wait a server demands when its number is too large for a
// time.Duration (about 292 years), infinite or NaN. It is longer than any MaxWait, so
// Next gives up at once: a huge value is a real demand to stop, never "no header".
const Forever = time.Duration(math.MaxInt64)

// ServerWait returns the least wait a 429 asks for: RateLimit-Reset when it parses,
// else Retry-After, else 0 (no hint: the normal backoff applies). now is the time the
// answer arrived, for a Retry-After given as an HTTP-date.
func ServerWait(rateLimitReset, retryAfter string, now time.Time) time.Duration {
	if d, ok := ParseRateLimitReset(rateLimitReset); ok {
		return d
	}
	if d, ok := ParseRetryAfter(retryAfter, now); ok {
		return d
	}
	return 0
}

// ParseRateLimitReset reads a RateLimit-Reset header: seconds until the rate window
// resets, an integer in Persona's answers, read leniently as a decimal number (1.5,
// 1e6). A value beyond time.Duration, +Inf or NaN is Forever. ok is false for an
// absent, negative or unparsable value, which the caller treats as no hint.
func ParseRateLimitReset(v string) (d time.Duration, ok bool) {
	return parseSeconds(v)
}

// ParseRetryAfter reads a Retry-After header (RFC 9110, section 10.2.3): delay seconds,
// or an HTTP-date, which is turned into a wait from now (0 when it has passed). Numbers
// are read as ParseRateLimitReset reads them; a date too far ahead is Forever. ok is
// false for an absent or unparsable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if d, ok := parseSeconds(v); ok {
		return d, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	// time.Time.Sub saturates at the largest Duration, which is Forever.
	return max(t.Sub(now), 0), true
}

// parseSeconds reads a non-negative decimal number of seconds. strconv.ParseFloat also
// takes hex floats and underscores, which no server means: they are refused.
func parseSeconds(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, "xX_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !isRangeError(err) {
		return 0, false
	}
	// A range error leaves f at ±Inf (or ±0 for an underflow, a valid tiny wait).
	switch {
	case math.IsNaN(f):
		return Forever, true
	case f < 0:
		return 0, false
	case f >= float64(math.MaxInt64)/float64(time.Second):
		return Forever, true
	}
	return time.Duration(f * float64(time.Second)), true
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
