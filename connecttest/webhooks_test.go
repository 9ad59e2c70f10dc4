package connecttest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// receiver is a webhook endpoint that records every request and answers with the
// status answer gives for the n-th one (1-based).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) int
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), b})
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	eventually(t, "webhook deliveries", func() bool { return len(rc.requests()) >= n })
	return rc.requests()
}

// signatureGroup is one group of a Persona-Signature header exactly as Persona writes
// it: the unix time and the lower-case hex HMAC-SHA256, nothing else.
var signatureGroup = regexp.MustCompile(`^t=([0-9]+),v1=([0-9a-f]{64})$`)

// verifySignature checks a Persona-Signature header the simplest way: every group,
// separated by one space, must be a signatureGroup whose v1 is
// hex(HMAC-SHA256(secret, t + "." + body)) for one of secrets. It returns the secret
// that signed each group, in order ("" for a group that fails).
func verifySignature(t *testing.T, header string, body []byte, secrets ...string) []string {
	t.Helper()
	var signers []string
	for _, g := range strings.Split(header, " ") {
		found := ""
		if m := signatureGroup.FindStringSubmatch(g); m != nil {
			for _, s := range secrets {
				mac := hmac.New(sha256.New, []byte(s))
				mac.Write([]byte(m[1] + "."))
				mac.Write(body)
				if hmac.Equal([]byte(m[2]), []byte(hex.EncodeToString(mac.Sum(nil)))) {
					found = s
				}
			}
		}
		if found == "" {
			t.Errorf("signature group %q is not t=<unix>,v1=<hex> signed by a given secret", g)
		}
		signers = append(signers, found)
	}
	return signers
}

func TestWebhooksDeliverEachOrganizationsView(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(0))
	srcHook, dstHook := newReceiver(t, nil), newReceiver(t, nil)
	srcSecret := w.srv.AddWebhook(w.src, srcHook.URL)
	dstSecret := w.srv.AddWebhook(w.dst, dstHook.URL)
	onlyRedeemed := newReceiver(t, nil)
	w.srv.AddWebhook(w.dst, onlyRedeemed.URL, connect.EventShareTokenInboundRedeemed)
	if !strings.HasPrefix(srcSecret, "wbhsec_") {
		t.Errorf("secret %q", srcSecret)
	}
	id := w.create(t)
	w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 202)

	for _, c := range []struct {
		rc        *receiver
		secret    string
		org       *connecttest.Organization
		direction string
		names     []connect.EventName
	}{
		{srcHook, srcSecret, w.src, "outbound", []connect.EventName{connect.EventShareTokenOutboundCreated, connect.EventShareTokenOutboundRedeemed}},
		{dstHook, dstSecret, w.dst, "inbound", []connect.EventName{connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed}},
	} {
		got := c.rc.waitFor(t, 2)
		seen := map[string]bool{}
		for _, req := range got {
			if req.header.Get("Content-Type") != "application/json" || req.header.Get("Persona-Webhook-Attempts-Made") != "1" ||
				req.header.Get("Persona-Webhook-Attempts-Left") != "7" || req.header.Get("Persona-Webhook-First-Attempted-At") == "" {
				t.Errorf("delivery headers: %v", req.header)
			}
			verifySignature(t, req.header.Get("Persona-Signature"), req.body, c.secret)
			var doc map[string]any
			if err := json.Unmarshal(req.body, &doc); err != nil {
				t.Fatal(err)
			}
			// Exactly the documented body.
			if got := strings.Join(sortedKeys(doc), ","); got != "data" {
				t.Errorf("body keys %s", got)
			}
			if got := strings.Join(sortedKeys(walk(doc, "data").(map[string]any)), ","); got != "attributes,id,type" {
				t.Errorf("data keys %s", got)
			}
			if got := strings.Join(sortedKeys(walk(doc, "data", "attributes").(map[string]any)), ","); got != "context,created-at,name,payload" {
				t.Errorf("attribute keys %s", got)
			}
			if inc, ok := walk(doc, "data", "attributes", "payload", "included").([]any); !ok || len(inc) != 0 {
				t.Errorf("payload.included %v", walk(doc, "data", "attributes", "payload", "included"))
			}
			name := walk(doc, "data", "attributes", "name").(string)
			seen[name] = true
			token := walk(doc, "data", "attributes", "payload", "data")
			if walk(token, "id") != id || walk(token, "attributes", "direction") != c.direction {
				t.Errorf("%s payload: %v", name, token)
			}
			if strings.HasSuffix(name, "redeemed") && walk(token, "attributes", "status") != "redeemed" {
				t.Errorf("%s payload status %v", name, walk(token, "attributes", "status"))
			}
			// The same event is in this organization's Events API, and in no other's.
			evID := walk(doc, "data", "id").(string)
			newRaw(t, w.srv, c.org).do("GET", "/events/"+evID, "").must(t, 200)
		}
		for _, n := range c.names {
			if !seen[string(n)] {
				t.Errorf("%s never received %s (got %v)", c.org.Name, n, seen)
			}
		}
	}
	got := onlyRedeemed.waitFor(t, 1)
	time.Sleep(20 * time.Millisecond) // a stray inbound-created would have arrived by now
	if len(onlyRedeemed.requests()) != 1 || !strings.Contains(string(got[0].body), "inbound-redeemed") {
		t.Errorf("a subscription to one name received %d deliveries", len(onlyRedeemed.requests()))
	}
}

