package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/syncbuf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoadEnv(t *testing.T) {
	t.Parallel()
	got := LoadEnv(Getenv("PERSONA_API_KEY", " key ", "PERSONA_WEBHOOK_SECRET", "wbhsec_a, ,wbhsec_b", "LISTEN_ADDR", "127.0.0.1:9"))
	want := Env{APIKey: "key", WebhookSecrets: []string{"wbhsec_a", "wbhsec_b"}, BaseURL: connect.DefaultBaseURL, ListenAddr: "127.0.0.1:9"}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b func(string)) bool { return a == nil && b == nil })); diff != "" {
		t.Errorf("LoadEnv (-want +got):\n%s", diff)
	}
	if d := LoadEnv(Getenv()); d.Live() || d.ListenAddr != ":8080" || d.BaseURL != connect.DefaultBaseURL {
		t.Errorf("empty environment: %+v", d)
	}
}

func TestCheckLive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		env      Env
		required []Var
		missing  string // "" for no error
	}{
		{"the demo", Env{}, []Var{{"CONNECTION_ID", ""}}, ""},
		{"live", Env{APIKey: "k", WebhookSecrets: []string{"wbhsec_TOPSECRET"}}, []Var{{"CONNECTION_ID", "cxn_1"}}, ""},
		{"key only", Env{APIKey: "k"}, nil, "PERSONA_WEBHOOK_SECRET"},
		{"secret only", Env{WebhookSecrets: []string{"wbhsec_TOPSECRET"}}, nil, "PERSONA_API_KEY"},
		{"a required variable", Env{APIKey: "k", WebhookSecrets: []string{"wbhsec_TOPSECRET"}}, []Var{{"CONNECTION_ID", ""}, {"X", "x"}}, "also set CONNECTION_ID ("},
	} {
		err := c.env.CheckLive(c.required...)
		switch {
		case c.missing == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.missing != "" && (err == nil || !strings.Contains(err.Error(), c.missing)):
			t.Errorf("%s: %v, want it to name %s", c.name, err, c.missing)
		case err != nil && strings.Contains(err.Error(), "TOPSECRET"):
			t.Errorf("%s: the error shows a value: %v", c.name, err)
		}
	}
}

// TestFake: both organizations see the one active connection, and Webhook's verifier
// holds the webhook's secret.
func TestFake(t *testing.T) {
	t.Parallel()
	f := NewFake()
	defer f.Close()
	for _, org := range []*connecttest.Organization{f.Source, f.Destination} {
		c, err := f.NewClient(org)
		if err != nil {
			t.Fatal(err)
		}
		cxn, err := c.Connections.Get(context.Background(), f.Connection)
		if err != nil || cxn.Status != connect.ConnectionActive {
			t.Errorf("%s: connection %+v, %v; want the active one", org.Name, cxn, err)
		}
	}
	if f.Source.Name != "Acme Bank" || f.Destination.Name != "Beta Lending" {
		t.Errorf("organizations %q and %q", f.Source.Name, f.Destination.Name)
	}
	v, secret, err := f.Webhook(f.Destination, "http://127.0.0.1:1/webhooks/persona", connect.EventShareTokenInboundCreated)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"data":{}}`)
	if err := v.Verify(body, connect.SignHeader(body, secret, time.Now())); err != nil {
		t.Errorf("the verifier does not hold the webhook's secret: %v", err)
	}
}

// TestPushShareToken: a POST of {"share_token_id": id} as JSON, and the answer.
func TestPushShareToken(t *testing.T) {
	t.Parallel()
	var got string
	partner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + string(body)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"share_token_id":"cnst_1"}`)
	}))
	defer partner.Close()
	resp, err := PushShareToken(context.Background(), partner.Client(), partner.URL+"/share-tokens", "cnst_1")
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PushShareToken = %v, %v; want 202", resp, err)
	}
	if want := `POST /share-tokens application/json {"share_token_id":"cnst_1"}`; got != want {
		t.Errorf("the partner received %q, want %q", got, want)
	}
	if _, err := PushShareToken(context.Background(), partner.Client(), "http://127.0.0.1:0/share-tokens", "cnst_1"); err == nil {
		t.Error("a push nobody receives: no error")
	}
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tl := NewTimeline(&out)
	tl.Log("source", "made %s", "cnst_1")
	if !regexp.MustCompile(`^ *\d+\.\d{3}s  source       made cnst_1\n$`).MatchString(out.String()) {
		t.Errorf("line %q", out.String())
	}
}

