package connect

import (
	"encoding/json"
	"time"
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
	// data: never log it.
	SourceData json.RawMessage
}

// Ref identifies a related resource. Type values are open strings ("inquiry",
// "api-key", "verification/database", ...).
type Ref struct {
	Type string
	ID   string
}

// Terminal reports whether the token can no longer change: redeemed, expired or failed.
func (t *ShareToken) Terminal() bool {
	switch t.Status {
	case ShareTokenRedeemed, ShareTokenExpired, ShareTokenFailed:
		return true
	}
	return false
}
