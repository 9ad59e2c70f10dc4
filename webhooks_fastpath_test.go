package connect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// decodeHex32 and isHex32 agree with encoding/hex on every byte value at every
// position of a 64-digit signature, and on the length.
func TestDecodeHex32MatchesEncodingHex(t *testing.T) {
	t.Parallel()
	base := []byte("0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123")
	for pos := range base {
		for c := 0; c < 256; c++ {
			s := bytes.Clone(base)
			s[pos] = byte(c)
			want, werr := hex.DecodeString(string(s))
			var got [sha256.Size]byte
			ok := decodeHex32(string(s), &got)
			if ok != (werr == nil) || isHex32(string(s)) != ok {
				t.Fatalf("byte %#02x at %d: decodeHex32 ok=%v, isHex32=%v, encoding/hex err=%v", c, pos, ok, isHex32(string(s)), werr)
			}
			if ok && !bytes.Equal(got[:], want) {
				t.Fatalf("byte %#02x at %d: decoded %x, want %x", c, pos, got, want)
			}
		}
	}
	for _, s := range []string{"", strings.Repeat("a", 63), strings.Repeat("a", 65)} {
		var got [sha256.Size]byte
		if decodeHex32(s, &got) || isHex32(s) {
			t.Errorf("%d digits accepted", len(s))
		}
	}
}

// window accepts exactly the t for which |now - t| <= tolerance, computed without
// overflow (in big integers of nanoseconds), for clocks and tolerances with fractions
// of a second, and at the ends of time. (time.Sub, which Verify used before, saturates:
// with the largest tolerance it took t from the far side of int64 for fresh.)
func TestWindowIsExact(t *testing.T) {
	t.Parallel()
	nows := []time.Time{
		time.Unix(testUnix, 0), time.Unix(testUnix, 1), time.Unix(testUnix, 999999999), time.Unix(testUnix, 500000000),
		time.Unix(-1, 250000000), time.Unix(0, 0), {}, time.Unix(1<<62, 0), time.Unix(-1<<62, 999999999),
	}
	tolerances := []time.Duration{time.Nanosecond, 500 * time.Millisecond, time.Second, time.Second + 1, 5 * time.Minute, 5*time.Minute - 1, 1<<63 - 1}
	for _, now := range nows {
		for _, tol := range tolerances {
			earliest, latest := window(now, int64(tol/time.Second), int64(tol%time.Second))
			sec := now.Unix()
			for _, ts := range []int64{sec - 1e6, sec - 301, sec - 300, sec - 299, sec - 2, sec - 1, sec, sec + 1, sec + 2, sec + 299, sec + 300, sec + 301, sec + 1e6, 0, 999999999999999999, -1 << 63, 1<<63 - 1} {
				d := new(big.Int).Mul(big.NewInt(sec), big.NewInt(1e9))
				d.Add(d, big.NewInt(int64(now.Nanosecond())))
				d.Sub(d, new(big.Int).Mul(big.NewInt(ts), big.NewInt(1e9)))
				want := d.CmpAbs(big.NewInt(int64(tol))) <= 0
				if got := ts >= earliest && ts <= latest; got != want {
					t.Errorf("now %v (unix %d.%09d), tolerance %v, t %d: window says %v, want %v", now, sec, now.Nanosecond(), tol, ts, got, want)
				}
			}
		}
	}
}

// equalMAC says equal for equal MACs only: every single bit flipped, on either side,
// and every pair of words swapped, makes them differ.
func TestEqualMAC(t *testing.T) {
	t.Parallel()
	var want [sha256.Size]byte
	for i := range want {
		want[i] = byte(i*37 + 11)
	}
	if !equalMAC(&want, &want) {
		t.Fatal("equal MACs differ")
	}
	for bit := 0; bit < 8*sha256.Size; bit++ {
		got := want
		got[bit/8] ^= 1 << (bit % 8)
		if equalMAC(&got, &want) {
			t.Errorf("bit %d flipped in the sum: still equal", bit)
		}
		if equalMAC(&want, &got) {
			t.Errorf("bit %d flipped in want: still equal", bit)
		}
	}
	for a := 0; a < 4; a++ {
		for b := a + 1; b < 4; b++ {
			got := want
			copy(got[8*a:8*a+8], want[8*b:8*b+8])
			copy(got[8*b:8*b+8], want[8*a:8*a+8])
			if equalMAC(&got, &want) {
				t.Errorf("words %d and %d swapped: still equal", a, b)
			}
		}
	}
}

