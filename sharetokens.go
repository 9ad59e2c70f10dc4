package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
	"github.com/persona-connect/connect-go/internal/retry"
)

// ShareTokenStatus is where a share token is in its life: created, then pending while
// the destination's redemption runs, then redeemed or failed; or expired (by its TTL or
// by the source) while still created. Unknown values from a newer API decode as-is.
type ShareTokenStatus string

// Share token statuses.
const (
	ShareTokenCreated  ShareTokenStatus = "created"
	ShareTokenPending  ShareTokenStatus = "pending"
	ShareTokenRedeemed ShareTokenStatus = "redeemed"
	ShareTokenExpired  ShareTokenStatus = "expired"
	ShareTokenFailed   ShareTokenStatus = "failed"
)

// Direction says which side of the connection the viewing organization is on.
type Direction string

// Directions.
const (
	Outbound Direction = "outbound" // the viewer is the source organization
	Inbound  Direction = "inbound"  // the viewer is the destination organization
)

// RedeemMode is how a token was redeemed; "" until redemption starts.
type RedeemMode string

// Redeem modes.
const (
	RedeemClone   RedeemMode = "clone"   // a new object created from the source
	RedeemHydrate RedeemMode = "hydrate" // source data imported into an existing object
)

// FailureReason says why a redemption failed. The values are snake_case on the wire.
type FailureReason string

// Failure reasons.
const (
	FailureSourceNotFound     FailureReason = "source_not_found"
	FailureSourceRedacted     FailureReason = "source_redacted"
	FailureImportFailed       FailureReason = "import_failed"
	FailureUnrecoverableError FailureReason = "unrecoverable_error"
)

// ShareToken is a grant from a source organization to a connection's destination to
// copy one source object. Which fields are set depends on the viewer: the source sees
// Creator and Source, the destination sees Destination; both see ConnectionID.
type ShareToken struct {
	ID            string // cnst_...
	Status        ShareTokenStatus
	Direction     Direction
	RedeemMode    RedeemMode
	FailureReason FailureReason

	CreatedAt  time.Time
	UpdatedAt  time.Time
	PendingAt  *time.Time
	RedeemedAt *time.Time
	ExpiresAt  *time.Time
	FailedAt   *time.Time

	ConnectionID string // cxn_...
	Creator      *Ref   // user or api-key; nil when absent
	Source       *Ref   // inquiry, account, txn, verification/...; nil when absent
	Destination  *Ref   // nil while a clone is pending, and in the source's view

	// SourceData is the PII-filtered snapshot of the source object, returned only by
	// Peek to a destination organization with the peek capability. It holds end-user
	// data: never log it. fmt (every verb) and slog show only its size.
	SourceData json.RawMessage
}

// Ref identifies a related resource. Type values are open strings ("inquiry",
// "api-key", "verification/database", ...).
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Each resource's wire struct (shareTokenWire, connectionWire, eventWire, webhookWire)
// stands beside its type and is the resource exactly as persona-openapi's schema spells
// it in kebab case. Decoding is lenient: unknown attributes and relationships are
// ignored, enum values are kept as they come, and null is the zero value. Documents in
// camel or snake case are folded to kebab by jsonapi.Unmarshal, the one place that
// folds keys; an event's are not (eventWire keeps its payload verbatim).

// ref is a relationship's resource identifier. Its type values are open strings.
type ref = jsonapi.Rel[Ref]

// Terminal reports whether the token can no longer change: redeemed, expired or failed.
func (t *ShareToken) Terminal() bool {
	switch t.Status {
	case ShareTokenRedeemed, ShareTokenExpired, ShareTokenFailed:
		return true
	}
	return false
}

