package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkVerify measures one Verify of a valid single-group header. The
// sha256-2KiB sub-benchmark is the floor it is compared with: one plain SHA-256 of the
// same 2 KiB, no key and no header. The empty body shows what Verify costs besides
// hashing the body: the header, the clock, two SHA-256 blocks and the compare.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"0B", 0}, {"2KiB", 2 << 10}, {"64KiB", 64 << 10}} {
		body := []byte(strings.Repeat("x", bc.size))
		v := mustVerifier(b, []string{testSecret})
		header := SignHeader(body, testSecret, testNow)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := v.Verify(body, header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("sha256-2KiB", func(b *testing.B) {
		body := []byte(strings.Repeat("x", 2<<10))
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sum := sha256.Sum256(body)
			if sum[0] == 0 && sum[1] == 0 && sum[2] == 0 && sum[3] == 0 {
				b.Fatal("unlikely sum") // keeps the call from being optimized away
			}
		}
	})
}

// BenchmarkConstructEvent verifies and decodes a share-token delivery, then decodes
// the token itself, as a WebhookHandler with OnShareToken does.
func BenchmarkConstructEvent(b *testing.B) {
	body := readFixture(b, "share_token_inbound_created.kebab.json")
	v := mustVerifier(b, []string{testSecret})
	header := SignHeader(body, testSecret, testNow)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev, err := v.ConstructEvent(body, header)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ev.ShareToken(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEvent decodes a share-token delivery (kebab case, 1 KiB) four ways, so
// that the figures in BENCHMARKS.md compare like with like:
//
//   - event: ParseEvent alone;
//   - event+token: ParseEvent, then Event.ShareToken, which is what a handler
//     registered with OnShareToken gets;
//   - map: the baseline, json.Unmarshal of the same body into a map[string]any, the
//     least a receiver that looks at the body at all must spend;
//   - verify+event (Verifier.ConstructEvent), verify+event+token and verify+map: the
//     same with Verify first, as a receiver does.
func BenchmarkParseEvent(b *testing.B) {
	body := readFixture(b, "share_token_inbound_created.kebab.json")
	v := mustVerifier(b, []string{testSecret})
	header := SignHeader(body, testSecret, testNow)
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	shareToken := func() error {
		ev, err := ParseEvent(body)
		if err != nil {
			return err
		}
		_, err = ev.ShareToken()
		return err
	}
	toMap := func() error {
		var m map[string]any
		return json.Unmarshal(body, &m)
	}
	run("event", func() error { _, err := ParseEvent(body); return err })
	run("event+token", shareToken)
	run("map", toMap)
	run("verify+event", func() error { _, err := v.ConstructEvent(body, header); return err })
	run("verify+event+token", func() error {
		ev, err := v.ConstructEvent(body, header)
		if err != nil {
			return err
		}
		_, err = ev.ShareToken()
		return err
	})
	run("verify+map", func() error {
		if err := v.Verify(body, header); err != nil {
			return err
		}
		return toMap()
	})
}

// BenchmarkVerifyRepeatedGroups is a forged header over a 1 MiB body: one group, and the
// same group eight times. Verify computes one MAC per distinct t per secret, so the two
// cost the same; computing one per group made the second eight times dearer.
func BenchmarkVerifyRepeatedGroups(b *testing.B) {
	body := []byte(strings.Repeat("x", 1<<20))
	forged := "t=" + strconv.FormatInt(testUnix, 10) + ",v1=" + strings.Repeat("ab", sha256.Size)
	v := mustVerifier(b, []string{testSecret})
	for _, bc := range []struct {
		name   string
		groups int
	}{{"1group", 1}, {"8groups", maxSignatureGroups}} {
		header := strings.TrimSpace(strings.Repeat(forged+" ", bc.groups))
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := v.Verify(body, header); !errors.Is(err, ErrNoValidSignature) {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyVsSHA256 measures the 2 KiB ratio of BenchmarkVerify with all sides
// in the same instants: batches of eight Verify calls, of eight plain SHA-256 sums of
// the same body, and of eight crypto/hmac MACs of "<t>.<body>" alone (Reset, Write,
// Sum: the floor Verify cannot go below while it keeps crypto/hmac) alternate, each
// batch timed on its own. The metrics "verify/sha256" and "hmac/sha256" are ratios of
// the summed times. On a shared machine a run of BenchmarkVerify/2KiB and a run of
// sha256-2KiB land in different moments of the load; here a pause of the process
// falls into any side in proportion to its length, so the ratios stay put while the
// absolute times move.
func BenchmarkVerifyVsSHA256(b *testing.B) {
	const batch = 8
	body := []byte(strings.Repeat("x", 2<<10))
	v := mustVerifier(b, []string{testSecret})
	header := SignHeader(body, testSecret, testNow)
	mac := hmac.New(sha256.New, []byte(testSecret))
	prefix := []byte(strconv.FormatInt(testUnix, 10) + ".")
	var verify, keyed, plain time.Duration
	var sum [sha256.Size]byte
	var sink byte
	b.ReportAllocs()
	batches := (b.N + batch - 1) / batch
	for i := 0; i < batches; i++ {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			if err := v.Verify(body, header); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for j := 0; j < batch; j++ {
			mac.Reset()
			mac.Write(prefix)
			mac.Write(body)
			sink ^= mac.Sum(sum[:0])[0]
		}
		t2 := time.Now()
		for j := 0; j < batch; j++ {
			s := sha256.Sum256(body)
			sink ^= s[0]
		}
		t3 := time.Now()
		verify += t1.Sub(t0)
		keyed += t2.Sub(t1)
		plain += t3.Sub(t2)
	}
	if sink == 0 && plain < 0 {
		b.Fatal("unreachable: keeps the sums from being optimized away")
	}
	ops := float64(batches * batch)
	b.ReportMetric(float64(verify)/float64(plain), "verify/sha256")
	b.ReportMetric(float64(keyed)/float64(plain), "hmac/sha256")
	b.ReportMetric(float64(verify)/ops, "verify-ns/op")
	b.ReportMetric(float64(plain)/ops, "sha256-ns/op")
}
