package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/poll"
)

// fakeOut is the JSON object "connect fake" prints, decoded as a user of another
// language would: by its documented keys only.
type fakeOut struct {
	URL    string `json:"url"`
	Source struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	} `json:"source"`
	Destination struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	} `json:"destination"`
	ConnectionID  string `json:"connection_id"`
	InquiryID     string `json:"inquiry_id"`
	WebhookSecret string `json:"webhook_secret"`
	WebhookID     string `json:"webhook_id"`
}

// startFake starts "connect fake" with args and decodes the one line it prints.
func startFake(t *testing.T, args ...string) (*process, fakeOut) {
	t.Helper()
	p := start(t, nil, append([]string{"fake"}, args...)...)
	line := p.firstLine()
	var info fakeOut
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("decode %q: %v", line, err)
	}
	return p, info
}

// The fake's JSON is all a client needs: its keys create a token over its connection,
// and the destination redeems it, all with the command.
func TestFakeServesItsSeededWorld(t *testing.T) {
	t.Parallel()
	p, info := startFake(t)
	for name, v := range map[string]string{"url": info.URL, "source.id": info.Source.ID, "source.api_key": info.Source.APIKey,
		"destination.id": info.Destination.ID, "destination.api_key": info.Destination.APIKey,
		"connection_id": info.ConnectionID, "inquiry_id": info.InquiryID} {
		if v == "" {
			t.Errorf("%s is empty", name)
		}
	}
	if !strings.HasPrefix(info.URL, "http://127.0.0.1:") || !strings.HasSuffix(info.URL, "/api/v1") || info.WebhookSecret != "" || info.WebhookID != "" {
		t.Errorf("info = %+v", info)
	}
	src := []string{"PERSONA_BASE_URL=" + info.URL, "PERSONA_API_KEY=" + info.Source.APIKey}
	dst := []string{"PERSONA_BASE_URL=" + info.URL, "PERSONA_API_KEY=" + info.Destination.APIKey}

	cxn := decodeOne[connectionOut](t, mustRun(t, src, "connections", "get", info.ConnectionID, "--json").stdout)
	if cxn.Status != "active" || cxn.SourceOrganizationID != info.Source.ID || cxn.DestinationOrganizationID != info.Destination.ID {
		t.Errorf("connection = %+v", cxn)
	}
	tok := decodeOne[shareTokenOut](t, mustRun(t, src, "share-tokens", "create", "--connection", info.ConnectionID, "--source", info.InquiryID, "--json").stdout)
	if tok.Status != "created" || tok.Source == nil || tok.Source.ID != info.InquiryID {
		t.Fatalf("created %+v", tok)
	}
	mustRun(t, dst, "share-tokens", "redeem", tok.ID)
	if got := decodeOne[shareTokenOut](t, mustRun(t, dst, "share-tokens", "wait", tok.ID, "--json").stdout); got.Status != "redeemed" {
		t.Errorf("wait = %+v", got)
	}

	if code := p.stop(os.Interrupt); code != exitOK {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "connect: fake stopped") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
	// Closed: the port no longer answers.
	if r := run(t, src, "", "connections", "list"); r.code != exitRetryable {
		t.Errorf("after the stop: %s", r)
	}
}

// With --forward-to, the destination's events are delivered to that URL, signed with
// the webhook_secret the fake printed. SIGTERM stops it cleanly too.
func TestFakeForwardsTheDestinationsWebhooks(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 0)
	p, info := startFake(t, "--forward-to", ep.srv.URL)
	if !strings.HasPrefix(info.WebhookSecret, "wbhsec_") {
		t.Fatalf("webhook_secret = %q", info.WebhookSecret)
	}
	src := []string{"PERSONA_BASE_URL=" + info.URL, "PERSONA_API_KEY=" + info.Source.APIKey}
	tok := decodeOne[shareTokenOut](t, mustRun(t, src, "share-tokens", "create", "--connection", info.ConnectionID, "--source", info.InquiryID, "--json").stdout)

	poll.Until(t, "the inbound-created delivery", func() bool { return len(ep.accepted()) == 1 })
	got := ep.attempts()[0]
	if got.event.Name != connect.EventShareTokenInboundCreated || got.event.Object.ID != tok.ID {
		t.Errorf("delivered %s about %s, want %s about %s", got.event.Name, got.event.Object.ID, connect.EventShareTokenInboundCreated, tok.ID)
	}
	// The same check in a shell: connect webhooks verify with the fake's secret.
	r := run(t, []string{"HOOK_SECRET=" + info.WebhookSecret}, string(got.body),
		"webhooks", "verify", "--secret-env", "HOOK_SECRET", "--header", got.header.Get(connect.SignatureHeader))
	if r.code != exitOK {
		t.Errorf("the delivery does not verify with webhook_secret: %s", r)
	}

	if code := p.stop(syscall.SIGTERM); code != exitOK {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
}

