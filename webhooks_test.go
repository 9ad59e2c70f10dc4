package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testSecret = "wbhsec_test"
	testUnix   = 1700000000
)

var testNow = time.Unix(testUnix, 0)

// fixedClock returns a clock stuck at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// mustVerifier builds a Verifier at testNow or fails the test.
func mustVerifier(tb testing.TB, secrets []string, opts ...VerifierOption) *Verifier {
	tb.Helper()
	v, err := NewVerifier(secrets, append([]VerifierOption{WithClock(fixedClock(testNow))}, opts...)...)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// readFixture returns a file under testdata.
func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mac is an independent HMAC-SHA256 of "<t>.<body>" in lower-case hex.
func mac(secret string, t int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10) + "." + body))
	return hex.EncodeToString(m.Sum(nil))
}

// group is a "t=..,v1=.." group signed with secret at unix time t.
func group(secret string, t int64, body string) string {
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + mac(secret, t, body)
}

// Golden vectors computed outside Go, with OpenSSL 3:
//
//	printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'wbhsec_test'
//	printf '%s' '1700000000.' | openssl dgst -sha256 -hmac 'wbhsec_test'
//	printf '%s' '1700000300.{"a":1}' | openssl dgst -sha256 -hmac 'wbhsec_other'
//	{ printf '1700000000.'; cat testdata/share_token_inbound_created.kebab.json; } | openssl dgst -sha256 -hmac 'wbhsec_test'
var goldenVectors = []struct {
	name, secret string
	unix         int64
	body         string // or fixture, when set
	fixture      string
	want         string
}{
	{name: "small object", secret: "wbhsec_test", unix: 1700000000, body: `{"a":1}`,
		want: "t=1700000000,v1=5125d9de9279d564db197b70a6c699dd005beb53dc22371dcaf347ac390940d7"},
	{name: "empty body", secret: "wbhsec_test", unix: 1700000000, body: ``,
		want: "t=1700000000,v1=2507cea366dbd17efd2bc17a14c86557105a27699e67cfd2a9c91ccf26688cd8"},
	{name: "other secret and time", secret: "wbhsec_other", unix: 1700000300, body: `{"a":1}`,
		want: "t=1700000300,v1=7ca0fec57b42e7aa06d29ceb455628d7d3fd51cb2b13d7af2e992eb67a4771bc"},
	{name: "share token delivery", secret: "wbhsec_test", unix: 1700000000, fixture: "share_token_inbound_created.kebab.json",
		want: "t=1700000000,v1=7dcc8d7b88b36198a9c5300b9de9ed7b1ef48d7d54469ed17e3fa6083838225b"},
}

