package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's signed timestamp may lie from the
// Verifier's clock, in either direction, unless WithTolerance says otherwise.
const DefaultTolerance = 5 * time.Minute

const (
	// maxSignatureHeader bounds the Persona-Signature header. Persona sends one group
	// (two during a secret rotation) of well under 200 bytes; anything over 4 KiB is
	// refused before a single MAC is computed.
	maxSignatureHeader = 4 << 10

	// maxSignatureGroups bounds the MACs one forged header can make Verify compute
	// (distinct timestamps x secrets passes over a body of up to 1 MiB). Persona sends
	// at most two groups.
	maxSignatureGroups = 8

	// maxTimestampDigits keeps t inside an int64 (and "<t>." inside the MAC's first
	// block) without overflow checks; 18 digits reach the year 31 billion.
	maxTimestampDigits = 18
)

// Verifier checks the Persona-Signature header of webhook deliveries against one or
// more webhook secrets. It is safe for concurrent use; make one per endpoint and share
// it. The zero value is not usable: call NewVerifier.
type Verifier struct {
	keys      []*macKey
	tolerance time.Duration
	// tolerance in whole seconds and the nanoseconds left, for window.
	tolSec, tolNsec int64
	now             func() time.Time
}

// verifierConfig is what the VerifierOptions set; NewVerifier validates it.
type verifierConfig struct {
	tolerance time.Duration
	now       func() time.Time
}

// VerifierOption configures a Verifier: NewVerifier takes them.
type VerifierOption func(*verifierConfig)

// WithTolerance is a VerifierOption for NewVerifier: it sets how far the signed
// timestamp may lie from now, in the past or in the future (default DefaultTolerance, 5
// minutes). Checking both directions matters: a signature dated in the future would
// otherwise stay replayable for that long. NewVerifier refuses d <= 0 with an error
// wrapping ErrInvalidParams.
func WithTolerance(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.tolerance = d }
}

// WithClock is a VerifierOption for NewVerifier, not a client option: it replaces
// time.Now as the Verifier's clock, for tests and for replaying stored deliveries.
// NewVerifier refuses nil with an error wrapping ErrInvalidParams.
func WithClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) { c.now = now }
}