// TestTimelineEscapesPersonasText: what Persona sent (a status, an event name, an
// error's details) is printed through Log, so a line break or ESC in it must not
// forge a line or recolour the terminal.
func TestTimelineEscapesPersonasText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tl := NewTimeline(&out)
	status := connect.ShareTokenStatus("redeemed\n 9.999s  destination  cnst_2 redeemed\x1b[31m\u202e")
	tl.Log("destination", "%s is %s", "cnst_1", status)
	line := out.String()
	if strings.Count(line, "\n") != 1 || strings.ContainsAny(line, "\x1b\u202e") {
		t.Errorf("one line with Persona's text escaped, got %q", line)
	}
	if !strings.Contains(line, `cnst_1 is redeemed\n 9.999s`) || !strings.Contains(line, `\x1b[31m\u202e`) {
		t.Errorf("the escaped text should still show what was sent: %q", line)
	}
}

// TestStartLive runs Serve as an example's live mode does, on the fake, reached through
// the forwarder the fake's webhook points at, and stops it.
func TestStartLive(t *testing.T) {
	t.Parallel()
	f := NewFake()
	defer f.Close()
	out := &syncbuf.Buffer{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/persona", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	live, err := f.StartLive(ctx, f.Destination, []connect.EventName{connect.EventShareTokenInboundCreated}, func(ctx context.Context, env Env) error {
		return Serve(ctx, env, mux, NewTimeline(out), "test", "about it")
	})
	if err != nil {
		t.Fatal(err)
	}
	if live.Env.APIKey != f.Destination.APIKey || live.Env.BaseURL != f.URL || len(live.Env.WebhookSecrets) != 1 {
		t.Errorf("Env %+v, want the destination's key, the fake's URL and one secret", live.Env)
	}
	// The fake delivers the destination's webhook to the program through the forwarder.
	source, err := f.NewClient(f.Source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: f.Connection, SourceID: f.CreateInquiry(f.Source)}); err != nil {
		t.Fatal(err)
	}
	if got := f.DeliveryStatuses(connect.EventShareTokenInboundCreated, 1); !cmp.Equal(got, []int{http.StatusAccepted}) {
		t.Errorf("delivery statuses %v, want the program's 202", got)
	}
	if err := live.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if s := out.String(); !regexp.MustCompile(`test +listening on 127\.0\.0\.1:\d+ \(about it\)`).MatchString(s) || !strings.Contains(s, "shutting down") {
		t.Errorf("output:\n%s", s)
	}
	if got := live.Leaks("key " + live.Env.APIKey + " secret " + live.Env.WebhookSecrets[0]); len(got) < 2 {
		t.Errorf("Leaks = %q, want the key and the secret found", got)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestServeClosesWhatOutlastsTheGrace: a request still running when the shutdown's
// grace ends is cut off (its context ends, its connection closes), not left running
// after Serve has returned.
func TestServeClosesWhatOutlastsTheGrace(t *testing.T) {
	t.Parallel()
	started, ended := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // a handler that never finishes by itself
		close(ended)
	})
	addr := make(chan string, 1)
	env := Env{ListenAddr: "127.0.0.1:0", OnListen: func(a string) { addr <- a }, ShutdownGrace: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, env, h, NewTimeline(io.Discard), "test", "") }()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	reqCtx, stopReq := context.WithTimeout(context.Background(), 20*time.Second)
	defer stopReq()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, "http://"+<-addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	if err := <-served; err == nil {
		t.Error("Serve: nil, want the shutdown's timeout")
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		stopReq()
		<-ended
		t.Error("the request outlived Serve: its context did not end when the grace did")
	}
}

// TestForwarderBeforeListening: a delivery before the program listens is answered
// 503, which Persona retries.
func TestForwarderBeforeListening(t *testing.T) {
	t.Parallel()
	fwd := newForwarder()
	defer fwd.Close()
	resp, err := http.Get(fwd.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before listening: %d, want 503", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestStartLiveReportsAnEarlyEnd(t *testing.T) {
	t.Parallel()
	f := NewFake()
	defer f.Close()
	boom := errors.New("boom")
	if _, err := f.StartLive(context.Background(), f.Source, nil, func(context.Context, Env) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("StartLive: %v, want boom", err)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	load := func(getenv func(string) string) (string, error) {
		switch v := getenv("X"); v {
		case "ok":
			return v, nil
		case "":
			return "", errors.New("X is required")
		default:
			return "", errors.New("X " + v + " is wrong")
		}
	}
	got := Refusals(load, map[string]func(string) string{
		"unset": Getenv(), "accepted": Getenv("X", "ok"), "shown": Getenv("X", "TOPSECRET"),
	}, "TOPSECRET")
	slices.Sort(got)
	if diff := cmp.Diff([]string{"accepted: no error", "shown: the error shows the secret: X TOPSECRET is wrong"}, got); diff != "" {
		t.Errorf("Refusals (-want +got):\n%s", diff)
	}
}

func TestLeaks(t *testing.T) {
	t.Parallel()
	if got := Leaks("t=1,v1=abc and wbhsec_x", "mykey"); !cmp.Equal(got, []string{"wbhsec_", "v1="}) {
		t.Errorf("Leaks: %q", got)
	}
	if got := Leaks("clean", ""); got != nil {
		t.Errorf("Leaks of clean output: %q", got)
	}
}
