package connecttest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func relNames(r rawResp, path ...any) string {
	m, _ := r.get(path...).(map[string]any)
	return strings.Join(sortedKeys(m), ",")
}

func TestEachSideSeesItsOwnView(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(time.Hour))
	id := w.create(t)
	stranger := newRaw(t, w.srv, w.srv.NewOrganization("Stranger"))

	for _, side := range []struct {
		name      string
		as        rawClient
		direction string
		rels      string
		relPath   []any // a relationship member and the value it must hold
		relValue  string
	}{
		{"source", w.s, "outbound", "connection,creator,source", []any{"source", "data", "id"}, w.inq},
		{"source", w.s, "outbound", "connection,creator,source", []any{"creator", "data", "type"}, "api-key"},
		{"destination", w.d, "inbound", "connection,destination", []any{"connection", "data", "id"}, w.cxn},
	} {
		r := side.as.do("GET", "/connect/share-tokens/"+id, "").must(t, 200)
		if got := r.str("data", "attributes", "direction"); got != side.direction {
			t.Errorf("%s sees direction %q, want %s", side.name, got, side.direction)
		}
		if got := relNames(r, "data", "relationships"); got != side.rels {
			t.Errorf("%s sees relationships %s, want %s", side.name, got, side.rels)
		}
		if got := r.str(append([]any{"data", "relationships"}, side.relPath...)...); got != side.relValue {
			t.Errorf("%s: relationships.%v = %q, want %s", side.name, side.relPath, got, side.relValue)
		}
	}
	// A clone is pending with destination data null.
	pending := w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 202)
	if d, present := pending.get("data", "relationships", "destination").(map[string]any)["data"]; !present || d != nil {
		t.Errorf("pending clone destination = %v (present %v), want null", d, present)
	}
	if pending.str("data", "attributes", "redeem-mode") != "clone" || pending.str("data", "attributes", "status") != "pending" {
		t.Errorf("redeem answer: %s", pending.body)
	}

	// Strangers see nothing; each wrong side is refused.
	for _, c := range []struct {
		method, path string
	}{{"GET", "/connect/share-tokens/" + id}, {"POST", "/connect/share-tokens/" + id + "/redeem"}, {"POST", "/connect/share-tokens/" + id + "/expire"}, {"GET", "/connect/connections/" + w.cxn}} {
		stranger.do(c.method, c.path, "").must(t, 404)
	}
	if n := len(stranger.do("GET", "/connect/share-tokens", "").must(t, 200).get("data").([]any)); n != 0 {
		t.Errorf("a stranger lists %d tokens", n)
	}
	other := w.create(t)
	if r := w.s.do("POST", "/connect/share-tokens/"+other+"/redeem", "").must(t, 403); !strings.Contains(r.str("errors", 0, "details"), "destination") {
		t.Errorf("403 details: %s", r.body)
	}
	w.d.do("POST", "/connect/share-tokens/"+other+"/expire", "").must(t, 403)
	w.d.do("POST", "/connect/share-tokens", createBody(w.cxn, w.srv.CreateInquiry(w.dst))).must(t, 403)
}