func TestWebhookRetriesWithAttemptHeaders(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithWebhookRetryDelay(time.Millisecond))
	rc := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	secret := w.srv.AddWebhook(w.src, rc.URL)
	w.create(t)
	got := rc.waitFor(t, 3)
	for i, req := range got {
		if made, left := req.header.Get("Persona-Webhook-Attempts-Made"), req.header.Get("Persona-Webhook-Attempts-Left"); made != strconv.Itoa(i+1) || left != strconv.Itoa(7-i) {
			t.Errorf("attempt %d: made %s left %s", i+1, made, left)
		}
		if req.header.Get("Persona-Webhook-First-Attempted-At") != got[0].header.Get("Persona-Webhook-First-Attempted-At") {
			t.Errorf("attempt %d: First-Attempted-At changed", i+1)
		}
		if string(req.body) != string(got[0].body) {
			t.Errorf("attempt %d: body changed", i+1)
		}
		verifySignature(t, req.header.Get("Persona-Signature"), req.body, secret)
	}
	eventually(t, "the delivery log", func() bool { return len(w.srv.Deliveries()) == 3 })
	for i, d := range w.srv.Deliveries() {
		want := []int{500, 500, 204}[i]
		if d.Attempt != i+1 || d.StatusCode != want || d.EventName != connect.EventShareTokenOutboundCreated || d.URL != rc.URL || d.OrganizationID != w.src.ID {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
}

func TestWebhookGivesUpAfterSevenRetries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithWebhookRetryDelay(time.Millisecond))
	rc := newReceiver(t, func(int) int { return http.StatusBadGateway })
	w.srv.AddWebhook(w.src, rc.URL)
	w.create(t)
	got := rc.waitFor(t, 8)
	time.Sleep(300 * time.Millisecond) // a ninth attempt would come after 256 ms
	if n := len(rc.requests()); n != 8 {
		t.Fatalf("%d attempts, want 8", n)
	}
	if last := got[7].header; last.Get("Persona-Webhook-Attempts-Made") != "8" || last.Get("Persona-Webhook-Attempts-Left") != "0" {
		t.Errorf("last attempt headers %v", last)
	}
}

func TestWebhookTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithWebhookRetryDelay(time.Millisecond), connecttest.WithWebhookTimeout(50*time.Millisecond))
	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	w.srv.AddWebhook(w.src, slow.URL)
	w.create(t)
	eventually(t, "a retry after the timeout", func() bool {
		d := w.srv.Deliveries()
		return len(d) == 2 && d[1].StatusCode == 200
	})
	if d := w.srv.Deliveries()[0]; d.StatusCode != 0 || d.Err == "" {
		t.Errorf("timed-out attempt recorded as %+v", d)
	}
}

func TestWebhookSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fixedClock())
	rc := newReceiver(t, nil)
	old := w.srv.AddWebhook(w.src, rc.URL)
	w.create(t)
	first := rc.waitFor(t, 1)[0]
	if h := first.header.Get("Persona-Signature"); strings.Contains(h, " ") {
		t.Errorf("one secret, two groups: %q", h)
	}
	newer := w.srv.RotateWebhookSecret(old, time.Hour)
	w.create(t)
	second := rc.waitFor(t, 2)[1]
	h := second.header.Get("Persona-Signature")
	if strings.Count(h, " ") != 1 || strings.Contains(h, "  ") {
		t.Errorf("rotation header %q is not two groups joined by one space", h)
	}
	if signers := verifySignature(t, h, second.body, old, newer); len(signers) != 2 || signers[0] != newer || signers[1] != old {
		t.Errorf("groups signed by %v, want [new old]", signers)
	}
	w.srv.Advance(time.Hour)
	w.create(t)
	third := rc.waitFor(t, 3)[2]
	if signers := verifySignature(t, third.header.Get("Persona-Signature"), third.body, old, newer); len(signers) != 1 || signers[0] != newer {
		t.Errorf("after the old secret expired, signed by %v", signers)
	}
}

