package connecttest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// rateWindow counts one organization's requests in fixed windows of the server clock.
type rateWindow struct {
	start time.Time
	count int
}

// take counts one request at now, writes the RateLimit headers into hdr, and reports
// whether the request is over the limit.
func (w *rateWindow) take(now time.Time, limit int, window time.Duration, hdr http.Header) bool {
	if w.start.IsZero() || !now.Before(w.start.Add(window)) {
		w.start, w.count = now, 0
	}
	w.count++
	remaining := max(limit-w.count, 0)
	reset := w.start.Add(window).Sub(now)
	secs := int64((reset + time.Second - 1) / time.Second) // whole seconds, rounded up
	hdr.Set("RateLimit-Limit", strconv.Itoa(limit))
	hdr.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	hdr.Set("RateLimit-Reset", strconv.FormatInt(secs, 10))
	return w.count > limit
}

// rateLimitDetails is the 429 details text, in the words of the spec's example.
func rateLimitDetails(limit int, window time.Duration) string {
	per := window.String()
	if window == time.Minute {
		per = "min"
	}
	return fmt.Sprintf("You have hit your rate limit of %d requests / %s. Please reach out to support@withpersona.com if you need this changed.", limit, per)
}