// shareTokenWire is persona-openapi/components/schemas/connect-share-token.yaml.
type shareTokenWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Status        string          `json:"status"`
		Direction     string          `json:"direction"`
		RedeemMode    string          `json:"redeem-mode"`
		FailureReason string          `json:"failure-reason"`
		CreatedAt     wireTime        `json:"created-at"` // see timestamps.go
		UpdatedAt     wireTime        `json:"updated-at"`
		PendingAt     *wireTime       `json:"pending-at"`
		RedeemedAt    *wireTime       `json:"redeemed-at"`
		ExpiresAt     *wireTime       `json:"expires-at"`
		FailedAt      *wireTime       `json:"failed-at"`
		SourceData    json.RawMessage `json:"source-data"`
	} `json:"attributes"`
	Relationships struct {
		// Persona's spec names it "connection"; older guide pages call it
		// "connect-connection". Both are accepted, the first one wins.
		Connection        ref `json:"connection"`
		ConnectConnection ref `json:"connect-connection"`
		Creator           ref `json:"creator"`
		Source            ref `json:"source"`
		Destination       ref `json:"destination"`
	} `json:"relationships"`
}

func (w *shareTokenWire) decode() (*ShareToken, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("connect: decode share token: no id")
	}
	a, r := &w.Attributes, &w.Relationships
	t := &ShareToken{
		ID:            w.ID,
		Status:        ShareTokenStatus(a.Status),
		Direction:     Direction(a.Direction),
		RedeemMode:    RedeemMode(a.RedeemMode),
		FailureReason: FailureReason(a.FailureReason),
		Creator:       r.Creator.Data,
		Source:        r.Source.Data,
		Destination:   r.Destination.Data,
	}
	err := parseTimes("decode share token", w.ID,
		timeField{name: "created-at", w: &a.CreatedAt, t: &t.CreatedAt},
		timeField{name: "updated-at", w: &a.UpdatedAt, t: &t.UpdatedAt},
		timeField{name: "pending-at", w: a.PendingAt, p: &t.PendingAt},
		timeField{name: "redeemed-at", w: a.RedeemedAt, p: &t.RedeemedAt},
		timeField{name: "expires-at", w: a.ExpiresAt, p: &t.ExpiresAt},
		timeField{name: "failed-at", w: a.FailedAt, p: &t.FailedAt},
	)
	if err != nil {
		return nil, err
	}
	if !jsonapi.IsNull(a.SourceData) {
		t.SourceData = a.SourceData
	}
	if c := r.Connection.Data; c != nil {
		t.ConnectionID = c.ID
	} else if c := r.ConnectConnection.Data; c != nil {
		t.ConnectionID = c.ID
	}
	return t, nil
}

// CreateShareTokenParams are the parameters of ShareTokensService.Create.
type CreateShareTokenParams struct {
	ConnectionID string // cxn_...: an active connection whose source is the caller
	SourceID     string // act_, inq_, txn_ or ver_...: the object to share
	// ExpiresIn is the token's time to live: 0 for the server default (14 days), else
	// whole seconds between 1 minute and 21 days.
	ExpiresIn time.Duration
}

func (p CreateShareTokenParams) validate() error {
	if err := validateID("ConnectionID", p.ConnectionID, connectionPrefixes); err != nil {
		return err
	}
	if err := validateID("SourceID", p.SourceID, sourcePrefixes); err != nil {
		return err
	}
	return validateTTL("ExpiresIn", p.ExpiresIn)
}

// createShareTokenAttributes is the exact request body of
// persona-openapi/paths/connect_share-tokens.yaml (post); nothing else is accepted.
type createShareTokenAttributes struct {
	ConnectionID     string `json:"connection-id"`
	SourceID         string `json:"source-id"`
	ExpiresInSeconds int64  `json:"expires-in-seconds,omitempty"`
}

// RedeemShareTokenParams are the parameters of ShareTokensService.Redeem. The zero
// value clones the source into a new object (Inquiry and Verification sources).
type RedeemShareTokenParams struct {
	// DestinationID, when set, hydrates that existing act_, inq_ or txn_ object of the
	// destination organization instead of cloning (Account, Transaction and Inquiry
	// sources).
	DestinationID string
	// FieldMappings map source fields to destination fields not matched by name.
	// Hydrate only: the spec says they are not used when cloning.
	FieldMappings []FieldMapping
}

