package connecttest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	connect "github.com/persona-connect/connect-go"
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

// An organization logged inside a slice or a struct, which slog's JSON handler hands to
// encoding/json instead of asking LogValue, shows no key either.
func TestOrganizationJSONHidesKey(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	o := srv.NewOrganization("Source Bank")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("orgs",
		"list", []*connecttest.Organization{o}, "values", []connecttest.Organization{*o},
		"nested", struct{ Org *connecttest.Organization }{o})
	b, err := json.Marshal(map[string]any{"o": o, "v": *o})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{logged.String(), string(b)} {
		if strings.Contains(out, o.APIKey) {
			t.Errorf("output shows the API key: %s", out)
		}
		if !strings.Contains(out, o.ID) || !strings.Contains(out, "Source Bank") {
			t.Errorf("output lacks the id or the name: %s", out)
		}
	}
}

// A delivery prints and logs without its signature and without its body (the payload
// of an event, end-user data in a real one), under every verb, alone or inside a slice,
// and in JSON; its event, URL, attempt and status still show.
func TestDeliveryFormattingHidesSignatureAndBody(t *testing.T) {
	t.Parallel()
	sig := "t=1700000000,v1=5f2b6c0d8e7a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"
	d := connecttest.Delivery{
		EventID: "evt_ABC", EventName: connect.EventShareTokenInboundCreated, OrganizationID: "org_DST",
		URL: "http://127.0.0.1:9/hook", Attempt: 2, StatusCode: 500, Signature: sig,
		Body: []byte(`{"data":{"attributes":{"payload":{"name-first":"Jane","birthdate":"1990-07-14"}}}}`),
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("d", "d", d, "p", &d, "list", []connecttest.Delivery{d})
	slog.New(slog.NewTextHandler(&logged, nil)).Info("d", "d", d, "list", []connecttest.Delivery{d})
	b, err := json.Marshal([]connecttest.Delivery{d})
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{logged.String(), string(b)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, arg := range []any{d, &d, []connecttest.Delivery{d}, struct{ D connecttest.Delivery }{d}} {
			outs = append(outs, fmt.Sprintf(verb, arg))
		}
	}
	secrets := []string{"5f2b6c0d8e7a4b3c", "Jane", "1990-07-14"}
	for _, s := range secrets[:] {
		secrets = append(secrets, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s), base64.StdEncoding.EncodeToString([]byte(s)))
	}
	secrets = append(secrets, base64.StdEncoding.EncodeToString(d.Body)[:24])
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output shows %q: %s", s, out)
			}
		}
	}
	if got := fmt.Sprintf("%+v", d); !strings.Contains(got, "EventID:evt_ABC") || !strings.Contains(got, "Attempt:2") ||
		!strings.Contains(got, "Signature:[redacted]") || !strings.Contains(got, "Body:[82 bytes]") {
		t.Errorf("%%+v = %s", got)
	}
	if !strings.HasPrefix(d.Signature, "t=") {
		t.Errorf("Signature = %q; want the header itself", d.Signature)
	}
}
