package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
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

	// maxTimestampDigits keeps t inside an int64 (and inside the prefix buffer of
	// macState) without overflow checks; 18 digits reach the year 31 billion.
	maxTimestampDigits = 18
)

// Verifier checks the Persona-Signature header of webhook deliveries against one or
// more webhook secrets. It is safe for concurrent use; make one per endpoint and share
// it. The zero value is not usable: call NewVerifier.
type Verifier struct {
	keys      []*macKey
	tolerance time.Duration
	now       func() time.Time
}

// verifierConfig is what the VerifierOptions set; NewVerifier validates it.
type verifierConfig struct {
	tolerance time.Duration
	now       func() time.Time
}

// VerifierOption configures a Verifier.
type VerifierOption func(*verifierConfig)

// WithTolerance sets how far the signed timestamp may lie from now, in the past or in
// the future (default DefaultTolerance, 5 minutes). Checking both directions matters:
// a signature dated in the future would otherwise stay replayable for that long.
// NewVerifier refuses d <= 0 with an error wrapping ErrInvalidParams.
func WithTolerance(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.tolerance = d }
}

// WithClock replaces time.Now as the Verifier's clock, for tests and for replaying
// stored deliveries. NewVerifier refuses nil with an error wrapping ErrInvalidParams.
func WithClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) { c.now = now }
}

// NewVerifier returns a Verifier that accepts a delivery signed with any of secrets,
// the webhook secrets as Persona shows them (wbhsec_...). Pass two while you rotate a
// secret on your side. No secret, or an empty one, returns an error wrapping
// ErrEmptySecret; an invalid option returns one wrapping ErrInvalidParams.
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
	v := &Verifier{tolerance: cfg.tolerance, now: cfg.now, keys: make([]*macKey, 0, len(secrets))}
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
	if strings.TrimSpace(header) == "" {
		return ErrMissingSignature
	}
	if len(header) > maxSignatureHeader {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidSignatureHeader, maxSignatureHeader)
	}
	// The whole grammar first, so that no MAC is computed for a malformed header. The
	// groups are kept in a fixed array so that a valid delivery allocates nothing.
	var groups [maxSignatureGroups]sigGroup
	n, err := parseSignatureHeader(header, &groups)
	if err != nil {
		return err
	}

	now := v.now()
	fresh := false
	for i := range groups[:n] {
		g := &groups[i]
		// Timestamp first: a stale or future group costs no MAC. time.Sub saturates, so
		// an absurd t cannot overflow into the window.
		if d := now.Sub(time.Unix(g.t, 0)); d > v.tolerance || d < -v.tolerance {
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
			if k.matches(g.ts, groups[i:n], payload) {
				return nil
			}
		}
	}
	if !fresh {
		return fmt.Errorf("%w: %v either way", ErrTimestampOutOfTolerance, v.tolerance)
	}
	return ErrNoValidSignature
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
// webhook endpoint.
func SignHeader(payload []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// sigGroup is one parsed "t=..,v1=..[,v1=..]" group. A group of the usual shape keeps
// its one signature decoded; any other has its text scanned again when comparing,
// which keeps parsing allocation-free and the stack small.
type sigGroup struct {
	text    string // the whole group, already validated
	ts      string // t's digits exactly as sent: they are what Persona signed
	t       int64
	sig     [sha256.Size]byte // the only v1, when decoded is true
	decoded bool
}

// parseSignatureHeader checks the whole grammar of header and fills groups with its
// whitespace-separated groups, returning how many there are. Each group is
// comma-separated key=value pairs (the key ends at the first '='), with exactly one t
// of decimal digits and at least one v1 of 64 hex digits; other keys are ignored.
//
// It reads every byte once, in one pass, because it runs on every delivery: finding
// the fields first and the pairs second cost a third of Verify's time outside SHA-256.
// The error wraps ErrInvalidSignatureHeader and names the group and the rule, never
// quoting the header.
func parseSignatureHeader(header string, groups *[maxSignatureGroups]sigGroup) (int, error) {
	n := 0
	var err error
	for i := 0; ; {
		for i < len(header) && isSpace(header[i]) {
			i++
		}
		if i == len(header) {
			return n, nil
		}
		if n == maxSignatureGroups {
			return 0, fmt.Errorf("%w: more than %d signature groups", ErrInvalidSignatureHeader, maxSignatureGroups)
		}
		end, ok := parseCanonicalGroup(header, i, &groups[n])
		if !ok {
			groups[n] = sigGroup{}
			end, err = parseGroup(header, i, &groups[n])
		}
		if err != nil {
			return 0, fmt.Errorf("%w: group %d: %s", ErrInvalidSignatureHeader, n+1, err.Error())
		}
		i = end
		n++
	}
}

// parseCanonicalGroup parses the group that starts at header[start] if it has exactly
// the shape Persona sends, "t=<digits>,v1=<64 hex digits>", and reports whether it
// did. It jumps over the signature instead of searching it for a separator, which
// makes the usual header cost half as much to check. Every group it accepts,
// parseGroup accepts the same way; anything else is left to parseGroup, which also
// words the errors.
func parseCanonicalGroup(header string, start int, g *sigGroup) (end int, ok bool) {
	s := header[start:]
	if len(s) < 2 || s[0] != 't' || s[1] != '=' {
		return 0, false
	}
	d := 2
	for d < len(s) && s[d]-'0' <= 9 {
		d++
	}
	const v1Len = len(",v1=") + 2*sha256.Size
	if len(s) < d+v1Len || s[d:d+len(",v1=")] != ",v1=" {
		return 0, false
	}
	if len(s) > d+v1Len && !isSpace(s[d+v1Len]) {
		return 0, false
	}
	t, ok := parseUnix(s[2:d])
	if !ok || !decodeHex32(s[d+len(",v1="):d+v1Len], &g.sig) {
		return 0, false
	}
	g.text, g.ts, g.t, g.decoded = s[:d+v1Len], s[2:d], t, true
	return start + d + v1Len, true
}

// parseGroup parses the group that starts at header[start] (not whitespace) into g
// and returns the index just past it. Rules are checked pair by pair, left to right,
// and a comma that ends the group is refused before the pair it follows is judged.
func parseGroup(header string, start int, g *sigGroup) (end int, err error) {
	seenT, v1s := false, 0
	i := start
	for {
		j := i
		for j < len(header) && header[j] != ',' && !isSpace(header[j]) {
			j++
		}
		pair := header[i:j]
		more := j < len(header) && header[j] == ','
		if more {
			j++
			if j == len(header) || isSpace(header[j]) {
				return 0, errString("trailing comma")
			}
		}
		i = j
		eq := strings.IndexByte(pair, '=')
		if eq <= 0 {
			return 0, errString("a pair is not key=value")
		}
		switch val := pair[eq+1:]; pair[:eq] {
		case "t":
			if seenT {
				return 0, errString("t appears twice")
			}
			seenT = true
			t, ok := parseUnix(val)
			if !ok {
				return 0, errString("t is not a unix time in seconds")
			}
			g.ts, g.t = val, t
		case "v1":
			if !isHex32(val) {
				return 0, errString("v1 is not 64 hex digits")
			}
			v1s++
		}
		if !more {
			break
		}
	}
	if !seenT {
		return 0, errString("no t")
	}
	if v1s == 0 {
		return 0, errString("no v1 signature")
	}
	g.text = header[start:i]
	return i, nil
}

// errString is a constant error text for parseGroup; Verify wraps it with the sentinel.
type errString string

func (e errString) Error() string { return string(e) }

// isSpace reports ASCII whitespace. Every whitespace byte is <= ' ', so the common
// case, a printable byte, costs one comparison: the header is scanned byte by byte on
// every delivery.
func isSpace(c byte) bool {
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
}

// parseUnix parses 1 to 18 decimal digits; no sign, no spaces.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, false
	}
	var t int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		t = t*10 + int64(c-'0')
	}
	return t, true
}

