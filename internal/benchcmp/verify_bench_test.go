package benchcmp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/stripe/stripe-go/v82/webhook"
)

const secret = "wbhsec_benchmark-0000-1111-2222-333344445555"

// body returns n bytes of JSON-looking payload.
func body(n int) []byte {
	b := []byte(strings.Repeat(`{"k":"0123456789abcdef"},`, n/25+1))
	return b[:n]
}

// naiveVerify is the verifier most people write first: a new HMAC per call, the
// header split with strings functions, hex decoded with the standard library.
func naiveVerify(payload []byte, header, secret string) error {
	var ts, sig string
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return err
	}
	if d := time.Since(time.Unix(t, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("stale")
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(payload)
	if !hmac.Equal(mac.Sum(nil), want) {
		return errors.New("no match")
	}
	return nil
}

var sizes = []struct {
	name string
	n    int
}{{"2KiB", 2 << 10}, {"64KiB", 64 << 10}}

// verifier is one way to check a signed body: the SDK's or a baseline's.
type verifier struct {
	name   string
	verify func(payload []byte, header string) error
}

// verifiers are the SDK's Verifier and the baselines it is measured against, in the
// order the benchmark runs them.
func verifiers(tb testing.TB) []verifier {
	tb.Helper()
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		tb.Fatal(err)
	}
	return []verifier{
		{"connect", v.Verify},
		{"naive", func(p []byte, h string) error { return naiveVerify(p, h, secret) }},
		{"stripe", func(p []byte, h string) error { return webhook.ValidatePayload(p, h, secret) }},
	}
}

// TestVerifiersAgree keeps the benchmarks honest: every verifier accepts the same
// signed body and refuses a tampered one.
func TestVerifiersAgree(t *testing.T) {
	for _, size := range sizes {
		p := body(size.n)
		h := connect.SignHeader(p, secret, time.Now())
		bad := append([]byte{}, p...)
		bad[0] ^= 1
		for _, v := range verifiers(t) {
			if err := v.verify(p, h); err != nil {
				t.Errorf("%s %s: refused a good signature: %v", v.name, size.name, err)
			}
			if err := v.verify(bad, h); err == nil {
				t.Errorf("%s %s: accepted a tampered body", v.name, size.name)
			}
		}
	}
}

// BenchmarkVerify runs SHA-256 alone (the floor), the SDK and the baselines on the same
// bodies in one run, so the ratios in BENCHMARKS.md compare like with like.
func BenchmarkVerify(b *testing.B) {
	floor := verifier{"sha256", func(p []byte, _ string) error { sha256.Sum256(p); return nil }}
	for _, size := range sizes {
		p := body(size.n)
		h := connect.SignHeader(p, secret, time.Now())
		for _, v := range append([]verifier{floor}, verifiers(b)...) {
			b.Run(size.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := v.verify(p, h); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
