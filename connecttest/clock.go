package connecttest

import "time"

// nowLocked is the server clock: the configured clock plus every Advance, in UTC and
// truncated to milliseconds, the precision of Persona's timestamps. Callers hold s.mu.
func (s *Server) nowLocked() time.Time {
	return s.cfg.clock().Add(s.clockOffset).UTC().Truncate(time.Millisecond)
}

// Now returns the server's current time. Pass it to connect.WithClock when verifying
// deliveries after Advance: the signature's t comes from this clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

// Advance moves the server clock forward by d (d <= 0 does nothing): tokens whose
// expires-at is passed read as expired, stored idempotent answers and rate-limit
// windows age, rotated-out webhook secrets expire. Real-time waits (redemption delay,
// webhook retries) are not affected.
//
// Nor is the host's clock: code that reads time.Now does not see the move.
// connect.AutoShare is such code. It looks for the token of an event more than 23
// hours old, whose key Persona has forgotten, by time.Now. After Advance(25 *
// time.Hour) an event recorded before is still new to it, so a late delivery makes a
// second token under the forgotten key. To test such a delivery, start the clock more
// than a day in the past (WithClock), record the event, then Advance.
func (s *Server) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset += d
}
