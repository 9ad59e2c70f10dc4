package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/retry"
	"github.com/persona-connect/connect-go/internal/safetext"
)

// Poll intervals of share-tokens wait: the SDK's ShareTokens.Wait schedule (start
// small, grow by half, cap at 5s). Wait itself has no hook to report progress, so the
// command polls ShareTokens.Get the same way and reports each answer.
const (
	firstWaitPoll = 250 * time.Millisecond
	maxWaitPoll   = 5 * time.Second
)

// waitForToken polls token id until it is terminal. When timeout passes first it
// returns an error wrapping context.DeadlineExceeded (exit 5).
func (a *app) waitForToken(parent context.Context, c *connect.Client, id string, timeout time.Duration) (*connect.ShareToken, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	p := newProgress(a.stderr, id)
	defer p.finish()
	interval := firstWaitPoll
	status := "unknown"
	for {
		tok, err := c.ShareTokens.Get(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				return nil, err // Persona's answer, not our deadline
			}
			return nil, waitEnded(parent, id, status, timeout)
		}
		status = safetext.Escape(string(tok.Status)) // shown on a terminal as Persona sent it
		p.show(status)
		if tok.Terminal() {
			return tok, nil
		}
		if err := retry.Sleep(ctx, interval); err != nil {
			return nil, waitEnded(parent, id, status, timeout)
		}
		interval = min(interval+interval/2, maxWaitPoll)
	}
}

// waitEnded says why a wait ended early: the timeout (exit 5), or an interrupt.
func waitEnded(parent context.Context, id, status string, timeout time.Duration) error {
	if parent.Err() != nil {
		return fmt.Errorf("connect: wait for share token %s interrupted (last status %s): %w", id, status, parent.Err())
	}
	return fmt.Errorf("connect: share token %s still %s after --timeout %s: %w", id, status, timeout, context.DeadlineExceeded)
}

// progress reports a wait on stderr. At a terminal it keeps one status line and
// rewrites it with \r on every poll (with the time waited so far); elsewhere (a log
// file, a CI job) it writes a plain line each time the status changes, so the log
// stays short and readable.
type progress struct {
	w       io.Writer
	id      string
	tty     bool
	started time.Time
	last    string // the last status shown
	width   int    // the length of the status line on screen, tty only
}

func newProgress(w io.Writer, id string) *progress {
	return &progress{w: w, id: id, tty: isTerminal(w), started: time.Now()}
}

func (p *progress) show(status string) {
	if !p.tty {
		if status != p.last {
			fmt.Fprintf(p.w, "connect: share token %s is %s\n", p.id, status)
		}
		p.last = status
		return
	}
	line := fmt.Sprintf("share token %s: %s (%s)", p.id, status, time.Since(p.started).Round(time.Second))
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
	p.last = status
}

// finish ends the status line, so that what is printed next starts on a line of its own.
func (p *progress) finish() {
	if p.tty && p.width > 0 {
		fmt.Fprintln(p.w)
	}
}