func TestCreateInquiryDeliversInquiryCompleted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hook, other, dstHook := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	secret := w.srv.AddWebhook(w.src, hook.URL, connect.EventInquiryCompleted)
	w.srv.AddWebhook(w.src, other.URL, connect.EventShareTokenOutboundCreated)
	w.srv.AddWebhook(w.dst, dstHook.URL) // every event of the other organization
	inq := w.srv.CreateInquiry(w.src)

	got := hook.waitFor(t, 1)[0]
	ev, err := connect.ConstructEvent(got.body, got.header.Get(connect.SignatureHeader), secret)
	if err != nil {
		t.Fatalf("ConstructEvent: %v", err)
	}
	if ev.Name != connect.EventInquiryCompleted || ev.Object != (connect.Ref{Type: "inquiry", ID: inq}) || !strings.HasPrefix(ev.ID, "evt_") {
		t.Errorf("event %s %s %+v", ev.ID, ev.Name, ev.Object)
	}
	// The same body through ParseEvent, as a replay from the Events API would go.
	if parsed, err := connect.ParseEvent(got.body); err != nil || parsed.Name != connect.EventInquiryCompleted || parsed.Object.ID != inq {
		t.Errorf("ParseEvent: %v, %+v", err, parsed)
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatal(err)
	}
	if walk(data, "attributes", "status") != "completed" || walk(data, "attributes", "completed-at") == nil ||
		walk(data, "attributes", "created-at") == nil || walk(data, "attributes", "fields", "name-first", "value") != "Alexander" {
		t.Errorf("payload.data: %s", ev.Data)
	}
	// The owner's Events API has it; the other organization's does not.
	if ids := ids(w.s.do("GET", "/events?filter%5Bobject-id%5D="+inq, "").must(t, 200)); len(ids) != 1 || ids[0] != ev.ID {
		t.Errorf("source's events about %s: %v, want [%s]", inq, ids, ev.ID)
	}
	w.d.do("GET", "/events/"+ev.ID, "").must(t, 404)
	time.Sleep(20 * time.Millisecond) // a stray delivery would have arrived by now
	if n, m := len(other.requests()), len(dstHook.requests()); n != 0 || m != 0 {
		t.Errorf("deliveries to a webhook not subscribed: %d, to the other organization: %d", n, m)
	}
	if n := len(hook.requests()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

// Persona's enabled-events takes "*" for every event (webhook-request-attributes.yaml),
// and the fake shows a webhook of every event as ["*"]: AddWebhook with "*" is the same
// webhook.
func TestWebhookSubscribedToStarReceivesEveryEvent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rc := newReceiver(t, nil)
	w.srv.AddWebhook(w.src, rc.URL, "*")
	id := w.create(t)
	got := rc.waitFor(t, 1)[0]
	var doc map[string]any
	if err := json.Unmarshal(got.body, &doc); err != nil {
		t.Fatal(err)
	}
	if name, about := walk(doc, "data", "attributes", "name"), walk(doc, "data", "attributes", "payload", "data", "id"); name != string(connect.EventShareTokenOutboundCreated) || about != id {
		t.Errorf("delivery of %v about %v, want %s about %s", name, about, connect.EventShareTokenOutboundCreated, id)
	}
}

// RotateWebhookSecret named by a secret that is already being retired rotates the
// webhook's current secret, as POST /webhooks/{id}/rotate-secret does: the retiring one
// keeps its own expiry, and no secret but the newest is left signing for ever.
func TestRotateWebhookSecretByARetiringSecret(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fixedClock())
	rc := newReceiver(t, nil)
	first := w.srv.AddWebhook(w.src, rc.URL)
	second := w.srv.RotateWebhookSecret(first, time.Hour)
	third := w.srv.RotateWebhookSecret(first, 2*time.Hour) // first still signs, for an hour
	for i, c := range []struct {
		after time.Duration
		want  []string
	}{
		{90 * time.Minute, []string{third, second}}, // first's hour is over; second has two
		{time.Hour, []string{third}},                // and now second's two are over too
	} {
		w.srv.Advance(c.after)
		w.create(t)
		got := rc.waitFor(t, i+1)[i]
		if signers := verifySignature(t, got.header.Get("Persona-Signature"), got.body, first, second, third); strings.Join(signers, " ") != strings.Join(c.want, " ") {
			t.Errorf("delivery %d signed by %v, want %v (first %s, second %s, third %s)", i+1, signers, c.want, first, second, third)
		}
	}
}
