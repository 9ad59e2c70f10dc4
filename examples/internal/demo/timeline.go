package demo

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/persona-connect/connect-go/internal/safetext"
)

// Timeline prints one line per thing that happened: the seconds since it started,
// who saw it, and what. It is safe for concurrent use, as webhook deliveries and
// background waits write to it.
type Timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

// NewTimeline returns a Timeline writing to w, starting now.
func NewTimeline(w io.Writer) *Timeline { return &Timeline{w: w, start: time.Now()} }

// Log prints one line for side ("source", "destination", "setup"...). The examples
// print what Persona sent (ids, statuses, failure reasons, event names, error
// details), all open strings: the line is escaped (safetext), so that a line break or
// an ESC in one of them cannot forge a line of the log or recolour a terminal.
func (t *Timeline) Log(side, format string, args ...any) {
	msg := safetext.Escape(fmt.Sprintf(format, args...))
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%6.3fs  %-11s  %s\n", time.Since(t.start).Seconds(), safetext.Escape(side), msg)
}