// FieldMapping maps one source field to a destination field during a hydrate.
type FieldMapping struct {
	SourceFieldName      string `json:"source-field-name"`
	DestinationFieldName string `json:"destination-field-name"`
}

func (p RedeemShareTokenParams) validate() error {
	if p.DestinationID == "" {
		if len(p.FieldMappings) > 0 {
			return invalidParam("FieldMappings", "need a DestinationID: field mappings apply to hydrate only, not to clone")
		}
		return nil
	}
	if err := validateID("DestinationID", p.DestinationID, hydrateDestPrefixes); err != nil {
		return err
	}
	for i, m := range p.FieldMappings {
		if strings.TrimSpace(m.SourceFieldName) == "" {
			return invalidParam(fmt.Sprintf("FieldMappings[%d].SourceFieldName", i), "must not be empty")
		}
		if strings.TrimSpace(m.DestinationFieldName) == "" {
			return invalidParam(fmt.Sprintf("FieldMappings[%d].DestinationFieldName", i), "must not be empty")
		}
	}
	return nil
}

// body checks p and builds Redeem's request body.
func (p RedeemShareTokenParams) body() (any, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	var body redeemRequest
	body.Data.Attributes.DestinationID = p.DestinationID
	if len(p.FieldMappings) > 0 {
		body.Meta = &redeemMeta{FieldMappings: p.FieldMappings}
	}
	return body, nil
}

// redeemRequest is the exact request body of
// persona-openapi/paths/connect_share-tokens_{share-token-id}_redeem.yaml: a clone
// sends {"data":{"attributes":{}}}.
type redeemRequest struct {
	Data struct {
		Attributes struct {
			DestinationID string `json:"destination-id,omitempty"`
		} `json:"attributes"`
	} `json:"data"`
	Meta *redeemMeta `json:"meta,omitempty"`
}

type redeemMeta struct {
	FieldMappings []FieldMapping `json:"field-mappings"`
}

// ListShareTokensParams filter ShareTokensService.List. The zero value lists every
// token the organization can see, both directions, newest first.
type ListShareTokensParams struct {
	ConnectionID string           // cxn_...
	Status       ShareTokenStatus // one of the known statuses
	Direction    Direction        // Inbound or Outbound
	PageSize     int              // 1..100 per request; 0 for the server default (10)
}

func (p *ListShareTokensParams) query() (url.Values, error) {
	if err := validateOptionalID("ConnectionID", p.ConnectionID, connectionPrefixes); err != nil {
		return nil, err
	}
	if err := validateEnum("Status", p.Status, ShareTokenCreated, ShareTokenPending, ShareTokenRedeemed, ShareTokenExpired, ShareTokenFailed); err != nil {
		return nil, err
	}
	if err := validateEnum("Direction", p.Direction, Inbound, Outbound); err != nil {
		return nil, err
	}
	if err := validatePageSize(p.PageSize); err != nil {
		return nil, err
	}
	q := pageQuery(p.PageSize)
	setIf(q, "filter[connection-id]", p.ConnectionID)
	setIf(q, "filter[status]", string(p.Status))
	setIf(q, "filter[direction]", string(p.Direction))
	return q, nil
}

const shareTokensPath = "/connect/share-tokens"

var shareTokenIDs = newIDKind("share token id", shareTokenPrefixes, shareTokensPath)

// Create makes a share token (source organization). The same Idempotency-Key is sent
// on every retry, so at most one token is created per call; pass WithIdempotencyKey to
// extend that across process restarts.
func (s *ShareTokensService) Create(ctx context.Context, params CreateShareTokenParams, opts ...RequestOption) (*ShareToken, error) {
	if err := params.validate(); err != nil {
		return nil, err
	}
	var body jsonapi.Request[createShareTokenAttributes]
	body.Data.Attributes = createShareTokenAttributes{
		ConnectionID:     params.ConnectionID,
		SourceID:         params.SourceID,
		ExpiresInSeconds: int64(params.ExpiresIn / time.Second),
	}
	ctx = withOperation(ctx, "ShareTokens.Create", shareTokensPath)
	return send(ctx, s.c, http.MethodPost, shareTokensPath, nil, body, opts, (*shareTokenWire).decode)
}