// SignHeader makes each golden header, and Verify accepts it and refuses it with one
// hex digit changed.
func TestGoldenVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tc.body)
			if tc.fixture != "" {
				body = readFixture(t, tc.fixture)
			}
			if got := SignHeader(body, tc.secret, time.Unix(tc.unix, 0)); got != tc.want {
				t.Errorf("SignHeader = %q, want %q", got, tc.want)
			}
			v, err := NewVerifier([]string{tc.secret}, WithClock(fixedClock(time.Unix(tc.unix, 0))))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(body, tc.want); err != nil {
				t.Errorf("Verify(golden header) = %v, want nil", err)
			}
			// One flipped hex digit must fail: the golden header is not accepted by accident.
			flipped := "0"
			if strings.HasSuffix(tc.want, "0") {
				flipped = "1"
			}
			bad := tc.want[:len(tc.want)-1] + flipped
			if err := v.Verify(body, bad); !errors.Is(err, ErrNoValidSignature) {
				t.Errorf("Verify(header with one digit changed) = %v, want ErrNoValidSignature", err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const (
		body  = `{"data":{"type":"event","id":"evt_1"}}`
		other = "wbhsec_other"
		now   = int64(testUnix)
	)
	tests := []struct {
		name      string
		secrets   []string
		opts      []VerifierOption
		header    string
		body      string
		wantErrIs error // nil: accepted
	}{
		{name: "one group", header: group(testSecret, now, body)},
		{name: "rotation, good group first", header: group(testSecret, now, body) + " " + group(other, now, body)},
		{name: "rotation, good group second", header: group(other, now, body) + " " + group(testSecret, now, body)},
		{name: "rotation, groups with different t", header: group(other, now-10, body) + " " + group(testSecret, now-20, body)},
		{name: "rotation separated by tabs and extra spaces", header: "  " + group(other, now, body) + "\t \t" + group(testSecret, now, body) + " "},
		{name: "local rotation, old secret signs", secrets: []string{testSecret, other}, header: group(testSecret, now, body)},
		{name: "local rotation, new secret signs", secrets: []string{other, testSecret}, header: group(testSecret, now, body)},
		{name: "both rotations at once", secrets: []string{"wbhsec_a", testSecret}, header: group("wbhsec_b", now, body) + " " + group(testSecret, now, body)},
		{name: "unknown keys ignored", header: "t=" + strconv.FormatInt(now, 10) + ",v0=zz,v1=" + mac(testSecret, now, body) + ",foo=bar=baz"},
		{name: "second v1 in a group matches", header: "t=" + strconv.FormatInt(now, 10) + ",v1=" + mac(other, now, body) + ",v1=" + mac(testSecret, now, body)},
		{name: "upper-case hex", header: "t=" + strconv.FormatInt(now, 10) + ",v1=" + strings.ToUpper(mac(testSecret, now, body))},
		{name: "pair order v1 then t", header: "v1=" + mac(testSecret, now, body) + ",t=" + strconv.FormatInt(now, 10)},
		{name: "oldest accepted t", header: group(testSecret, now-300, body)},
		{name: "latest accepted t", header: group(testSecret, now+300, body)},
		{name: "empty body signed", body: "-", header: group(testSecret, now, "")},

		{name: "unknown secret", header: group(other, now, body), wantErrIs: ErrNoValidSignature},
		{name: "rotation, neither group ours", header: group(other, now, body) + " " + group("wbhsec_c", now, body), wantErrIs: ErrNoValidSignature},
		{name: "tampered body", header: group(testSecret, now, body), body: body + " ", wantErrIs: ErrNoValidSignature},
		{name: "swapped timestamp", header: "t=" + strconv.FormatInt(now-1, 10) + ",v1=" + mac(testSecret, now, body), wantErrIs: ErrNoValidSignature},
		{name: "timestamp with a leading zero", header: "t=0" + strconv.FormatInt(now, 10) + ",v1=" + mac(testSecret, now, body), wantErrIs: ErrNoValidSignature},
		{name: "signature of the body without t", header: "t=" + strconv.FormatInt(now, 10) + ",v1=" + hmacHex(testSecret, body), wantErrIs: ErrNoValidSignature},
		{name: "stale by one second", header: group(testSecret, now-301, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "future by one second", header: group(testSecret, now+301, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "zero time", header: group(testSecret, 0, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "far future", header: group(testSecret, 999999999999999999, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "rotation, good group stale and the fresh one wrong", header: group(testSecret, now-400, body) + " " + group(other, now, body), wantErrIs: ErrNoValidSignature},
		{name: "rotation, both stale", header: group(testSecret, now-400, body) + " " + group(other, now+400, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "custom tolerance, inside", opts: []VerifierOption{WithTolerance(time.Minute)}, header: group(testSecret, now-60, body)},
		{name: "custom tolerance, past", opts: []VerifierOption{WithTolerance(time.Minute)}, header: group(testSecret, now-61, body), wantErrIs: ErrTimestampOutOfTolerance},
		{name: "custom tolerance, future", opts: []VerifierOption{WithTolerance(time.Minute)}, header: group(testSecret, now+61, body), wantErrIs: ErrTimestampOutOfTolerance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := tc.secrets
			if secrets == nil {
				secrets = []string{testSecret}
			}
			b := tc.body
			switch b {
			case "":
				b = body
			case "-":
				b = ""
			}
			v := mustVerifier(t, secrets, tc.opts...)
			err := v.Verify([]byte(b), tc.header)
			if tc.wantErrIs == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErrIs) {
				t.Fatalf("Verify = %v, want an error wrapping %v", err, tc.wantErrIs)
			}
			assertNoLeak(t, err, append(secrets, tc.header, b)...)
		})
	}
}

// hmacHex is the MAC of body alone, without the "<t>." prefix.
func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// assertNoLeak fails when the error text contains any signature in the values, any
// secret, or the body.
func assertNoLeak(t *testing.T, err error, values ...string) {
	t.Helper()
	msg := err.Error()
	for _, v := range values {
		if len(v) >= 8 && strings.Contains(msg, v) {
			t.Errorf("error text %q contains %q", msg, v)
		}
		// Every run of 16+ hex digits in the inputs (signatures, or parts of them).
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEF", r) }) {
			if len(f) >= 16 && strings.Contains(strings.ToLower(msg), strings.ToLower(f[:16])) {
				t.Errorf("error text %q contains signature digits %q", msg, f[:16])
			}
		}
	}
}

func TestVerifyMalformedHeaders(t *testing.T) {
	t.Parallel()
	const body = `{"a":1}`
	now := strconv.FormatInt(testUnix, 10)
	sig := mac(testSecret, testUnix, body)
	good := "t=" + now + ",v1=" + sig
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"empty", "", ErrMissingSignature},
		{"only spaces", "   ", ErrMissingSignature},
		{"only a tab", "\t", ErrMissingSignature},
		{"missing t", "v1=" + sig, ErrInvalidSignatureHeader},
		{"missing v1", "t=" + now, ErrInvalidSignatureHeader},
		{"v0 only", "t=" + now + ",v0=" + sig, ErrInvalidSignatureHeader},
		{"non-numeric t", "t=abc,v1=" + sig, ErrInvalidSignatureHeader},
		{"negative t", "t=-" + now + ",v1=" + sig, ErrInvalidSignatureHeader},
		{"t with a plus sign", "t=+" + now + ",v1=" + sig, ErrInvalidSignatureHeader},
		{"fractional t", "t=" + now + ".5,v1=" + sig, ErrInvalidSignatureHeader},
		{"empty t", "t=,v1=" + sig, ErrInvalidSignatureHeader},
		{"t too long for int64", "t=99999999999999999999,v1=" + sig, ErrInvalidSignatureHeader},
		{"t in milliseconds past 18 digits", "t=1700000000000000000,v1=" + sig, ErrInvalidSignatureHeader},
		{"non-hex v1", "t=" + now + ",v1=" + strings.Repeat("zz", 32), ErrInvalidSignatureHeader},
		{"short v1", "t=" + now + ",v1=" + sig[:62], ErrInvalidSignatureHeader},
		{"long v1", "t=" + now + ",v1=" + sig + "00", ErrInvalidSignatureHeader},
		{"odd-length v1", "t=" + now + ",v1=" + sig[:63], ErrInvalidSignatureHeader},
		{"base64 v1", "t=" + now + ",v1=n3ulUDfqGSkzarlvyeg2oZe3qx3sQjbSno5s7Icx4dy8CbTPqu8xvQ5ZyEJy", ErrInvalidSignatureHeader},
		{"empty v1", "t=" + now + ",v1=", ErrInvalidSignatureHeader},
		{"semicolon separator", "t=" + now + ";v1=" + sig, ErrInvalidSignatureHeader},
		{"colon instead of equals", "t:" + now + ",v1:" + sig, ErrInvalidSignatureHeader},
		{"space after the comma", "t=" + now + ", v1=" + sig, ErrInvalidSignatureHeader},
		{"comma between groups", good + "," + good, ErrInvalidSignatureHeader},
		{"trailing comma", good + ",", ErrInvalidSignatureHeader},
		{"leading comma", "," + good, ErrInvalidSignatureHeader},
		{"double comma", "t=" + now + ",,v1=" + sig, ErrInvalidSignatureHeader},
		{"pair without key", "=x," + good, ErrInvalidSignatureHeader},
		{"bare word", "hello " + good, ErrInvalidSignatureHeader},
		{"duplicated t", "t=" + now + ",t=" + now + ",v1=" + sig, ErrInvalidSignatureHeader},
		{"duplicated t, second different", good + ",t=1", ErrInvalidSignatureHeader},
		{"good group then a malformed one", good + " t=" + now, ErrInvalidSignatureHeader},
		{"JSON instead of a header", `{"t":` + now + `,"v1":"` + sig + `"}`, ErrInvalidSignatureHeader},
		{"nine groups", strings.TrimSpace(strings.Repeat(good+" ", 9)), ErrInvalidSignatureHeader},
		{"one byte over 4 KiB", good + strings.Repeat(" ", 4097-len(good)), ErrInvalidSignatureHeader},
		{"200 KB header", good + ",x=" + strings.Repeat("a", 200_000), ErrInvalidSignatureHeader},
	}
	if len(tests) < 20 {
		t.Fatalf("only %d malformed headers", len(tests))
	}
	v := mustVerifier(t, []string{testSecret})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify([]byte(body), tc.header)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want an error wrapping %v", err, tc.want)
			}
			for _, other := range []error{ErrMissingSignature, ErrInvalidSignatureHeader, ErrNoValidSignature, ErrTimestampOutOfTolerance} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("Verify = %v, which also wraps %v", err, other)
				}
			}
			assertNoLeak(t, err, testSecret, body, tc.header)
		})
	}
}