// With --forward-to, the line carries webhook_id too: what a client of another language
// needs to rotate the secret over the API (POST /webhooks/{id}/rotate-secret, with the
// destination's key), after which a delivery carries two signature groups, one for
// each secret.
func TestFakeWebhookSecretRotatesOverTheAPI(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 0)
	p, info := startFake(t, "--forward-to", ep.srv.URL)
	if !strings.HasPrefix(info.WebhookID, "wbh_") {
		t.Fatalf("webhook_id = %q", info.WebhookID)
	}
	req, err := http.NewRequest(http.MethodPost, info.URL+"/webhooks/"+info.WebhookID+"/rotate-secret",
		strings.NewReader(`{"meta":{"expires-in-seconds":3600}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+info.Destination.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rotated struct {
		Data struct {
			Attributes struct {
				Secret string `json:"secret"`
			} `json:"attributes"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&rotated)
	resp.Body.Close()
	newSecret := rotated.Data.Attributes.Secret
	if err != nil || resp.StatusCode != http.StatusOK || newSecret == info.WebhookSecret || !strings.HasPrefix(newSecret, "wbhsec_") {
		t.Fatalf("rotate: %d, secret %q, %v", resp.StatusCode, newSecret, err)
	}

	src := []string{"PERSONA_BASE_URL=" + info.URL, "PERSONA_API_KEY=" + info.Source.APIKey}
	mustRun(t, src, "share-tokens", "create", "--connection", info.ConnectionID, "--source", info.InquiryID)
	poll.Until(t, "the inbound-created delivery", func() bool { return len(ep.accepted()) == 1 })
	got := ep.attempts()[0]
	if groups := strings.Fields(got.header.Get(connect.SignatureHeader)); len(groups) != 2 {
		t.Errorf("Persona-Signature %q, want two groups", got.header.Get(connect.SignatureHeader))
	}
	for _, secret := range []string{info.WebhookSecret, newSecret} {
		r := run(t, []string{"HOOK_SECRET=" + secret}, string(got.body),
			"webhooks", "verify", "--secret-env", "HOOK_SECRET", "--header", got.header.Get(connect.SignatureHeader))
		if r.code != exitOK {
			t.Errorf("the delivery does not verify with %s: %s", secret, r)
		}
	}
	if code := p.stop(os.Interrupt); code != exitOK {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
	}
}

// --addr puts the fake on a given address; one that cannot be bound is an error, and
// one that is no host:port at all is a usage mistake (exit 2).
func TestFakeAddr(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"nonsense", "127.0.0.1", "127.0.0.1:99999", "::1:8099"} {
		r := run(t, nil, "", "fake", "--addr", bad)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--addr must be host:port") || r.stdout != "" {
			t.Errorf("fake --addr %s: want exit 2 naming --addr, got %s", bad, r)
		}
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := run(t, nil, "", "fake", "--addr", busy.Addr().String())
	if r.code != exitError || !strings.Contains(r.stderr, "address already in use") || r.stdout != "" {
		t.Errorf("fake on a busy port: %s", r)
	}

	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	p, info := startFake(t, "--addr", addr)
	if info.URL != "http://"+addr+"/api/v1" {
		t.Errorf("url = %q, want one on %s", info.URL, addr)
	}
	if code := p.stop(os.Interrupt); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr)
	}
}

