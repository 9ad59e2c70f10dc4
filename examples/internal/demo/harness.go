package demo

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// This file is for the examples' tests: it is here, not in a _test.go file, because
// two packages' tests share it.

// Forwarder is a loopback server that proxies to an example's live server once that
// listens: Persona's webhook (connecttest's, in a test) needs a URL before the program
// has its port. Until then it answers 503, which Persona retries.
type Forwarder struct {
	*httptest.Server
	mu        sync.Mutex
	target    *url.URL
	listening chan struct{}
}

// NewForwarder starts a Forwarder; Close it when done.
func NewForwarder() *Forwarder {
	f := &Forwarder{listening: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		u := f.target
		f.mu.Unlock()
		if u == nil {
			http.Error(w, "not listening yet", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	return f
}

// OnListen is Env.OnListen: it points the forwarder at addr.
func (f *Forwarder) OnListen(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.target == nil {
		f.target = &url.URL{Scheme: "http", Host: addr}
		close(f.listening)
	}
}

// Live is an example's live mode running in the background.
type Live struct {
	stop context.CancelFunc
	done chan error
}

// StartLive runs run (an example's live mode, whose Env.OnListen is f.OnListen) in the
// background and returns once it listens, or with its error if it ends before.
func StartLive(ctx context.Context, f *Forwarder, run func(context.Context) error) (*Live, error) {
	ctx, stop := context.WithCancel(ctx)
	l := &Live{stop: stop, done: make(chan error, 1)}
	go func() { l.done <- run(ctx) }()
	select {
	case <-f.listening:
		return l, nil
	case err := <-l.done:
		stop()
		return nil, errors.Join(errors.New("the live server ended before it listened"), err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stop ends the live mode, as SIGTERM would, and returns its error.
func (l *Live) Stop() error {
	l.stop()
	return <-l.done
}

// SyncBuffer is a bytes.Buffer that the program's goroutines may write while a test
// reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Getenv is a getenv over the name, value pairs in kv.
func Getenv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// Leaks returns the marks of secrets found in out: a webhook secret, a connecttest API
// key or a signature, and any of also (the test's own key and secret).
func Leaks(out string, also ...string) []string {
	var found []string
	for _, s := range append([]string{"wbhsec_", "persona_sandbox_", "v1="}, also...) {
		if s != "" && strings.Contains(out, s) {
			found = append(found, s)
		}
	}
	return found
}