func TestVerifyHeaderAtTheSizeLimit(t *testing.T) {
	t.Parallel()
	const body = `{"a":1}`
	good := group(testSecret, testUnix, body)
	header := good + ",x=" + strings.Repeat("a", 4096-len(good)-3)
	if len(header) != 4096 {
		t.Fatalf("header is %d bytes", len(header))
	}
	if err := mustVerifier(t, []string{testSecret}).Verify([]byte(body), header); err != nil {
		t.Errorf("Verify(4096-byte header) = %v, want nil", err)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
		opts    []VerifierOption
		want    error
	}{
		{"nil secrets", nil, nil, ErrEmptySecret},
		{"no secrets", []string{}, nil, ErrEmptySecret},
		{"empty secret", []string{""}, nil, ErrEmptySecret},
		{"blank secret", []string{" \t"}, nil, ErrEmptySecret},
		{"second secret empty", []string{testSecret, ""}, nil, ErrEmptySecret},
		{"zero tolerance", []string{testSecret}, []VerifierOption{WithTolerance(0)}, ErrInvalidParams},
		{"negative tolerance", []string{testSecret}, []VerifierOption{WithTolerance(-time.Second)}, ErrInvalidParams},
		{"nil clock", []string{testSecret}, []VerifierOption{WithClock(nil)}, ErrInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(tc.secrets, tc.opts...)
			if !errors.Is(err, tc.want) || v != nil {
				t.Fatalf("NewVerifier = %v, %v; want nil, an error wrapping %v", v, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "connect: ") {
				t.Errorf("error %q lacks the connect: prefix", err)
			}
		})
	}
}

