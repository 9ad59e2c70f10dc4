package connect

import (
	"fmt"
	"log/slog"
	"time"
)

// Format makes every fmt verb print the token as the default formatting would, with
// two differences: SourceData shows as its size ("[1234 bytes]"), never its values,
// because it holds end-user data that must not reach a log line; and the pointer
// fields (the optional times and refs) show what they point to, or <nil>, instead of
// an address. Code reads t.SourceData whole as before.
func (t ShareToken) Format(f fmt.State, verb rune) {
	v := shareTokenFields{
		ID: t.ID, Status: t.Status, Direction: t.Direction, RedeemMode: t.RedeemMode, FailureReason: t.FailureReason,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		PendingAt: optional[time.Time]{t.PendingAt}, RedeemedAt: optional[time.Time]{t.RedeemedAt},
		ExpiresAt: optional[time.Time]{t.ExpiresAt}, FailedAt: optional[time.Time]{t.FailedAt},
		ConnectionID: t.ConnectionID,
		Creator:      optional[Ref]{t.Creator}, Source: optional[Ref]{t.Source}, Destination: optional[Ref]{t.Destination},
		SourceData: rawSize(len(t.SourceData)),
	}
	formatMirror(f, verb, v, "connect.shareTokenFields", "connect.ShareToken")
}

// LogValue makes slog show the token's fields, with source_data_bytes in place of
// SourceData's values (slog's JSON handler would otherwise write them out verbatim).
// slog asks for it only of a value logged on its own: an []*ShareToken logged as one
// value is encoded by the handler, SourceData and all, so log tokens one at a time, or
// their IDs.
func (t ShareToken) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("id", t.ID),
		slog.String("status", string(t.Status)),
		slog.String("direction", string(t.Direction)),
	)
	if t.RedeemMode != "" {
		attrs = append(attrs, slog.String("redeem_mode", string(t.RedeemMode)))
	}
	if t.FailureReason != "" {
		attrs = append(attrs, slog.String("failure_reason", string(t.FailureReason)))
	}
	attrs = append(attrs, slog.Time("created_at", t.CreatedAt), slog.Time("updated_at", t.UpdatedAt))
	for _, ts := range []struct {
		key string
		t   *time.Time
	}{{"pending_at", t.PendingAt}, {"redeemed_at", t.RedeemedAt}, {"expires_at", t.ExpiresAt}, {"failed_at", t.FailedAt}} {
		if ts.t != nil {
			attrs = append(attrs, slog.Time(ts.key, *ts.t))
		}
	}
	if t.ConnectionID != "" {
		attrs = append(attrs, slog.String("connection_id", t.ConnectionID))
	}
	for _, r := range []struct {
		key string
		ref *Ref
	}{{"creator", t.Creator}, {"source", t.Source}, {"destination", t.Destination}} {
		if r.ref != nil {
			attrs = append(attrs, slog.Group(r.key, slog.String("type", r.ref.Type), slog.String("id", r.ref.ID)))
		}
	}
	attrs = append(attrs, slog.Int("source_data_bytes", len(t.SourceData)))
	return slog.GroupValue(attrs...)
}

// shareTokenFields mirrors ShareToken for Format: the same fields in the same order,
// with SourceData reduced to its size and the pointers made printable. It has no
// Format method of its own, so fmt's struct printing applies to it.
type shareTokenFields struct {
	ID            string
	Status        ShareTokenStatus
	Direction     Direction
	RedeemMode    RedeemMode
	FailureReason FailureReason
	CreatedAt     time.Time
	UpdatedAt     time.Time
	PendingAt     optional[time.Time]
	RedeemedAt    optional[time.Time]
	ExpiresAt     optional[time.Time]
	FailedAt      optional[time.Time]
	ConnectionID  string
	Creator       optional[Ref]
	Source        optional[Ref]
	Destination   optional[Ref]
	SourceData    rawSize
}
