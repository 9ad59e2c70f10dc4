package connect

// The HMAC-SHA256 of a delivery, "<t>.<body>" under one webhook secret: the one part
// of Verify that reads the whole body, so it is built to cost one SHA-256 block more
// than a bare SHA-256 of the body and nothing on the heap.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
	"sync"
)

// macKey is one secret's HMAC-SHA256 key, ready to use.
//
// HMAC (RFC 2104) is SHA-256(K^opad || SHA-256(K^ipad || message)). states holds
// SHA-256's state after the block K^ipad and after K^opad, marshalled, so a MAC
// restores them into a digest on the stack instead of hashing the key's two blocks
// again. That is what crypto/hmac does after its first Reset too, but a crypto/hmac
// instance lives on the heap and so has to be pooled per call, and its wrappers add
// their own work: measured on a 2 KiB body, the pool and the wrappers were 0.035 of a
// SHA-256 of the body (BENCHMARKS.md), a third of all Verify spent beyond it.
//
// When Go runs in FIPS 140-3 mode (GODEBUG=fips140=on or only), fips is set instead
// and every MAC goes through crypto/hmac, pooled: the approved HMAC service, counted
// as such, with its key rules. The states are as secret as the key itself and are
// never printed.
type macKey struct {
	states *keyedStates // nil in FIPS 140 mode
	fips   *sync.Pool   // of *macState, in FIPS 140 mode only
}

// keyedStates are SHA-256's marshalled states after K^ipad and after K^opad. They are
// kept behind a pointer so that fmt cannot print them: a Verifier printed with a verb
// fmt does not expect (%s, %d) is shown in full down to its keys, but a pointer below
// them only as an address.
type keyedStates struct {
	inner, outer []byte
}

// macState is one pooled crypto/hmac instance (FIPS 140 mode only), with scratch
// space for "<t>." and the sum, so that nothing escapes to the heap per call.
type macState struct {
	h      hash.Hash
	prefix [maxTimestampDigits + 1]byte
	sum    [sha256.Size]byte
}

// newMACKey derives the two states from secret, or in FIPS 140 mode builds the pool
// and one crypto/hmac instance up front, so that a key crypto/hmac refuses (FIPS
// 140-only mode rejects keys under 112 bits by panicking) is an error from
// NewVerifier rather than a panic in a request.
func newMACKey(secret string) (*macKey, error) {
	if fips140Enabled() {
		return newFIPSMACKey([]byte(secret))
	}
	key := []byte(secret)
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key) // RFC 2104: a key longer than a block is hashed first
		key = sum[:]
	}
	states := &keyedStates{}
	for _, p := range []struct {
		pad   byte
		state *[]byte
	}{{0x36, &states.inner}, {0x5c, &states.outer}} {
		var block [sha256.BlockSize]byte
		for i := range block {
			block[i] = p.pad
		}
		for i, c := range key {
			block[i] ^= c
		}
		d := sha256.New()
		d.Write(block[:])
		state, err := d.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%w: SHA-256 state: %v", ErrInvalidParams, err)
		}
		*p.state = state
	}
	return &macKey{states: states}, nil
}

// newFIPSMACKey is newMACKey in FIPS 140 mode.
func newFIPSMACKey(key []byte) (k *macKey, err error) {
	k = &macKey{fips: &sync.Pool{New: func() any {
		st := &macState{h: hmac.New(sha256.New, key)}
		st.h.Reset() // makes crypto/hmac marshal and keep the keyed states
		return st
	}}}
	defer func() {
		if p := recover(); p != nil {
			k, err = nil, fmt.Errorf("%w: %v", ErrInvalidParams, p)
		}
	}()
	k.fips.Put(k.fips.New())
	return k, nil
}

// mac writes the MAC of "<ts>.<payload>" to sum.
func (k *macKey) mac(ts string, payload []byte, sum *[sha256.Size]byte) {
	if k.fips != nil {
		k.fipsMAC(ts, payload, sum)
		return
	}
	// The compiler sees the digest's concrete type here, calls its methods directly
	// and keeps it on the stack (TestVerifyAllocations): no pool, no allocation. It
	// would not through a hash.Hash parameter, which is why nothing here is a helper.
	// The states were made by MarshalBinary of the same type: restoring cannot fail.
	d := sha256.New()
	restore := d.(encoding.BinaryUnmarshaler)
	if err := restore.UnmarshalBinary(k.states.inner); err != nil {
		panic("connect: restoring a SHA-256 state: " + err.Error())
	}
	// "<t>." and the start of the body make one whole block, which SHA-256 hashes in
	// place; the rest of the body follows from where it lies, not copied. (Written
	// apart, the prefix and the body's first bytes would be copied into SHA-256's own
	// buffer one after the other.)
	var first [sha256.BlockSize]byte
	n := copy(first[:], ts)
	first[n] = '.'
	n++
	m := copy(first[n:], payload)
	d.Write(first[:n+m])
	if m < len(payload) {
		d.Write(payload[m:])
	}
	var inner [sha256.Size]byte
	d.Sum(inner[:0])
	if err := restore.UnmarshalBinary(k.states.outer); err != nil {
		panic("connect: restoring a SHA-256 state: " + err.Error())
	}
	d.Write(inner[:])
	d.Sum(sum[:0])
}

// fipsMAC is mac through crypto/hmac, in FIPS 140 mode.
func (k *macKey) fipsMAC(ts string, payload []byte, sum *[sha256.Size]byte) {
	st := k.fips.Get().(*macState)
	st.h.Reset()
	n := copy(st.prefix[:], ts)
	st.prefix[n] = '.'
	st.h.Write(st.prefix[:n+1])
	st.h.Write(payload)
	*sum = [sha256.Size]byte(st.h.Sum(st.sum[:0]))
	k.fips.Put(st) // no defer: nothing above can panic, and a lost state is only garbage
}

// matches reports whether any v1 of any group in groups whose t is ts is the MAC of
// "<ts>.<payload>", which it computes once.
func (k *macKey) matches(ts string, groups []sigGroup, payload []byte) bool {
	var sum [sha256.Size]byte
	k.mac(ts, payload, &sum)
	for i := range groups {
		if g := &groups[i]; g.ts == ts && g.matches(&sum) {
			return true
		}
	}
	return false
}

// matchesText reports whether sig, 64 bytes of a header, is the MAC of
// "<ts>.<payload>" in hex of either case.
func (k *macKey) matchesText(ts, sig string, payload []byte) bool {
	var sum [sha256.Size]byte
	k.mac(ts, payload, &sum)
	return equalHex(&sum, sig)
}