// On every interface (--addr 0.0.0.0:port or :port), the url printed is one that
// reaches the fake from this machine, loopback, and that the SDK and the command
// accept: the wildcard address itself is neither.
func TestFakeOnEveryInterfacePrintsALoopbackURL(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		p, info := startFake(t, "--addr", addr)
		if !strings.HasPrefix(info.URL, "http://127.0.0.1:") || !strings.HasSuffix(info.URL, "/api/v1") {
			t.Errorf("--addr %s: url = %q, want http://127.0.0.1:<port>/api/v1", addr, info.URL)
		}
		src := []string{"PERSONA_BASE_URL=" + info.URL, "PERSONA_API_KEY=" + info.Source.APIKey}
		if r := run(t, src, "", "connections", "get", info.ConnectionID); r.code != exitOK {
			t.Errorf("--addr %s: the printed url does not serve: %s", addr, r)
		}
		if code := p.stop(os.Interrupt); code != exitOK {
			t.Fatalf("--addr %s: exit %d; stderr:\n%s", addr, code, p.stderr)
		}
	}
}

func TestReachableURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, addr, want string }{
		{"http://127.0.0.1:8099/api/v1", "127.0.0.1:8099", "http://127.0.0.1:8099/api/v1"},
		{"http://[::1]:8099/api/v1", "[::1]:8099", "http://[::1]:8099/api/v1"},
		{"http://[::]:8099/api/v1", ":8099", "http://127.0.0.1:8099/api/v1"},
		{"http://[::]:8099/api/v1", "0.0.0.0:8099", "http://127.0.0.1:8099/api/v1"},
		{"http://0.0.0.0:8099/api/v1", "0.0.0.0:8099", "http://127.0.0.1:8099/api/v1"},
		{"http://[::]:8099/api/v1", "[::]:8099", "http://[::1]:8099/api/v1"},
		{"http://192.0.2.7:8099/api/v1", "192.0.2.7:8099", "http://192.0.2.7:8099/api/v1"},
	} {
		if got := reachableURL(tc.url, tc.addr); got != tc.want {
			t.Errorf("reachableURL(%q, %q) = %q, want %q", tc.url, tc.addr, got, tc.want)
		}
	}
}

// A client that stops halfway through a request (a test killed while it sent one)
// does not keep the fake from stopping: SIGTERM still ends it, exit 0.
func TestFakeStopsWhileARequestHangs(t *testing.T) {
	t.Parallel()
	p, info := startFake(t)
	u, err := url.Parse(info.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server say when the handler starts reading the
	// body, which then never comes whole.
	fmt.Fprintf(conn, "POST %s/connect/share-tokens HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
		u.Path, u.Host, info.Source.APIKey)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("want the server reading the body, got %q, %v", line, err)
	}
	if _, err := io.WriteString(conn, `{"data":`); err != nil {
		t.Fatal(err)
	}
	if code := p.stop(syscall.SIGTERM); code != exitOK {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
	stderr := p.stderr.String()
	if !strings.Contains(stderr, "cut off 1 connection(s) still busy") || !strings.Contains(stderr, "connect: fake stopped") ||
		strings.Contains(stderr, "blocked in Close") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// --rate-limit sets the requests a minute each organization may make: a test suite in
// another language makes more than Persona's 300, and --rate-limit 0 turns it off.
// Plain HTTP, as such a suite sends it (the SDK would wait for the window instead).
func TestFakeRateLimit(t *testing.T) {
	t.Parallel()
	statuses := func(info fakeOut, n int) []int {
		var got []int
		for range n {
			req, err := http.NewRequest(http.MethodGet, info.URL+"/connect/connections/"+info.ConnectionID, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+info.Source.APIKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	for _, tc := range []struct {
		limit string
		want  []int
	}{
		{"2", []int{200, 200, 429}},
		{"0", []int{200, 200, 200, 200}},
	} {
		p, info := startFake(t, "--rate-limit", tc.limit)
		if got := statuses(info, len(tc.want)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("--rate-limit %s: statuses %v, want %v", tc.limit, got, tc.want)
		}
		if code := p.stop(os.Interrupt); code != exitOK {
			t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
		}
	}
	if r := run(t, nil, "", "fake", "--rate-limit", "-1"); r.code != exitUsage || !strings.Contains(r.stderr, "--rate-limit") {
		t.Errorf("--rate-limit -1: %s", r)
	}
}
