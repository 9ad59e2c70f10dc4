package connecttest

import (
	"fmt"

	connect "github.com/persona-connect/connect-go"
)

// Organization is one Persona organization on the fake, with its own environment and
// API key. Its fields are for reading; the server keeps its own copy.
type Organization struct {
	ID     string // org_...
	Name   string
	APIKey string // the Bearer key that acts as this organization
}

// org is the server's record of an organization.
type org struct {
	pub      Organization
	envID    string // Persona-Environment-Id: each organization is its own environment
	apiKeyID string // api_...: the creator of what this organization makes by API
	rate     rateWindow
	idem     idempotencyStore
}

// NewOrganization registers an organization named name and returns it, with a fresh
// org_ id and API key.
func (s *Server) NewOrganization(name string) *Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustBeOpenLocked()
	o := &org{
		pub:      Organization{ID: newID("org_"), Name: name, APIKey: "persona_sandbox_" + newID("")},
		envID:    newID("env_"),
		apiKeyID: newID("api_"),
		idem:     idempotencyStore{},
	}
	s.orgs[o.pub.ID] = o
	s.orgsByKey[o.pub.APIKey] = o
	pub := o.pub
	return &pub
}

// NewClient returns an SDK client that acts as o on this server: connect.New with o's
// API key and connect.WithBaseURL(s.URL), then opts, which come after and so may
// replace either (a WithHTTPClient of the test's own, a WithLogger...). An invalid
// option returns New's error. Like the other setup methods it panics when o belongs to
// another server or the server is closed.
func (s *Server) NewClient(o *Organization, opts ...connect.Option) (*connect.Client, error) {
	key := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.mustOrgLocked(o).pub.APIKey
	}()
	return connect.New(key, append([]connect.Option{connect.WithBaseURL(s.URL)}, opts...)...)
}

// CreateConnection makes an active connection from src (the source organization) to
// dst (the destination) and returns its cxn_ id, as if dst had accepted it in
// Persona's dashboard.
func (s *Server) CreateConnection(src, dst *Organization) string {
	return s.newConnectionFixture(src, dst, connectionActive)
}

// CreatePendingConnection makes a connection from src to dst that dst has not accepted
// yet; share tokens cannot be created over it until AcceptConnection.
func (s *Server) CreatePendingConnection(src, dst *Organization) string {
	return s.newConnectionFixture(src, dst, connectionPending)
}

func (s *Server) newConnectionFixture(src, dst *Organization, status string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, do := s.mustOrgLocked(src), s.mustOrgLocked(dst)
	if so == do {
		panic("connecttest: a connection needs two different organizations")
	}
	return s.newConnectionLocked(so, do, status).id
}

// AcceptConnection is the destination accepting a pending connection in Persona's
// dashboard (there is no API for it): the connection becomes active. It panics unless
// id is a pending connection of this server.
func (s *Server) AcceptConnection(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[id]
	if c == nil || c.status != connectionPending {
		panic(fmt.Sprintf("connecttest: AcceptConnection(%q): not a pending connection", id))
	}
	c.status, c.updatedAt = connectionActive, s.nowLocked()
}

// CreateInquiry makes a completed Inquiry (inq_) in o, with a few fields, and returns
// its id. Inquiries can be shared by cloning or hydrating, and hydrated. Like a real
// inquiry completing, it records an inquiry.completed event for o (Events API and o's
// webhooks that subscribe to it), whose payload.data is the inquiry.
func (s *Server) CreateInquiry(o *Organization) string { return s.newObjectFixture(o, kindInquiry) }

// CreateAccount makes an Account (act_) in o. Accounts can be shared by hydrating only,
// and hydrated.
func (s *Server) CreateAccount(o *Organization) string { return s.newObjectFixture(o, kindAccount) }

// CreateTransaction makes a Transaction (txn_) in o. Transactions can be shared by
// hydrating only, and hydrated.
func (s *Server) CreateTransaction(o *Organization) string {
	return s.newObjectFixture(o, kindTransaction)
}

// CreateVerification makes a passed database Verification (ver_) in o. Verifications
// can be shared by cloning only, and are never a hydrate destination.
func (s *Server) CreateVerification(o *Organization) string {
	return s.newObjectFixture(o, kindVerification)
}

func (s *Server) newObjectFixture(o *Organization, k objectKind) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := s.newObjectLocked(s.mustOrgLocked(o), k, k.sampleFields())
	if k == kindInquiry && inquiryCompletedEvent { // payload.data is the inquiry resource
		s.recordLocked(obj.org, connect.EventInquiryCompleted, obj.inquiryView())
	}
	return obj.id
}

// RedactObject redacts a source object: redeeming a token over it fails with
// source_redacted.
func (s *Server) RedactObject(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	must(s.objects[id], "no object %q", id).redacted = true
}

// DeleteObject deletes a source object: redeeming a token over it fails with
// source_not_found, and it can no longer be shared or hydrated.
func (s *Server) DeleteObject(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	must(s.objects[id], "no object %q", id).deleted = true
}

// ObjectInfo describes an object of the fake, e.g. one a clone created.
type ObjectInfo struct {
	ID             string
	Type           string // JSON:API type: inquiry, account, txn, verification/database
	OrganizationID string
	Fields         map[string]any // snake_case field names
}

// Object returns the object with id, if any (deleted ones included).
func (s *Server) Object(id string) (ObjectInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := s.objects[id]
	if obj == nil {
		return ObjectInfo{}, false
	}
	info := ObjectInfo{ID: obj.id, Type: obj.kind.info().typ, OrganizationID: obj.org.pub.ID, Fields: map[string]any{}}
	for _, f := range obj.fields {
		info.Fields[f.name] = f.value
	}
	return info, true
}

// FailRedemption makes the redemption of token id fail with reason, whether it has
// started or not (a finished one is not changed).
func (s *Server) FailRedemption(id string, reason connect.FailureReason) {
	if !validFailureReason(reason) {
		panic(fmt.Sprintf("connecttest: FailRedemption: unknown failure reason %q", reason))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	must(s.tokens[id], "FailRedemption(%q): no such share token", id).forcedFailure = reason
}

func (s *Server) mustBeOpenLocked() {
	if s.ctx.Err() != nil { // closed
		panic("connecttest: server is closed")
	}
}

// mustOrgLocked is the server's record of o, for a setup method on an open server.
func (s *Server) mustOrgLocked(o *Organization) *org {
	s.mustBeOpenLocked()
	if o == nil {
		panic("connecttest: nil organization")
	}
	return must(s.orgs[o.ID], "organization %q belongs to another server", o.ID)
}

// must is v, what a setup method looked up, or when there is none a panic with the
// message of format and args: a broken test setup.
func must[T any](v *T, format string, args ...any) *T {
	if v == nil {
		panic(fmt.Sprintf("connecttest: "+format, args...))
	}
	return v
}

func (s *Server) nextSeqLocked() int64 {
	s.seq++
	return s.seq
}