// isHex32 reports whether s is exactly 64 hex digits (either case), without decoding:
// the header is checked whole before any MAC, and decoded only where a MAC is compared.
func isHex32(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	var bad byte
	for i := 0; i < len(s); i++ {
		bad |= hexValue[s[i]]
	}
	return bad&0xf0 == 0
}

// decodeHex32 decodes exactly 64 hex digits (either case) into dst. It reads the string
// in place: hex.DecodeString would allocate on every delivery.
func decodeHex32(s string, dst *[sha256.Size]byte) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	// Valid values are below 16, so one high bit anywhere marks a non-hex byte.
	return bad&0xf0 == 0
}

// hexValue maps a byte to its hex digit value, or to 0xff when it is not a hex digit
// (either case). A constant table is a single load per digit, where a switch costs
// several branches: this decoding is on every delivery's path.
const hexValue = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// macKey is one secret's keyed HMAC-SHA256, ready to use. The pool keeps hmac
// instances whose Reset restores the precomputed inner and outer states (crypto/hmac
// saves them on the first Reset), so a delivery neither re-derives the key pads nor
// allocates. The secret itself lives only inside the pool's constructor.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is one pooled HMAC with scratch space for the "<t>." prefix and the sum,
// so that nothing escapes to the heap per call.
type macState struct {
	h      hash.Hash
	prefix [maxTimestampDigits + 1]byte
	sum    [sha256.Size]byte
}

// newMACKey builds the pool and one instance up front, so that a key crypto/hmac
// refuses (FIPS 140-only mode rejects keys under 112 bits by panicking) is an error
// from NewVerifier rather than a panic in a request.
func newMACKey(secret string) (k *macKey, err error) {
	key := []byte(secret)
	k = &macKey{}
	k.pool.New = func() any {
		st := &macState{h: hmac.New(sha256.New, key)}
		st.h.Reset() // makes crypto/hmac marshal and keep the keyed states
		return st
	}
	defer func() {
		if p := recover(); p != nil {
			k, err = nil, fmt.Errorf("%w: %v", ErrInvalidParams, p)
		}
	}()
	k.pool.Put(k.pool.New())
	return k, nil
}

// matches reports whether any v1 of any group in groups whose t is ts is the MAC of
// "<ts>.<payload>", which it computes once.
func (k *macKey) matches(ts string, groups []sigGroup, payload []byte) bool {
	st := k.pool.Get().(*macState)
	defer k.pool.Put(st)
	st.h.Reset()
	n := copy(st.prefix[:], ts)
	st.prefix[n] = '.'
	st.h.Write(st.prefix[:n+1])
	st.h.Write(payload) // streamed: the body is never copied
	sum := st.h.Sum(st.sum[:0])
	for i := range groups {
		if g := &groups[i]; g.ts == ts && g.matches(sum) {
			return true
		}
	}
	return false
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

// matches reports whether any v1 of g is sum.
func (g *sigGroup) matches(sum []byte) bool {
	if g.decoded {
		return hmac.Equal(sum, g.sig[:])
	}
	found := false
	for rest := g.text; rest != ""; {
		var pair string
		if i := strings.IndexByte(rest, ','); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			pair, rest = rest, ""
		}
		if len(pair) < 3 || pair[:3] != "v1=" {
			continue
		}
		var want [sha256.Size]byte
		if decodeHex32(pair[3:], &want) && hmac.Equal(sum, want[:]) {
			// No early return: the time taken does not depend on which v1 matched.
			found = true
		}
	}
	return found
}