func TestCloneCreatesAnObjectInTheDestination(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.create(t)
	w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{}}}`).must(t, 202)
	r := waitStatus(t, w.d, id, "redeemed")
	dest := r.str("data", "relationships", "destination", "data", "id")
	obj, ok := w.srv.Object(dest)
	if !ok || obj.OrganizationID != w.dst.ID || obj.Type != "inquiry" || obj.Fields["name_first"] != "Alexander" {
		t.Fatalf("clone destination %q: %+v", dest, obj)
	}
	if r.get("data", "attributes", "redeemed-at") == nil || r.get("data", "attributes", "pending-at") == nil {
		t.Errorf("timestamps: %s", r.body)
	}
	// The source sees redeemed too, still without the destination.
	s := w.s.do("GET", "/connect/share-tokens/"+id, "").must(t, 200)
	if s.str("data", "attributes", "status") != "redeemed" || s.get("data", "relationships", "destination") != nil {
		t.Errorf("source view after redemption: %s", s.body)
	}
}

func TestRedeemAndExpireOnlyFromCreated(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(time.Hour))
	pending := w.create(t)
	w.d.do("POST", "/connect/share-tokens/"+pending+"/redeem", "").must(t, 202)
	expired := w.create(t)
	w.s.do("POST", "/connect/share-tokens/"+expired+"/expire", "").must(t, 200)

	w2 := newWorld(t, connecttest.WithRedeemDelay(0), connecttest.WithRedeemFailure(connect.FailureImportFailed))
	failed := w2.create(t)
	w2.d.do("POST", "/connect/share-tokens/"+failed+"/redeem", "").must(t, 202)
	waitStatus(t, w2.d, failed, "failed")

	w3 := newWorld(t, connecttest.WithRedeemDelay(0))
	redeemed := w3.create(t)
	w3.d.do("POST", "/connect/share-tokens/"+redeemed+"/redeem", "").must(t, 202)
	waitStatus(t, w3.d, redeemed, "redeemed")

	for _, c := range []struct {
		w      *world
		id     string
		status string
	}{{w, pending, "pending"}, {w, expired, "expired"}, {w2, failed, "failed"}, {w3, redeemed, "redeemed"}} {
		r := c.w.d.do("POST", "/connect/share-tokens/"+c.id+"/redeem", "").must(t, 409)
		if got, want := r.firstError()["title"], "Share token is "+c.status; got != want {
			t.Errorf("redeem %s: title %v, want %q", c.status, got, want)
		}
		r = c.w.s.do("POST", "/connect/share-tokens/"+c.id+"/expire", "").must(t, 409)
		if got, want := r.firstError()["title"], "Share token is "+c.status; got != want {
			t.Errorf("expire %s: title %v, want %q", c.status, got, want)
		}
	}
	// Expire sets expires-at to now, like the spec's example (expires-at = updated-at).
	r := w.s.do("GET", "/connect/share-tokens/"+expired, "").must(t, 200)
	if r.str("data", "attributes", "expires-at") != r.str("data", "attributes", "updated-at") {
		t.Errorf("expired token: %s", r.body)
	}
}

func TestCloneAndHydrateRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(0))
	other := w.srv.NewOrganization("Other")
	sources := map[string]string{
		"inquiry":      w.inq,
		"account":      w.srv.CreateAccount(w.src),
		"transaction":  w.srv.CreateTransaction(w.src),
		"verification": w.srv.CreateVerification(w.src),
	}
	dests := map[string]func() string{
		"clone":              func() string { return "" },
		"inquiry":            func() string { return w.srv.CreateInquiry(w.dst) },
		"account":            func() string { return w.srv.CreateAccount(w.dst) },
		"transaction":        func() string { return w.srv.CreateTransaction(w.dst) },
		"verification":       func() string { return w.srv.CreateVerification(w.dst) },
		"other org inquiry":  func() string { return w.srv.CreateInquiry(other) },
		"source org inquiry": func() string { return w.srv.CreateInquiry(w.src) },
	}
	tests := []struct {
		source, dest string
		status       int
	}{
		{"inquiry", "clone", 202}, {"verification", "clone", 202},
		{"account", "clone", 422}, {"transaction", "clone", 422},
		{"inquiry", "inquiry", 202}, {"inquiry", "account", 202}, {"account", "account", 202},
		{"transaction", "transaction", 202}, {"account", "transaction", 202},
		{"verification", "inquiry", 422}, {"inquiry", "verification", 422},
		{"inquiry", "other org inquiry", 422}, {"inquiry", "source org inquiry", 422},
	}
	for _, tc := range tests {
		src := sources[tc.source]
		id := w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, src)).must(t, 201).str("data", "id")
		body := `{"data":{"attributes":{}}}`
		if d := dests[tc.dest](); d != "" {
			body = `{"data":{"attributes":{"destination-id":"` + d + `"}}}`
		}
		r := w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", body)
		if r.status != tc.status {
			t.Errorf("%s -> %s: %d, want %d: %s", tc.source, tc.dest, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 422 && walk(r.firstError(), "source", "pointer") != "/data/attributes/destination-id" {
			t.Errorf("%s -> %s: pointer: %s", tc.source, tc.dest, r.body)
		}
	}

	// Field mappings hydrate named fields; on a clone they are refused.
	id := w.create(t)
	w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{}},"meta":{"field-mappings":[{"source-field-name":"name_first","destination-field-name":"given_name"}]}}`).must(t, 422)
	dest := w.srv.CreateAccount(w.dst)
	w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}},"meta":{"field-mappings":[{"source-field-name":"name_first","destination-field-name":"given_name"}]}}`).must(t, 202)
	waitStatus(t, w.d, id, "redeemed")
	if obj, _ := w.srv.Object(dest); obj.Fields["given_name"] != "Alexander" {
		t.Errorf("field mapping not applied: %+v", obj.Fields)
	}
	// A mapping without destination-field-name, or with another member, is a bad request.
	id = w.create(t)
	for _, meta := range []string{`{"field-mappings":[{"source-field-name":"a"}]}`, `{"field-mappings":[{"source-field-name":"a","destination-field-name":"b","x":1}]}`, `{"other":1}`} {
		w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}},"meta":`+meta+`}`).must(t, 400)
	}
}

