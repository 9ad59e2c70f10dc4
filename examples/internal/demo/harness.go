package demo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// This file is for the examples' tests: it is here, not in a _test.go file, because
// two packages' tests share it.

// DeliveryStatuses returns the statuses the fake's deliveries of event were answered
// with, oldest first, once there are n of them, or those there are after ten seconds:
// the fake logs a delivery once its answer is read, which may be after whatever the
// test waited for.
func (f *Fake) DeliveryStatuses(event connect.EventName, n int) []int {
	var got []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		got = got[:0]
		for _, d := range f.Deliveries() {
			if d.EventName == event {
				got = append(got, d.StatusCode)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
	}
}

// Live is an example's live mode running in the background against a Fake.
type Live struct {
	Env Env // what the program was started with

	fwd  *forwarder
	stop context.CancelFunc
	done chan error
}

// StartLive runs run, an example's live mode as org, in the background against the
// fake, and returns once it listens, or with its error if it ends before. run's Env
// holds org's API key, the fake's URL, a loopback port and the secret of a new webhook
// of org for events, which the fake delivers to POST /webhooks/persona on that port.
func (f *Fake) StartLive(ctx context.Context, org *connecttest.Organization, events []connect.EventName, run func(context.Context, Env) error) (*Live, error) {
	fwd := newForwarder()
	ctx, stop := context.WithCancel(ctx)
	l := &Live{
		Env: Env{
			APIKey: org.APIKey, WebhookSecrets: []string{f.AddWebhook(org, fwd.URL+"/webhooks/persona", events...)},
			BaseURL: f.URL, ListenAddr: "127.0.0.1:0", OnListen: fwd.onListen,
		},
		fwd: fwd, stop: stop, done: make(chan error, 1),
	}
	go func() { l.done <- run(ctx, l.Env) }()
	select {
	case <-fwd.listening:
		return l, nil
	case err := <-l.done:
		stop()
		fwd.Close()
		return nil, errors.Join(errors.New("the live server ended before it listened"), err)
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), l.Stop())
	}
}

// Stop ends the live mode, as SIGTERM would, and returns its error.
func (l *Live) Stop() error {
	l.stop()
	err := <-l.done
	l.fwd.Close()
	return err
}

// Leaks is the package's Leaks of out, with the live mode's own key and secrets.
func (l *Live) Leaks(out string) []string {
	return Leaks(out, append([]string{l.Env.APIKey}, l.Env.WebhookSecrets...)...)
}

// forwarder is a loopback server that proxies to an example's live server once that
// listens: the fake's webhook needs a URL before the program has its port. Until then
// it answers 503, which Persona retries.
type forwarder struct {
	*httptest.Server
	proxy     atomic.Pointer[httputil.ReverseProxy]
	listening chan struct{} // closed when proxy is set
}

func newForwarder() *forwarder {
	f := &forwarder{listening: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := f.proxy.Load(); p != nil {
			p.ServeHTTP(w, r)
			return
		}
		http.Error(w, "not listening yet", http.StatusServiceUnavailable)
	}))
	return f
}

// onListen is Env.OnListen: the first call points the forwarder at addr.
func (f *forwarder) onListen(addr string) {
	if f.proxy.CompareAndSwap(nil, httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})) {
		close(f.listening)
	}
}

// Getenv is a getenv over the name, value pairs in kv.
func Getenv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// Refusals returns what is wrong with how load, an example's configuration loader,
// treats the environments in bad, by name: one it accepts, or refuses with an error
// that shows secret. Nothing, when it refuses them all and names no secret.
func Refusals[C any](load func(getenv func(string) string) (C, error), bad map[string]func(string) string, secret string) []string {
	var wrong []string
	for name, getenv := range bad {
		switch _, err := load(getenv); {
		case err == nil:
			wrong = append(wrong, name+": no error")
		case strings.Contains(err.Error(), secret):
			wrong = append(wrong, name+": the error shows the secret: "+err.Error())
		}
	}
	return wrong
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
