package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
	"github.com/persona-connect/connect-go/internal/syncbuf"
)

// TestDemo runs the whole demo and checks each token's outcome, the redeem requests
// that reached Persona and those it accepted (counted by the test's own transport),
// and that no secret was printed.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	counter := newRedeemCounter(http.DefaultTransport)
	var out bytes.Buffer
	reports, err := runDemo(ctx, config{WaitTimeout: 10 * time.Second, transport: counter}, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	byLabel := map[string]*tokenReport{}
	for _, r := range reports {
		byLabel[r.Label] = r
	}
	type want struct {
		via               string
		outcome           outcome
		detail            string
		requests, started int
	}
	for label, w := range map[string]want{
		// A arrives twice, so both paths ask Persona; one redemption starts.
		"A": {"api+webhook", outcomeRedeemed, "by clone", 2, 1},
		"B": {"api", outcomeFailed, string(connect.FailureImportFailed), 1, 1},
		"C": {"api", outcomeExpired, "before we could redeem it", 1, 0},
	} {
		r := byLabel[label]
		if r == nil || r.Final == nil {
			t.Errorf("token %s: no outcome\n%s", label, out.String())
			continue
		}
		got := want{vias(r.Via), r.Final.Outcome, r.Final.Detail, counter.count(r.ID), counter.accepted(r.ID)}
		if got != w {
			t.Errorf("token %s: got %+v, want %+v", label, got, w)
		}
		if r.RedeemCalled != w.requests || r.Accepted != w.started {
			t.Errorf("token %s: summary says %d requests, %d accepted; want %d, %d", label, r.RedeemCalled, r.Accepted, w.requests, w.started)
		}
	}
	if a := byLabel["A"]; a != nil && a.Final != nil && (a.Final.Object == nil || a.Final.Object.Type != "inquiry" || !strings.HasPrefix(a.Final.Object.ID, "inq_")) {
		t.Errorf("A redeemed into %+v, want a new inquiry", a.Final.Object)
	}
	for _, pattern := range []string{
		`summary +A cnst_\w+  by api\+webhook, 2 redeem request\(s\), 1 accepted: redeemed by clone into inquiry inq_\w+`,
		`summary +B cnst_\w+  by api, 1 redeem request\(s\), 1 accepted: failed: import_failed`,
		`summary +C cnst_\w+  by api, 1 redeem request\(s\), 0 accepted: expired before we could redeem it`,
		`destination +connect/share-token\.inbound-redeemed: cnst_\w+ is redeemed into inquiry inq_\w+`,
	} {
		if !regexp.MustCompile(pattern).MatchString(out.String()) {
			t.Errorf("output has no line matching %q:\n%s", pattern, out.String())
		}
	}
	if leaks := demo.Leaks(out.String()); len(leaks) > 0 {
		t.Errorf("output contains %q", leaks)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(demo.Getenv())
	if err != nil || cfg.Live() {
		t.Errorf("no environment: %v, live %v; want the demo", err, cfg.Live())
	}
	cfg, err = loadConfig(demo.Getenv("PERSONA_API_KEY", "key", "PERSONA_WEBHOOK_SECRET", "wbhsec_a, wbhsec_b",
		"DESTINATION_OBJECT_ID", "act_1", "FIELD_MAPPINGS", "address_street_1=street, birthdate=dob", "WAIT_TIMEOUT", "90s"))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		Env:           demo.Env{APIKey: "key", WebhookSecrets: []string{"wbhsec_a", "wbhsec_b"}, BaseURL: connect.DefaultBaseURL, ListenAddr: ":8080"},
		DestinationID: "act_1", WaitTimeout: 90 * time.Second,
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street"}, {SourceFieldName: "birthdate", DestinationFieldName: "dob"}},
	}
	if diff := cmp.Diff(want, cfg, cmp.AllowUnexported(config{}), cmp.Comparer(func(a, b func(string)) bool { return a == nil && b == nil })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	for _, wrong := range demo.Refusals(loadConfig, map[string]func(string) string{
		"key without secret":         demo.Getenv("PERSONA_API_KEY", "key"),
		"secret without key":         demo.Getenv("PERSONA_WEBHOOK_SECRET", "wbhsec_a"),
		"destination of a bad kind":  demo.Getenv("DESTINATION_OBJECT_ID", "ver_1"),
		"mappings without hydrate":   demo.Getenv("FIELD_MAPPINGS", "a=b"),
		"mapping without a target":   demo.Getenv("DESTINATION_OBJECT_ID", "inq_1", "FIELD_MAPPINGS", "a="),
		"wait timeout not a time":    demo.Getenv("WAIT_TIMEOUT", "soon"),
		"wait timeout not positive":  demo.Getenv("WAIT_TIMEOUT", "0s"),
		"secret is never in the err": demo.Getenv("PERSONA_WEBHOOK_SECRET", "wbhsec_TOPSECRET"),
	}, "TOPSECRET") {
		t.Error(wrong)
	}
}

// TestServeLive runs the live mode against connecttest standing in for Persona:
// listening, a webhook delivery redeemed, a graceful stop when the context ends.
func TestServeLive(t *testing.T) {
	persona := demo.NewFake()
	defer persona.Close()
	inq := persona.CreateInquiry(persona.Source)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := &syncbuf.Buffer{}
	events := []connect.EventName{connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed}
	live, err := persona.StartLive(ctx, persona.Destination, events, func(ctx context.Context, env demo.Env) error {
		return run(ctx, config{Env: env, WaitTimeout: 10 * time.Second}, out)
	})
	if err != nil {
		t.Fatal(err)
	}
	source, err := persona.NewClient(persona.Source)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: persona.Connection, SourceID: inq})
	if err != nil {
		t.Fatal(err)
	}
	redeemed := regexp.MustCompile(regexp.QuoteMeta(tok.ID) + ` redeemed by clone into inquiry inq_\w+`)
	for !redeemed.MatchString(out.String()) {
		select {
		case <-ctx.Done():
			t.Fatalf("no redemption reported:\n%s", out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := live.Stop(); err != nil {
		t.Errorf("run after stop: %v", err)
	}
	s := out.String()
	if !strings.Contains(s, "shutting down") {
		t.Errorf("output:\n%s", s)
	}
	if leaks := live.Leaks(s); len(leaks) > 0 {
		t.Errorf("output contains %q", leaks)
	}
}