func TestCreateValidatesLikePersona(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pendingCxn := w.srv.CreatePendingConnection(w.src, w.srv.NewOrganization("Later"))
	tests := []struct {
		name     string
		body     string
		status   int
		pointers []string
	}{
		{"unknown attribute", createBody(w.cxn, w.inq, `"color":"red"`), 400, nil},
		{"type member", `{"data":{"type":"connect/share-token","attributes":{"connection-id":"` + w.cxn + `","source-id":"` + w.inq + `"}}}`, 400, nil},
		{"top-level meta", `{"data":{"attributes":{}},"meta":{}}`, 400, nil},
		{"not JSON", `{"data":`, 400, nil},
		{"array", `[]`, 400, nil},
		{"string id", `{"data":{"attributes":{"connection-id":5,"source-id":"` + w.inq + `"}}}`, 400, nil},
		{"fractional ttl", createBody(w.cxn, w.inq, `"expires-in-seconds":60.5`), 400, nil},
		{"string ttl", createBody(w.cxn, w.inq, `"expires-in-seconds":"60"`), 400, nil},
		// A missing attribute is a 400 naming it in details, as the spec's bad-request
		// examples ("data.attributes.name is missing") show; 400 items carry no pointer.
		{"both missing", `{"data":{"attributes":{}}}`, 400, nil},
		{"empty body", ``, 400, nil},
		{"source missing", `{"data":{"attributes":{"connection-id":"` + w.cxn + `"}}}`, 400, nil},
		{"ttl too short", createBody(w.cxn, w.inq, `"expires-in-seconds":59`), 422, []string{"/data/attributes/expires-in-seconds"}},
		{"ttl too long", createBody(w.cxn, w.inq, `"expires-in-seconds":1814401`), 422, []string{"/data/attributes/expires-in-seconds"}},
		{"ttl shortest", createBody(w.cxn, w.inq, `"expires-in-seconds":60`), 201, nil},
		{"ttl longest", createBody(w.cxn, w.inq, `"expires-in-seconds":1814400`), 201, nil},
		{"bad source prefix", createBody(w.cxn, "doc_123"), 422, []string{"/data/attributes/source-id"}},
		{"unknown connection", createBody("cxn_nope", w.inq), 404, nil},
		{"connection not active", createBody(pendingCxn, w.inq), 422, []string{"/data/attributes/connection-id"}},
		{"source of another org", createBody(w.cxn, w.srv.CreateInquiry(w.dst)), 404, nil},
		{"unknown source", createBody(w.cxn, "inq_nope"), 404, nil},
	}
	for _, tc := range tests {
		r := w.s.do("POST", "/connect/share-tokens", tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		var pointers []string
		for i := range asList(r.get("errors")) {
			if p, ok := r.get("errors", i, "source", "pointer").(string); ok {
				pointers = append(pointers, p)
			}
		}
		if fmt.Sprint(pointers) != fmt.Sprint(tc.pointers) {
			t.Errorf("%s: pointers %v, want %v", tc.name, pointers, tc.pointers)
		}
	}
	// Each missing attribute is its own item, named in details.
	var details []string
	r := w.s.do("POST", "/connect/share-tokens", `{"data":{"attributes":{}}}`).must(t, 400)
	for i := range asList(r.get("errors")) {
		details = append(details, fmt.Sprint(r.get("errors", i, "details")))
	}
	if want := "[data.attributes.connection-id is missing data.attributes.source-id is missing]"; fmt.Sprint(details) != want {
		t.Errorf("missing attributes' details %v, want %s", details, want)
	}
	// The default TTL is 14 days.
	r = w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq)).must(t, 201)
	created, _ := time.Parse(time.RFC3339, r.str("data", "attributes", "created-at"))
	expires, _ := time.Parse(time.RFC3339, r.str("data", "attributes", "expires-at"))
	if expires.Sub(created) != 14*24*time.Hour {
		t.Errorf("default TTL %v", expires.Sub(created))
	}
	if !strings.HasSuffix(r.str("data", "attributes", "created-at"), "Z") || len(r.str("data", "attributes", "created-at")) != len("2023-08-17T23:18:13.000Z") {
		t.Errorf("timestamp format %q", r.str("data", "attributes", "created-at"))
	}
}

