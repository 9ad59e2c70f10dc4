package connecttest_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/persona-connect/connect-go/connecttest"
)

// Setup methods report a broken test setup by panicking, like httptest: an
// organization of another server, or a server already closed.
func TestSetupMethodsPanicOnABrokenSetup(t *testing.T) {
	t.Parallel()
	setups := func(srv *connecttest.Server, src, o *connecttest.Organization) map[string]func() {
		return map[string]func(){
			"NewClient":               func() { _, _ = srv.NewClient(o) },
			"CreateConnection":        func() { srv.CreateConnection(src, o) },
			"CreatePendingConnection": func() { srv.CreatePendingConnection(o, src) },
			"CreateInquiry":           func() { srv.CreateInquiry(o) },
			"CreateAccount":           func() { srv.CreateAccount(o) },
			"CreateTransaction":       func() { srv.CreateTransaction(o) },
			"CreateVerification":      func() { srv.CreateVerification(o) },
			"AddWebhook":              func() { srv.AddWebhook(o, "http://127.0.0.1:1/hook") },
		}
	}
	panicOf := func(f func()) (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		f()
		return ""
	}
	w := newWorld(t)
	foreign := connecttest.NewServer()
	t.Cleanup(foreign.Close)
	for name, setup := range setups(w.srv, w.src, foreign.NewOrganization("Foreign")) {
		if got := panicOf(setup); !strings.Contains(got, "belongs to another server") {
			t.Errorf("%s with another server's organization: panic %q", name, got)
		}
	}
	closed := newWorld(t)
	closed.srv.Close()
	all := setups(closed.srv, closed.src, closed.dst)
	all["NewOrganization"] = func() { closed.srv.NewOrganization("Late") }
	for name, setup := range all {
		if got := panicOf(setup); got != "connecttest: server is closed" {
			t.Errorf("%s on a closed server: panic %q", name, got)
		}
	}
}

// An organization prints and logs without its API key, under every verb, alone or
// inside a slice; its id and name still show, and code still reads the key.
func TestOrganizationFormattingHidesKey(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	o := srv.NewOrganization("Source Bank")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("org", "o", o, "v", *o)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("org", "o", o)
	outs := []string{logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, arg := range []any{o, *o, []*connecttest.Organization{o}} {
			outs = append(outs, fmt.Sprintf(verb, arg))
		}
	}
	for _, out := range outs {
		if strings.Contains(out, o.APIKey) || strings.Contains(out, fmt.Sprintf("%x", o.APIKey)) {
			t.Errorf("output shows the API key: %s", out)
		}
	}
	if got := fmt.Sprintf("%+v", o); got != "{ID:"+o.ID+" Name:Source Bank APIKey:[redacted]}" {
		t.Errorf("%%+v = %s", got)
	}
	if got := fmt.Sprintf("%#v", *o); got != `connecttest.Organization{ID:"`+o.ID+`", Name:"Source Bank", APIKey:"[redacted]"}` {
		t.Errorf("%%#v = %s", got)
	}
	if !strings.HasPrefix(o.APIKey, "persona_sandbox_") {
		t.Errorf("APIKey = %q; want the key itself", o.APIKey)
	}
}
