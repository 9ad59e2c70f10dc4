package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	res, err := runDemo(ctx, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if len(res.Inquiries) != 2 || len(res.Pushed) != 2 || len(res.Tokens) != 2 {
		t.Fatalf("result %+v", res)
	}
	// Every pushed id is the one token of one inquiry.
	want := map[string]bool{res.Tokens[res.Inquiries[0]]: true, res.Tokens[res.Inquiries[1]]: true}
	got := map[string]bool{res.Pushed[0]: true, res.Pushed[1]: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pushed ids (-tokens +pushed):\n%s", diff)
	}
	for _, pattern := range []string{
		`source +inquiry\.completed evt_\w+: share token cnst_\w+ for inq_\w+, status created`,
		`source +pushed cnst_\w+ to the destination: 202 Accepted`,
		`destination +Beta Lending sees cnst_\w+: inbound, created`,
		`done +2 inquiries completed, 2 share tokens created and pushed, one per inquiry`,
	} {
		if n := len(regexp.MustCompile(pattern).FindAllString(out.String(), -1)); n == 0 {
			t.Errorf("output has no line matching %q:\n%s", pattern, out.String())
		}
	}
	if leaks := demo.Leaks(out.String()); len(leaks) > 0 {
		t.Errorf("output contains %q", leaks)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	if cfg, err := loadConfig(demo.Getenv()); err != nil || cfg.Live() {
		t.Errorf("no environment: %v, live %v; want the demo", err, cfg.Live())
	}
	full := []string{"PERSONA_API_KEY", "key", "PERSONA_WEBHOOK_SECRET", "wbhsec_TOPSECRET",
		"CONNECTION_ID", "cxn_1", "DESTINATION_SHARE_URL", "https://partner.example/share-tokens"}
	cfg, err := loadConfig(demo.Getenv(full...))
	if err != nil || !cfg.Live() || cfg.ListenAddr != ":8080" || cfg.BaseURL != connect.DefaultBaseURL || cfg.ConnectionID != "cxn_1" {
		t.Errorf("full environment: %+v, %v", cfg.ListenAddr, err)
	}
	with := func(k, v string) func(string) string {
		kv := append([]string(nil), full...)
		for i := 0; i < len(kv); i += 2 {
			if kv[i] == k {
				kv[i+1] = v
			}
		}
		return demo.Getenv(kv...)
	}
	for _, wrong := range demo.Refusals(loadConfig, map[string]func(string) string{
		"no connection":       with("CONNECTION_ID", ""),
		"not a connection id": with("CONNECTION_ID", "inq_1"),
		"no share URL":        with("DESTINATION_SHARE_URL", ""),
		"share URL not http":  with("DESTINATION_SHARE_URL", "ftp://partner.example/x"),
		"no key":              with("PERSONA_API_KEY", ""),
	}, "TOPSECRET") {
		t.Error(wrong)
	}
}

// TestServeLive runs the live mode against connecttest standing in for Persona.
func TestServeLive(t *testing.T) {
	persona := demo.NewFake()
	defer persona.Close()
	dest := newStandIn(nil)
	defer dest.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer // read only after Stop: Shutdown waits for the handlers that write it
	live, err := persona.StartLive(ctx, persona.Source, []connect.EventName{connect.EventInquiryCompleted}, func(ctx context.Context, env demo.Env) error {
		return run(ctx, config{Env: env, ConnectionID: persona.Connection, ShareURL: dest.URL + "/share-tokens"}, &out)
	})
	if err != nil {
		t.Fatal(err)
	}
	persona.CreateInquiry(persona.Source)
	pushed, err := dest.waitFor(ctx, 1)
	if err != nil {
		t.Fatalf("no push: %v", err)
	}
	if err := live.Stop(); err != nil {
		t.Errorf("run after stop: %v", err)
	}
	s := out.String()
	if !strings.Contains(s, "share token "+pushed[0]) || !strings.Contains(s, "shutting down") {
		t.Errorf("output:\n%s", s)
	}
	if leaks := live.Leaks(s); len(leaks) > 0 {
		t.Errorf("output contains %q", leaks)
	}
}
