package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingHash counts the MACs finished (Sum calls) of a Verifier's key.
type countingHash struct {
	hash.Hash
	sums *atomic.Int64
}

func (c countingHash) Sum(b []byte) []byte {
	c.sums.Add(1)
	return c.Hash.Sum(b)
}

// countMACs makes every key of v count the MACs it computes into the returned counters,
// one per secret, in order. The keys take the FIPS 140 path, crypto/hmac from a pool,
// with each instance counting its sums: which MACs Verify asks for does not depend on
// how a key computes one.
func countMACs(t *testing.T, v *Verifier, secrets []string) []*atomic.Int64 {
	t.Helper()
	counts := make([]*atomic.Int64, len(v.keys))
	for i, k := range v.keys {
		n, key := new(atomic.Int64), []byte(secrets[i])
		counts[i] = n
		k.fips = &sync.Pool{New: func() any {
			st := &macState{h: countingHash{Hash: hmac.New(sha256.New, key), sums: n}}
			st.h.Reset()
			return st
		}}
	}
	return counts
}

// Verify computes one MAC per distinct t per secret: a forged header that repeats one
// group eight times costs what one group costs, not eight passes over the body.
func TestVerifyOneMACPerTimestampPerSecret(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 4096)
	forged := "t=1700000000,v1=" + strings.Repeat("ab", 32)
	other := "t=1700000001,v1=" + strings.Repeat("cd", 32)
	padded := "t=01700000000,v1=" + strings.Repeat("ef", 32) // other digits: another signed message
	secrets := []string{testSecret, "wbhsec_second"}
	tests := []struct {
		name   string
		header string
		want   error
		macs   int64 // per secret
	}{
		{"eight identical groups", strings.TrimSpace(strings.Repeat(forged+" ", 8)), ErrNoValidSignature, 1},
		{"eight groups, two timestamps", strings.TrimSpace(strings.Repeat(forged+" "+other+" ", 4)), ErrNoValidSignature, 2},
		{"same time, other digits", forged + " " + padded, ErrNoValidSignature, 2},
		{"rotation pair, second signs", forged + " " + group(testSecret, testUnix, body), nil, 1},
		{"one group with two v1, repeated", strings.TrimSpace(strings.Repeat(forged+",v1="+strings.Repeat("00", 32)+" ", 8)), ErrNoValidSignature, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustVerifier(t, secrets)
			counts := countMACs(t, v, secrets)
			err := v.Verify([]byte(body), tt.header)
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			for i, n := range counts {
				// A match stops the search: the second secret is not tried then.
				want := tt.macs
				if tt.want == nil && i > 0 {
					want = 0
				}
				if got := n.Load(); got != want {
					t.Errorf("secret %d: %d MACs, want %d", i+1, got, want)
				}
			}
		})
	}
}

// The MAC written on SHA-256's states is crypto/hmac's, for keys shorter than, as long
// as and longer than a block (RFC 2104 hashes those first), for bodies that end inside
// the first block with "<t>.", exactly at its end and beyond; and the FIPS 140 path,
// crypto/hmac itself, gives the same.
func TestMACIsCryptoHMAC(t *testing.T) {
	t.Parallel()
	const ts = "1700000000"
	for _, keyLen := range []int{1, 13, 32, 63, 64, 65, 100, 200} {
		secret := strings.Repeat("k", keyLen-1) + string(rune('a'+keyLen%26))
		k, err := newMACKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		f, err := newFIPSMACKey([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{0, 1, 52, 53, 54, 64, 65, 2 << 10, 64<<10 + 3} {
			payload := []byte(strings.Repeat("p", size))
			want := hmac.New(sha256.New, []byte(secret))
			want.Write([]byte(ts + "."))
			want.Write(payload)
			var got, fips [sha256.Size]byte
			k.mac(ts, payload, &got)
			f.mac(ts, payload, &fips)
			if w := want.Sum(nil); string(got[:]) != string(w) || string(fips[:]) != string(w) {
				t.Errorf("key of %d bytes, body of %d: MAC %x, FIPS path %x, want %x", keyLen, size, got, fips, w)
			}
		}
	}
}

// In FIPS 140 mode every key takes crypto/hmac; outside it, none does. .ci/run runs
// the webhook tests once more with GODEBUG=fips140=on, where the first half applies.
func TestMACPathFollowsFIPSMode(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, []string{testSecret, "wbhsec_second"})
	for i, k := range v.keys {
		if got := k.fips != nil; got != fips140Enabled() {
			t.Errorf("key %d: crypto/hmac path %v, FIPS 140 mode %v", i+1, got, fips140Enabled())
		}
		if got := k.states != nil; got == fips140Enabled() {
			t.Errorf("key %d: SHA-256 states kept %v in FIPS 140 mode %v", i+1, got, fips140Enabled())
		}
	}
}