// Get reads a share token as the calling organization sees it.
func (s *ShareTokensService) Get(ctx context.Context, id string, opts ...RequestOption) (*ShareToken, error) {
	return s.byID(ctx, "ShareTokens.Get", http.MethodGet, id, "", nil, nil, opts)
}

// Peek reads a share token with ?peek-source-data=true (destination organization with
// the peek capability): SourceData then holds a PII-filtered snapshot of the source.
func (s *ShareTokensService) Peek(ctx context.Context, id string, opts ...RequestOption) (*ShareToken, error) {
	return s.byID(ctx, "ShareTokens.Peek", http.MethodGet, id, "", url.Values{"peek-source-data": {"true"}}, nil, opts)
}

// Redeem starts the redemption of a token (destination organization). It answers at
// once with the token pending; use Wait, or the *-redeemed webhook, for the outcome.
func (s *ShareTokensService) Redeem(ctx context.Context, id string, params RedeemShareTokenParams, opts ...RequestOption) (*ShareToken, error) {
	return s.byID(ctx, "ShareTokens.Redeem", http.MethodPost, id, "/redeem", nil, params.body, opts)
}

// Expire ends a token before its TTL (source organization only).
func (s *ShareTokensService) Expire(ctx context.Context, id string, opts ...RequestOption) (*ShareToken, error) {
	return s.byID(ctx, "ShareTokens.Expire", http.MethodPost, id, "/expire", nil, nil, opts)
}

// byID runs a call on the token id as operation name (see sendByID).
func (s *ShareTokensService) byID(ctx context.Context, name, method, id, action string, query url.Values, body func() (any, error), opts []RequestOption) (*ShareToken, error) {
	return sendByID(ctx, s.c, shareTokenIDs, name, method, id, action, query, body, opts, (*shareTokenWire).decode)
}

// List iterates over the organization's share tokens, newest first, fetching pages
// lazily as the range proceeds. params may be nil; it is copied, so changing it after
// the call has no effect. Bad params are yielded as the first and only error. opts
// apply to every page's request (WithResponseInto: the last page fetched).
func (s *ShareTokensService) List(ctx context.Context, params *ListShareTokensParams, opts ...RequestOption) iter.Seq2[*ShareToken, error] {
	return listResources(ctx, s.c, "ShareTokens.List", shareTokensPath, params, opts, (*shareTokenWire).decode)
}

// Wait polls a token until it is redeemed, expired or failed, and returns it. The
// polls back off from the client's poll interval (WithPollInterval) up to 5s; bound
// the wait with ctx. A failed or expired token is returned without error: check Status.
// opts apply to each poll (WithResponseInto: the last one).
func (s *ShareTokensService) Wait(ctx context.Context, id string, opts ...RequestOption) (*ShareToken, error) {
	interval := s.c.pollInterval
	for {
		// Each poll is a GET of the token, named after Wait so a trace shows polling
		// as such; a bad id is refused by the first, before any I/O.
		tok, err := s.byID(ctx, "ShareTokens.Wait", http.MethodGet, id, "", nil, nil, opts)
		if err != nil {
			return nil, err
		}
		if tok.Terminal() {
			return tok, nil
		}
		if err := retry.Sleep(ctx, interval); err != nil {
			// The status is the server's text, an open enum: escaped (errors.go, printable).
			return nil, fmt.Errorf("connect: wait for share token %s (last status %s): %w", id, printable(string(tok.Status)), err)
		}
		// Grow by half up to 5s, but never below the caller's own interval.
		if next := interval + max(interval/2, time.Millisecond); next <= maxPollInterval {
			interval = next
		} else {
			interval = max(maxPollInterval, s.c.pollInterval)
		}
	}
}

// setIf sets a query parameter when v is not empty.
func setIf(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}