func TestVerifierDoesNotPrintSecrets(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, []string{testSecret, "wbhsec_second"})
	// The keyed SHA-256 states are as secret as the keys: printed as bytes, their
	// middle would show (the state's words follow a 4-byte magic).
	state := "wbhsec_" // in FIPS 140 mode crypto/hmac keeps the states, out of fmt's reach
	if s := v.keys[0].states; s != nil {
		state = fmt.Sprint(s.inner[4:12])
		state = state[1 : len(state)-1]
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		for _, x := range []any{v, *v} {
			out := fmt.Sprintf(verb, x)
			if strings.Contains(out, "wbhsec_") || strings.Contains(out, state) {
				t.Errorf("Sprintf(%q, verifier) = %q shows a secret", verb, out)
			}
		}
	}
}

func TestConstructEvent(t *testing.T) {
	t.Parallel()
	body := readFixture(t, "share_token_inbound_created.kebab.json")
	fresh := SignHeader(body, testSecret, time.Now())

	ev, err := ConstructEvent(body, fresh, testSecret)
	if err != nil {
		t.Fatalf("ConstructEvent = %v", err)
	}
	if ev.ID != "evt_ABC123" || ev.Name != EventShareTokenInboundCreated {
		t.Errorf("event = %s %s", ev.ID, ev.Name)
	}

	if _, err := ConstructEvent(body, fresh, "wbhsec_wrong"); !errors.Is(err, ErrNoValidSignature) {
		t.Errorf("wrong secret: %v, want ErrNoValidSignature", err)
	}
	if _, err := ConstructEvent(body, fresh, ""); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("empty secret: %v, want ErrEmptySecret", err)
	}
	if _, err := ConstructEvent(body, "", testSecret); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("no header: %v, want ErrMissingSignature", err)
	}
	stale := SignHeader(body, testSecret, time.Now().Add(-time.Hour))
	if _, err := ConstructEvent(body, stale, testSecret); !errors.Is(err, ErrTimestampOutOfTolerance) {
		t.Errorf("stale: %v, want ErrTimestampOutOfTolerance", err)
	}

	notEvent := []byte(`{"data":{"type":"inquiry","id":"inq_1"}}`)
	_, err = ConstructEvent(notEvent, SignHeader(notEvent, testSecret, time.Now()), testSecret)
	if err == nil {
		t.Fatal("a signed inquiry document parsed as an event")
	}
	for _, s := range []error{ErrMissingSignature, ErrInvalidSignatureHeader, ErrNoValidSignature, ErrTimestampOutOfTolerance} {
		if errors.Is(err, s) {
			t.Errorf("parse error %v wraps the verification sentinel %v", err, s)
		}
	}
}

