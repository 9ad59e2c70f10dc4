package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// acceptedByOracle is the slow, obvious reading of the header rules: split groups on
// whitespace and pairs on commas, and report whether some group's v1 is the MAC of its
// own t and the body under secret. It checks only what must hold for an accepted
// header, so it stays simple.
func acceptedByOracle(secret string, body []byte, header string) bool {
	asciiSpace := func(r rune) bool { return strings.ContainsRune(" \t\n\r\v\f", r) }
	for _, g := range strings.FieldsFunc(header, asciiSpace) {
		var ts string
		var sigs []string
		for _, pair := range strings.Split(g, ",") {
			k, v, _ := strings.Cut(pair, "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				sigs = append(sigs, strings.ToLower(v))
			}
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + "."))
		m.Write(body)
		want := hex.EncodeToString(m.Sum(nil))
		for _, s := range sigs {
			if hmac.Equal([]byte(s), []byte(want)) {
				return true
			}
		}
	}
	return false
}

// FuzzVerify checks that Verify never panics, and never accepts a header the oracle
// does not: a signature not made with the secret is always an error. The seed corpus
// is in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"data":{"type":"event","id":"evt_1"}}`)
	f.Add(body, SignHeader(body, testSecret, testNow))
	f.Add(body, SignHeader(body, "wbhsec_other", testNow)+" "+SignHeader(body, testSecret, testNow))
	f.Add([]byte{}, "t=1700000000,v1=")
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		v := mustVerifier(t, []string{testSecret})
		err := v.Verify(payload, header)
		if err == nil && !acceptedByOracle(testSecret, payload, header) {
			t.Fatalf("Verify accepted %q for a body it does not sign", header)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Fatalf("error %q contains the secret", err)
		}
	})
}

// FuzzParseEvent checks that ParseEvent and ShareToken never panic, and that a parsed
// event always has the id and name a Deduper and a WebhookHandler rely on. The seed
// corpus is in testdata/fuzz/FuzzParseEvent.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := ParseEvent(payload)
		if err != nil {
			if ev != nil {
				t.Fatal("an event returned with an error")
			}
			return
		}
		if ev.ID == "" || ev.Name == "" {
			t.Fatalf("parsed an event without id or name: %+v", ev)
		}
		tok, err := ev.ShareToken()
		if err == nil && tok == nil {
			t.Fatal("ShareToken returned neither a token nor an error")
		}
	})
}
