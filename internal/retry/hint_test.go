package retry

import (
	"testing"
	"time"
)

// hintCase is a header value and what its parser must read from it.
type hintCase struct {
	in     string
	want   time.Duration
	wantOK bool
}

// checkHints runs parse, named name, over cases.
func checkHints(t *testing.T, name string, parse func(string) (time.Duration, bool), cases []hintCase) {
	t.Helper()
	for _, tt := range cases {
		got, ok := parse(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s(%q) = %v, %v; want %v, %v", name, tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseRateLimitReset(t *testing.T) {
	t.Parallel()
	checkHints(t, "ParseRateLimitReset", ParseRateLimitReset, []hintCase{
		{"", 0, false},
		{"   ", 0, false},
		{"30", 30 * time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"999999", 999999 * time.Second, true},
		// Large values are real demands, not noise: they must make the client give up.
		{"1000000", 1000000 * time.Second, true},
		{"1e6", 1000000 * time.Second, true},
		{"1e9", 1e9 * time.Second, true},
		{"1e10", Forever, true},
		{"1e300", Forever, true},
		{"1e400", Forever, true}, // out of float64's range
		{"Inf", Forever, true},
		{"+Inf", Forever, true},
		{"infinity", Forever, true},
		{"NaN", Forever, true},
		{"18446744073709551616", Forever, true},
		// Negative or unparsable: no hint, the normal backoff applies.
		{"-1", 0, false},
		{"-Inf", 0, false},
		{"-1e400", 0, false},
		{"soon", 0, false},
		{"30s", 0, false},
		{"0x1e", 0, false},
		{"0x1p4", 0, false},
		{"1_000", 0, false},
		{"1,5", 0, false},
	})
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC)
	parse := func(s string) (time.Duration, bool) { return ParseRetryAfter(s, now) }
	checkHints(t, "ParseRetryAfter", parse, []hintCase{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{"99999999999999999999", Forever, true},
		{"Mon, 08 Dec 2025 10:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Monday, 08-Dec-25 10:01:00 GMT", time.Minute, true},     // RFC 850
		{"Mon Dec  8 10:00:05 2025", 5 * time.Second, true},       // ANSI C asctime
		{"Mon, 08 Dec 2025 09:00:00 GMT", 0, true},                // in the past: no wait
		{"Fri, 31 Dec 9999 23:59:59 GMT", Forever, true},          // past time.Duration's 292 years
		{"-5", 0, false},
		{"tomorrow", 0, false},
		{"Mon, 08 Dec 2025 10:00:30", 0, false},
	})
}

// ServerWait takes RateLimit-Reset when it parses, else Retry-After, else nothing.
func TestServerWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		reset, retryAfter string
		want              time.Duration
	}{
		{"", "", 0},
		{"3", "", 3 * time.Second},
		{"3", "60", 3 * time.Second},
		{"", "60", time.Minute},
		{"", "Mon, 08 Dec 2025 10:00:30 GMT", 30 * time.Second},
		{"garbage", "7", 7 * time.Second},
		{"-1", "", 0},
		{"garbage", "garbage", 0},
		{"Inf", "1", Forever},
		{"", "1e400", Forever},
	}
	for _, tt := range tests {
		if got := ServerWait(tt.reset, tt.retryAfter, now); got != tt.want {
			t.Errorf("ServerWait(%q, %q) = %v, want %v", tt.reset, tt.retryAfter, got, tt.want)
		}
	}
}

// A server wait too long to represent gives up at once, whatever MaxWait is.
func TestScheduleForeverGivesUp(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 5, MaxWait: time.Duration(1<<63 - 2), Initial: time.Millisecond, Max: time.Millisecond}
	if v, _ := p.Start().Next(Forever, time.Time{}, false); v != WaitTooLong {
		t.Errorf("Next(Forever) verdict = %v, want WaitTooLong", v)
	}
}