// NewVerifier returns a Verifier that accepts a delivery signed with any of secrets,
// the webhook secrets as Persona shows them (wbhsec_...). Pass two while you rotate a
// secret on your side. No secret, or an empty one, returns an error wrapping
// ErrEmptySecret; an invalid option returns one wrapping ErrInvalidParams. When Go
// runs in FIPS 140-3 mode (GODEBUG=fips140=on), the MACs are computed by crypto/hmac,
// and a secret it refuses in fips140=only mode is an error wrapping ErrInvalidParams.
func NewVerifier(secrets []string, opts ...VerifierOption) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, wrapError("new verifier: no secret given", ErrEmptySecret)
	}
	cfg := verifierConfig{tolerance: DefaultTolerance, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.tolerance <= 0 {
		return nil, wrapError("new verifier", invalidParam("tolerance", "must be positive"))
	}
	if cfg.now == nil {
		return nil, wrapError("new verifier", invalidParam("clock", "must not be nil"))
	}
	v := &Verifier{
		tolerance: cfg.tolerance, now: cfg.now, keys: make([]*macKey, 0, len(secrets)),
		tolSec: int64(cfg.tolerance / time.Second), tolNsec: int64(cfg.tolerance % time.Second),
	}
	for i, s := range secrets {
		if strings.TrimSpace(s) == "" {
			return nil, wrapError(fmt.Sprintf("new verifier: secret %d of %d", i+1, len(secrets)), ErrEmptySecret)
		}
		k, err := newMACKey(s)
		if err != nil {
			return nil, wrapError(fmt.Sprintf("new verifier: secret %d of %d", i+1, len(secrets)), err)
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// Verify reports whether header (the Persona-Signature value) holds a valid signature
// of payload, the raw request body exactly as received. It returns nil or an error
// wrapping exactly one of ErrMissingSignature, ErrInvalidSignatureHeader,
// ErrTimestampOutOfTolerance (no group's t lies within the tolerance) and
// ErrNoValidSignature. Error texts never contain a signature, a secret or the body.
//
// The header is "t=<unix>,v1=<hex>", or two such groups separated by whitespace while
// Persona rotates the secret. Each group is checked with its own t; keys other than t
// and v1 are ignored, so a future v2 does not break verification. A header that breaks
// the grammar anywhere is refused as a whole rather than half-trusted. Timestamps are
// checked before any MAC, so ErrTimestampOutOfTolerance says nothing about whether the
// signature itself was genuine.
func (v *Verifier) Verify(payload []byte, header string) error {
	if header == "" || isSpace(header[0]) && strings.TrimSpace(header) == "" {
		return ErrMissingSignature
	}
	if len(header) > maxSignatureHeader {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidSignatureHeader, maxSignatureHeader)
	}
	if done, err := v.verifyUsual(payload, header); done {
		return err
	}
	return v.verifyAny(payload, header)
}

// verifyUsual verifies the header Persona sends outside a rotation, exactly one group
// "t=<digits>,v1=<64 hex digits>", on a path of its own, and reports whether it could
// decide. It compares the MAC with the signature as text, without decoding it first:
// equal text can only be valid hex, so the grammar needs checking only when the
// signature does not match. Decoding and checking 64 hex digits first, with an array
// of eight groups to zero, was half of what Verify spends outside SHA-256. It leaves
// every other case to verifyAny, which checks the grammar before any MAC and words
// every error: a stale t, and a signature that does not match and is not hex. For any
// header the two give the same answer (TestVerifyPathsAgree, FuzzVerifyPathsAgree).
func (v *Verifier) verifyUsual(payload []byte, header string) (done bool, err error) {
	ts, t, sig, n, ok := canonicalShape(header)
	if !ok || n != len(header) {
		return false, nil
	}
	earliest, latest := window(v.now(), v.tolSec, v.tolNsec)
	if t < earliest || t > latest {
		return false, nil
	}
	for _, k := range v.keys {
		if k.matchesText(ts, sig, payload) {
			return true, nil
		}
	}
	if !isHex32(sig) {
		return false, nil
	}
	return true, ErrNoValidSignature
}

// verifyAny verifies any header: the whole grammar first, so that no MAC is computed
// for a malformed header. The groups are kept in a fixed array so that a valid
// delivery allocates nothing.
func (v *Verifier) verifyAny(payload []byte, header string) error {
	var groups [maxSignatureGroups]sigGroup
	n, err := parseSignatureHeader(header, &groups)
	if err != nil {
		return err
	}
	return v.verify(payload, groups[:n])
}

// verify checks the parsed groups of a well-formed header, for Verify.
func (v *Verifier) verify(payload []byte, groups []sigGroup) error {
	earliest, latest := window(v.now(), v.tolSec, v.tolNsec)
	fresh := false
	for i := range groups {
		g := &groups[i]
		// Timestamp first: a stale or future group costs no MAC.
		if g.t < earliest || g.t > latest {
			continue
		}
		fresh = true
		// One MAC per distinct t per secret, checked against every group with that t:
		// a forged header repeating one group must not cost a pass over the body per
		// group. An earlier group with the same digits has been checked already.
		if sameTimestampBefore(groups[:i], g.ts) {
			continue
		}
		for _, k := range v.keys {
			if k.matches(g.ts, groups[i:], payload) {
				return nil
			}
		}
	}
	if !fresh {
		return fmt.Errorf("%w: %v either way", ErrTimestampOutOfTolerance, v.tolerance)
	}
	return ErrNoValidSignature
}

// window returns the unix seconds t for which now lies within the tolerance (tolSec
// seconds and tolNsec nanoseconds) of t, either way: ceil(now-tolerance) to
// floor(now+tolerance). Comparing each group's t with it costs two integer
// comparisons, where time.Unix and Time.Sub per group cost a tenth of what Verify
// spends outside SHA-256. The sums saturate, so an absurd clock cannot wrap the window
// around.
func window(now time.Time, tolSec, tolNsec int64) (earliest, latest int64) {
	sec, nsec := now.Unix(), int64(now.Nanosecond())
	// now-tolerance = (sec-tolSec) s + (nsec-tolNsec) ns, the second term in
	// (-1 s, 1 s): its ceiling is one second more only when that term is positive.
	earliest = satAdd(sec, -tolSec)
	if nsec > tolNsec {
		earliest = satAdd(earliest, 1)
	}
	latest = satAdd(sec, tolSec)
	if nsec+tolNsec >= int64(time.Second) {
		latest = satAdd(latest, 1)
	}
	return earliest, latest
}

// satAdd is a+b, saturated at the ends of int64.
func satAdd(a, b int64) int64 {
	c := a + b
	switch {
	case b > 0 && c < a:
		return math.MaxInt64
	case b < 0 && c > a:
		return math.MinInt64
	}
	return c
}

// ConstructEvent verifies a delivery and then decodes it (see ParseEvent). Verification
// errors wrap the sentinels listed on Verify; a verified body that is not an event
// returns a parse error that wraps none of them.
func (v *Verifier) ConstructEvent(payload []byte, header string) (*Event, error) {
	if err := v.Verify(payload, header); err != nil {
		return nil, err
	}
	return ParseEvent(payload)
}

// ConstructEvent verifies a delivery against one secret with the default tolerance,
// then decodes it. It builds a Verifier on every call: a server should make one with
// NewVerifier and call its ConstructEvent instead.
func ConstructEvent(payload []byte, header, secret string) (*Event, error) {
	v, err := NewVerifier([]string{secret})
	if err != nil {
		return nil, err
	}
	return v.ConstructEvent(payload, header)
}

// SignHeader returns a Persona-Signature header value ("t=<unix>,v1=<hex>") for payload
// signed with secret at time t, as Persona signs a delivery. Use it to test your own
// webhook endpoint. It signs through crypto/hmac, which under GODEBUG=fips140=only
// panics on a secret shorter than 112 bits (14 bytes); Persona's wbhsec_ secrets are
// longer, and NewVerifier refuses such a secret with an error instead.
func SignHeader(payload []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// sameTimestampBefore reports whether a group of groups has t digits ts.
func sameTimestampBefore(groups []sigGroup, ts string) bool {
	for i := range groups {
		if groups[i].ts == ts {
			return true
		}
	}
	return false
}