func TestVerifierConstructEventVerifiesFirst(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, []string{testSecret})
	notJSON := []byte("not json")
	if _, err := v.ConstructEvent(notJSON, group("wbhsec_other", testUnix, "not json")); !errors.Is(err, ErrNoValidSignature) {
		t.Errorf("ConstructEvent(unsigned garbage) = %v, want ErrNoValidSignature before any parsing", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	body := readFixture(t, "share_token_inbound_created.kebab.json")
	v := mustVerifier(t, []string{"wbhsec_old", testSecret})
	good := SignHeader(body, testSecret, testNow)
	bad := SignHeader(body, "wbhsec_other", testNow)
	errs := make(chan error, 64)
	for i := 0; i < cap(errs); i++ {
		go func(i int) {
			if i%2 == 0 {
				errs <- v.Verify(body, good)
				return
			}
			if err := v.Verify(body, bad); !errors.Is(err, ErrNoValidSignature) {
				errs <- fmt.Errorf("bad signature: %v", err)
				return
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestVerifyAllocations(t *testing.T) {
	if raceEnabled && fips140Enabled() {
		t.Skip("the race detector makes sync.Pool, which FIPS 140 mode uses, drop items")
	}
	for _, size := range []int{2 << 10, 64 << 10} {
		body := []byte(strings.Repeat("x", size))
		v := mustVerifier(t, []string{testSecret})
		header := SignHeader(body, testSecret, testNow)
		allocs := testing.AllocsPerRun(200, func() {
			if err := v.Verify(body, header); err != nil {
				t.Fatal(err)
			}
		})
		// The target is at most 2; Verify makes none, and one would mean that the
		// SHA-256 digest of the MAC (webhook_mac.go) has left the stack.
		if allocs != 0 {
			t.Errorf("Verify of %d bytes: %.1f allocations per call, want 0", size, allocs)
		}
	}
}