// equalHex matches the hex of sum in lower, upper and mixed case, and nothing else:
// every byte value at every position of the text, other than the digit itself (in
// either case), makes it differ.
func TestEqualHex(t *testing.T) {
	t.Parallel()
	var sum [sha256.Size]byte
	for i := range sum {
		sum[i] = byte(i*73 + 5)
	}
	text := hex.EncodeToString(sum[:])
	mixed := []byte(text)
	for i := range mixed {
		if i%3 == 0 {
			mixed[i] = byte(unicode.ToUpper(rune(mixed[i])))
		}
	}
	for _, ok := range []string{text, strings.ToUpper(text), string(mixed)} {
		if !equalHex(&sum, ok) {
			t.Errorf("equalHex(%s) = false", ok)
		}
	}
	for pos := range text {
		for c := 0; c < 256; c++ {
			if byte(c) == text[pos] || unicode.ToUpper(rune(c)) == unicode.ToUpper(rune(text[pos])) && c < 0x80 {
				continue
			}
			s := []byte(text)
			s[pos] = byte(c)
			if equalHex(&sum, string(s)) {
				t.Fatalf("byte %#02x at %d (digit %q): still equal", c, pos, text[pos])
			}
		}
	}
	for _, s := range []string{"", text[:63], text + "0"} {
		if equalHex(&sum, s) {
			t.Errorf("%d bytes matched", len(s))
		}
	}
}

// verifyPathsAgree fails unless Verify, with its path for the usual header, answers
// header exactly as verifyAny, the general path, does.
func verifyPathsAgree(t *testing.T, v *Verifier, payload []byte, header string) {
	t.Helper()
	if header == "" || len(header) > maxSignatureHeader || strings.TrimSpace(header) == "" {
		return // refused before either path
	}
	got, want := v.Verify(payload, header), v.verifyAny(payload, header)
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Fatalf("header %q: Verify = %v, verifyAny = %v", header, got, want)
	}
}

// The path for the usual header gives verifyAny's answer for every kind of header
// that has its shape: valid, signed with another secret, in upper or mixed case, with
// a byte that is not hex anywhere in the signature (the bytes 0x10-0x19, which case
// folding maps onto digits, included), stale or from the future, with two secrets.
func TestVerifyPathsAgree(t *testing.T) {
	t.Parallel()
	body := []byte(`{"data":{"type":"event","id":"evt_1"}}`)
	secrets := []string{"wbhsec_other", testSecret}
	v := mustVerifier(t, secrets)
	good := group(testSecret, testUnix, string(body))
	sig := good[len(good)-64:]
	headers := []string{
		good, strings.ToUpper(good[:len(good)-64]) + sig, "t=" + strconv.Itoa(testUnix) + ",v1=" + strings.ToUpper(sig),
		group("wbhsec_third", testUnix, string(body)),
		group(testSecret, testUnix-301, string(body)), group(testSecret, testUnix+301, string(body)),
		group(testSecret, testUnix-300, string(body)),
		good + " ", " " + good, good + ",v1=" + sig, good[:len(good)-1], good + "0",
		"t=0" + good[2:], "t=" + strings.Repeat("9", 19) + good[12:],
	}
	for pos := 0; pos < 64; pos += 7 {
		for _, c := range []byte{0x10, 0x13, 0x19, 'g', 'G', ',', ' ', '=', 0x00, 0x7f, 0xe1, 0xb0, '/', ':', '@', '`'} {
			b := []byte(good)
			b[len(b)-64+pos] = c
			headers = append(headers, string(b))
			stale := []byte(group(testSecret, testUnix-400, string(body)))
			stale[len(stale)-64+pos] = c
			headers = append(headers, string(stale))
		}
	}
	for _, h := range headers {
		verifyPathsAgree(t, v, body, h)
	}
	if err := v.Verify(body, good); err != nil {
		t.Errorf("Verify(good) = %v", err)
	}
}

// FuzzVerifyPathsAgree holds the path for the usual header to verifyAny on any header.
func FuzzVerifyPathsAgree(f *testing.F) {
	body := []byte(`{"data":{"type":"event","id":"evt_1"}}`)
	good := group(testSecret, testUnix, string(body))
	f.Add(body, good)
	f.Add(body, strings.ToUpper(good))
	f.Add(body, good[:len(good)-1]+"\x13")
	f.Add([]byte{}, group(testSecret, testUnix-400, ""))
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		verifyPathsAgree(t, mustVerifier(t, []string{testSecret}), payload, header)
	})
}

// eightDigits reads every eight-digit string, and refuses a word with any byte that is
// not a digit (every byte value, at every position).
func TestEightDigits(t *testing.T) {
	t.Parallel()
	values := []uint64{0, 1, 9, 10, 12345678, 17000000, 99999999, 10000000, 90000009}
	for i := uint64(0); i < 20000; i++ {
		values = append(values, i*4999_7%100_000_000)
	}
	for _, n := range values {
		s := fmt.Sprintf("%08d", n)
		if got, ok := eightDigits(load64(s)); !ok || got != n {
			t.Errorf("eightDigits(%q) = %d, %v", s, got, ok)
		}
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("17000000")
			b[pos] = byte(c)
			_, ok := eightDigits(load64(string(b)))
			if want := c >= '0' && c <= '9'; ok != want {
				t.Fatalf("byte %#02x at %d: ok = %v, want %v", c, pos, ok, want)
			}
		}
	}
}