func TestRedemptionFailures(t *testing.T) {
	t.Parallel()
	reasons := []connect.FailureReason{connect.FailureSourceNotFound, connect.FailureSourceRedacted, connect.FailureImportFailed, connect.FailureUnrecoverableError}
	for _, reason := range reasons {
		w := newWorld(t, connecttest.WithRedeemDelay(0), connecttest.WithRedeemFailure(reason))
		id := w.create(t)
		w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 202)
		r := waitStatus(t, w.d, id, "failed")
		if got := r.str("data", "attributes", "failure-reason"); got != string(reason) {
			t.Errorf("failure-reason %q, want %q", got, reason)
		}
		if r.get("data", "attributes", "failed-at") == nil || r.get("data", "relationships", "destination", "data") != nil {
			t.Errorf("failed clone: %s", r.body)
		}
		// No event for a failure: only the two *-created ones exist.
		if n := len(w.d.do("GET", "/events", "").must(t, 200).get("data").([]any)); n != 1 {
			t.Errorf("destination has %d events after a failure, want 1", n)
		}
	}
	// Natural causes: a redacted or deleted source.
	w := newWorld(t, connecttest.WithRedeemDelay(0))
	for _, c := range []struct {
		act  func(string)
		want string
	}{{w.srv.RedactObject, "source_redacted"}, {w.srv.DeleteObject, "source_not_found"}} {
		inq := w.srv.CreateInquiry(w.src)
		id := w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, inq)).must(t, 201).str("data", "id")
		c.act(inq)
		w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 202)
		if got := waitStatus(t, w.d, id, "failed").str("data", "attributes", "failure-reason"); got != c.want {
			t.Errorf("failure-reason %q, want %q", got, c.want)
		}
	}
}

func TestTTLExpiryFollowsTheServerClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	w := newWorld(t, connecttest.WithClock(func() time.Time { return start }))
	r := w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq, `"expires-in-seconds":60`)).must(t, 201)
	id := r.str("data", "id")
	if got := r.str("data", "attributes", "expires-at"); got != "2025-01-02T03:05:05.000Z" {
		t.Errorf("expires-at %s", got)
	}
	w.srv.Advance(59 * time.Second)
	if got := w.d.do("GET", "/connect/share-tokens/"+id, "").str("data", "attributes", "status"); got != "created" {
		t.Fatalf("at 59s the token is %s", got)
	}
	w.srv.Advance(time.Second)
	r = w.d.do("GET", "/connect/share-tokens/"+id, "").must(t, 200)
	if r.str("data", "attributes", "status") != "expired" || r.str("data", "attributes", "updated-at") != "2025-01-02T03:05:05.000Z" {
		t.Errorf("at 60s: %s", r.body)
	}
	if got := w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 409).firstError()["title"]; got != "Share token is expired" {
		t.Errorf("title %v", got)
	}
	list := w.s.do("GET", "/connect/share-tokens?filter%5Bstatus%5D=expired", "").must(t, 200)
	if list.str("data", 0, "id") != id {
		t.Errorf("filter[status]=expired: %s", list.body)
	}
	// The default TTL: 14 days.
	other := w.create(t)
	w.srv.Advance(14*24*time.Hour - time.Millisecond)
	if got := w.s.do("GET", "/connect/share-tokens/"+other, "").str("data", "attributes", "status"); got != "created" {
		t.Errorf("before 14 days: %s", got)
	}
	w.srv.Advance(time.Millisecond)
	if got := w.s.do("GET", "/connect/share-tokens/"+other, "").str("data", "attributes", "status"); got != "expired" {
		t.Errorf("after 14 days: %s", got)
	}
}

func TestConnectionLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.src, w.srv.NewOrganization("B") // no connection between them yet
	ra, rb := w.s, newRaw(t, w.srv, b)
	srv, inq := w.srv, w.inq
	create := func(dst string) rawResp {
		return ra.do("POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"`+dst+`"}}}`)
	}
	id := create(b.ID).must(t, 201).str("data", "id")
	create(b.ID).must(t, 409)
	create(a.ID).must(t, 422)
	create("org_nope").must(t, 404)
	if r := ra.do("POST", "/connect/connections", `{"data":{"attributes":{}}}`).must(t, 400); r.firstError()["details"] != "data.attributes.destination-organization-id is missing" {
		t.Errorf("missing destination: %s", r.body)
	}
	ra.do("POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"`+b.ID+`","x":1}}}`).must(t, 400)
	ra.do("POST", "/connect/share-tokens", createBody(id, inq)).must(t, 422)
	srv.AcceptConnection(id)
	ra.do("POST", "/connect/share-tokens", createBody(id, inq)).must(t, 201)
	rb.do("POST", "/connect/connections/"+id+"/deactivate", "").must(t, 200)
	rb.do("POST", "/connect/connections/"+id+"/deactivate", "").must(t, 409)
	ra.do("POST", "/connect/share-tokens", createBody(id, inq)).must(t, 422)
	rb.do("POST", "/connect/connections/"+id+"/reactivate", "").must(t, 403)
	if got := ra.do("POST", "/connect/connections/"+id+"/reactivate", "").must(t, 200).str("data", "attributes", "status"); got != "pending" {
		t.Errorf("reactivated connection is %s", got)
	}
	ra.do("POST", "/connect/connections/"+id+"/reactivate", "").must(t, 409)
	// Filters.
	if n := len(rb.do("GET", "/connect/connections?filter%5Bstatus%5D=active", "").must(t, 200).get("data").([]any)); n != 0 {
		t.Errorf("b has %d active connections", n)
	}
	if n := len(rb.do("GET", "/connect/connections?filter%5Bdestination-organization-id%5D="+b.ID, "").must(t, 200).get("data").([]any)); n != 1 {
		t.Errorf("b has %d connections to itself", n)
	}
	rb.do("GET", "/connect/connections?filter%5Bstatus%5D=bogus", "").must(t, 400)
}

// Reactivating a connection while another one from the same source to the same
// destination is pending or active would leave two live ones, which creating the second
// refuses (policy.go): it answers 409 too, and leaves the connection inactive.
func TestReactivateRefusesASecondLiveConnection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.s.do("POST", "/connect/connections/"+w.cxn+"/deactivate", "").must(t, 200)
	newer := w.s.do("POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"`+w.dst.ID+`"}}}`).must(t, 201).str("data", "id")
	if r := w.s.do("POST", "/connect/connections/"+w.cxn+"/reactivate", "").must(t, 409); r.str("errors", 0, "details") != "Resource already exists as an active resource" {
		t.Errorf("409 body: %s", r.body)
	}
	if got := w.s.do("GET", "/connect/connections/"+w.cxn, "").must(t, 200).str("data", "attributes", "status"); got != "inactive" {
		t.Errorf("refused reactivation left the connection %s", got)
	}
	// Once the newer one is inactive too, the older one may come back.
	w.d.do("POST", "/connect/connections/"+newer+"/deactivate", "").must(t, 200)
	w.s.do("POST", "/connect/connections/"+w.cxn+"/reactivate", "").must(t, 200)
}

// Deactivation "prevents further access through the connection" (the spec's
// deactivate operation): the destination can no longer peek at the source's data, and
// a redemption still pending when the connection went inactive fails instead of
// copying it. The source still reads its own token, and the destination the token
// without its data.
func TestDeactivationEndsAccessThroughTheConnection(t *testing.T) {
	t.Parallel()
	// The delay leaves the redemption pending while the connection is deactivated; the
	// rate limit is raised for the polling that waits it out.
	w := newWorld(t, connecttest.WithRedeemDelay(time.Second), connecttest.WithRateLimit(1<<20, time.Minute))
	peeked, pending := w.create(t), w.create(t)
	w.d.do("GET", "/connect/share-tokens/"+peeked+"?peek-source-data=true", "").must(t, 200)
	w.d.do("POST", "/connect/share-tokens/"+pending+"/redeem", "").must(t, 202)
	w.d.do("POST", "/connect/connections/"+w.cxn+"/deactivate", "").must(t, 200)

	if r := w.d.do("GET", "/connect/share-tokens/"+peeked+"?peek-source-data=true", "").must(t, 422); r.firstError()["title"] != "Connection is not active" {
		t.Errorf("peek over an inactive connection: %s", r.body)
	}
	w.d.do("GET", "/connect/share-tokens/"+peeked, "").must(t, 200)
	w.s.do("GET", "/connect/share-tokens/"+peeked+"?peek-source-data=true", "").must(t, 200)

	r := waitStatus(t, w.d, pending, "failed")
	if got := r.str("data", "attributes", "failure-reason"); got != string(connect.FailureUnrecoverableError) {
		t.Errorf("failure-reason %q, want %q", got, connect.FailureUnrecoverableError)
	}
	if r.get("data", "relationships", "destination", "data") != nil {
		t.Errorf("a redemption over an inactive connection cloned the source: %s", r.body)
	}
}
