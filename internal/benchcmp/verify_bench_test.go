package benchcmp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// TestVerifiersAgree keeps the benchmarks honest: every verifier accepts the same
// signed body and refuses a tampered one.
func TestVerifiersAgree(t *testing.T) {
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range sizes {
		p := body(size.n)
		h := connect.SignHeader(p, secret, time.Now())
		bad := append([]byte{}, p...)
		bad[0] ^= 1
		checks := map[string]func([]byte) error{
			"connect": func(b []byte) error { return v.Verify(b, h) },
			"naive":   func(b []byte) error { return naiveVerify(b, h, secret) },
			"stripe":  func(b []byte) error { return webhook.ValidatePayload(b, h, secret) },
		}
		for name, check := range checks {
			if err := check(p); err != nil {
				t.Errorf("%s %s: refused a good signature: %v", name, size.name, err)
			}
			if err := check(bad); err == nil {
				t.Errorf("%s %s: accepted a tampered body", name, size.name)
			}
		}
	}
}

// BenchmarkVerify runs the SDK and the three baselines on the same bodies in one run,
// so the ratios in BENCHMARKS.md compare like with like.
func BenchmarkVerify(b *testing.B) {
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range sizes {
		p := body(size.n)
		h := connect.SignHeader(p, secret, time.Now())
		run := func(name string, f func() error) {
			b.Run(fmt.Sprintf("%s/%s", size.name, name), func(b *testing.B) {
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("sha256", func() error { sha256.Sum256(p); return nil })
		run("connect", func() error { return v.Verify(p, h) })
		run("naive", func() error { return naiveVerify(p, h, secret) })
		run("stripe", func() error { return webhook.ValidatePayload(p, h, secret) })
	}
}
