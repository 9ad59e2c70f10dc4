package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// TestDemo runs the whole demo and checks each token's outcome, the redeem requests
// that reached Persona (counted by the test's own transport), and that no secret was
// printed.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	counter := &redeemCounter{next: http.DefaultTransport, calls: map[string]int{}}
	var out bytes.Buffer
	reports, err := demo(ctx, config{WaitTimeout: 10 * time.Second, transport: counter}, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	byLabel := map[string]*tokenReport{}
	for _, r := range reports {
		byLabel[r.Label] = r
	}
	type want struct {
		via     string
		outcome outcome
		detail  string
	}
	for label, w := range map[string]want{
		"A": {"api+webhook", outcomeRedeemed, "by clone"},
		"B": {"api", outcomeFailed, string(connect.FailureImportFailed)},
		"C": {"api", outcomeExpired, "before we could redeem it"},
	} {
		r := byLabel[label]
		if r == nil || r.Final == nil {
			t.Errorf("token %s: no outcome\n%s", label, out.String())
			continue
		}
		if got := (want{vias(r.Via), r.Final.Outcome, r.Final.Detail}); got != w {
			t.Errorf("token %s: got %+v, want %+v", label, got, w)
		}
		// Each token is redeemed (or tried) exactly once, A although it came twice.
		if n := counter.count(r.ID); n != 1 || r.RedeemCalled != 1 {
			t.Errorf("token %s: %d redeem requests on the wire, %d in the summary; want 1", label, n, r.RedeemCalled)
		}
	}
	if a := byLabel["A"]; a != nil && a.Final != nil && (a.Final.Object == nil || a.Final.Object.Type != "inquiry" || !strings.HasPrefix(a.Final.Object.ID, "inq_")) {
		t.Errorf("A redeemed into %+v, want a new inquiry", a.Final.Object)
	}
	for _, pattern := range []string{
		`summary +A cnst_\w+  by api\+webhook, 1 redeem request\(s\): redeemed by clone into inquiry inq_\w+`,
		`summary +B cnst_\w+  by api, 1 redeem request\(s\): failed: import_failed`,
		`summary +C cnst_\w+  by api, 1 redeem request\(s\): expired before we could redeem it`,
		`destination +cnst_\w+ \(by (api|webhook)\): already in hand, not redeemed again`,
	} {
		if !regexp.MustCompile(pattern).MatchString(out.String()) {
			t.Errorf("output has no line matching %q:\n%s", pattern, out.String())
		}
	}
	for _, secret := range []string{"wbhsec_", "persona_sandbox_", "v1="} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output contains %q", secret)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, err := loadConfig(env())
	if err != nil || cfg.live() {
		t.Errorf("no environment: %v, live %v; want the demo", err, cfg.live())
	}
	cfg, err = loadConfig(env("PERSONA_API_KEY", "key", "PERSONA_WEBHOOK_SECRET", "wbhsec_a, wbhsec_b",
		"DESTINATION_OBJECT_ID", "act_1", "FIELD_MAPPINGS", "address_street_1=street, birthdate=dob", "WAIT_TIMEOUT", "90s"))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		APIKey: "key", WebhookSecrets: []string{"wbhsec_a", "wbhsec_b"}, BaseURL: connect.DefaultBaseURL, ListenAddr: ":8080",
		DestinationID: "act_1", WaitTimeout: 90 * time.Second,
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street"}, {SourceFieldName: "birthdate", DestinationFieldName: "dob"}},
	}
	if diff := cmp.Diff(want, cfg, cmp.AllowUnexported(config{}), cmp.Comparer(func(a, b func(string)) bool { return a == nil && b == nil })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	for name, bad := range map[string]func(string) string{
		"key without secret":         env("PERSONA_API_KEY", "key"),
		"secret without key":         env("PERSONA_WEBHOOK_SECRET", "wbhsec_a"),
		"destination of a bad kind":  env("DESTINATION_OBJECT_ID", "ver_1"),
		"mappings without hydrate":   env("FIELD_MAPPINGS", "a=b"),
		"mapping without a target":   env("DESTINATION_OBJECT_ID", "inq_1", "FIELD_MAPPINGS", "a="),
		"wait timeout not a time":    env("WAIT_TIMEOUT", "soon"),
		"wait timeout not positive":  env("WAIT_TIMEOUT", "0s"),
		"secret is never in the err": env("PERSONA_WEBHOOK_SECRET", "wbhsec_TOPSECRET"),
	} {
		_, err := loadConfig(bad)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

// TestServeLive runs the live mode against connecttest standing in for Persona:
// listening, a webhook delivery redeemed, a graceful stop when the context ends.
func TestServeLive(t *testing.T) {
	persona := connecttest.NewServer()
	defer persona.Close()
	src, dst := persona.NewOrganization("Acme Bank"), persona.NewOrganization("Beta Lending")
	cxn := persona.CreateConnection(src, dst)
	inq := persona.CreateInquiry(src)
	// The webhook needs a URL before serve has a port: a forwarder fills the gap.
	var (
		mu     sync.Mutex
		target *url.URL
	)
	forward := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		u := target
		mu.Unlock()
		if u == nil {
			http.Error(w, "not listening yet", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer forward.Close()
	secret := persona.AddWebhook(dst, forward.URL+"/webhooks/persona", connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	listening := make(chan struct{})
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, config{
			APIKey: dst.APIKey, WebhookSecrets: []string{secret}, BaseURL: persona.URL, ListenAddr: "127.0.0.1:0",
			WaitTimeout: 10 * time.Second,
			onListen: func(addr string) {
				mu.Lock()
				target = &url.URL{Scheme: "http", Host: addr}
				mu.Unlock()
				close(listening)
			},
		}, out)
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	source, err := connect.New(src.APIKey, connect.WithBaseURL(persona.URL))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
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
	stop()
	if err := <-done; err != nil {
		t.Errorf("run after stop: %v", err)
	}
	if s := out.String(); !strings.Contains(s, "shutting down") || strings.Contains(s, secret) || strings.Contains(s, dst.APIKey) {
		t.Errorf("output:\n%s", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
