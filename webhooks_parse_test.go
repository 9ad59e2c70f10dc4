package connect

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// referenceParse is the Persona-Signature grammar written the plain way, in separate
// passes: fields on whitespace, pairs on commas, keys on the first '='. It is the
// specification parseSignatureHeader's one-pass scanner and its fast path for the
// usual "t=..,v1=.." group are held to.
func referenceParse(header string) ([]sigGroup, error) {
	var groups []sigGroup
	for _, text := range strings.FieldsFunc(header, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
		if len(groups) == maxSignatureGroups {
			return nil, fmt.Errorf("%w: more than %d signature groups", ErrInvalidSignatureHeader, maxSignatureGroups)
		}
		g := sigGroup{text: text}
		seenT, v1s := false, 0
		pairs := strings.Split(text, ",")
		for i, pair := range pairs {
			if i == len(pairs)-2 && pairs[i+1] == "" {
				return nil, fmt.Errorf("%w: group %d: trailing comma", ErrInvalidSignatureHeader, len(groups)+1)
			}
			key, val, ok := strings.Cut(pair, "=")
			var rule string
			switch {
			case !ok || key == "":
				rule = "a pair is not key=value"
			case key == "t" && seenT:
				rule = "t appears twice"
			case key == "t":
				seenT = true
				t, err := strconv.ParseUint(val, 10, 63)
				if err != nil || len(val) > maxTimestampDigits || strings.ContainsAny(val, "+-") {
					rule = "t is not a unix time in seconds"
				}
				g.ts, g.t = val, int64(t)
			case key == "v1":
				var sig [32]byte
				if !decodeHex32(val, &sig) {
					rule = "v1 is not 64 hex digits"
				}
				v1s++
			}
			if rule != "" {
				return nil, fmt.Errorf("%w: group %d: %s", ErrInvalidSignatureHeader, len(groups)+1, rule)
			}
		}
		switch {
		case !seenT:
			return nil, fmt.Errorf("%w: group %d: no t", ErrInvalidSignatureHeader, len(groups)+1)
		case v1s == 0:
			return nil, fmt.Errorf("%w: group %d: no v1 signature", ErrInvalidSignatureHeader, len(groups)+1)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// checkParseAgainstReference fails unless parseSignatureHeader and referenceParse
// accept the same groups or refuse with the same words.
func checkParseAgainstReference(t *testing.T, header string) {
	t.Helper()
	want, wantErr := referenceParse(header)
	var groups [maxSignatureGroups]sigGroup
	n, err := parseSignatureHeader(header, &groups)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("header %q: error %v, reference %v", header, err, wantErr)
	}
	if err != nil {
		return
	}
	if n != len(want) {
		t.Fatalf("header %q: %d groups, reference %d", header, n, len(want))
	}
	for i, w := range want {
		g := groups[i]
		if g.text != w.text || g.ts != w.ts || g.t != w.t {
			t.Fatalf("header %q: group %d is {%q %q %d}, reference {%q %q %d}", header, i+1, g.text, g.ts, g.t, w.text, w.ts, w.t)
		}
		if g.decoded {
			var sig [32]byte
			if !decodeHex32(strings.TrimPrefix(g.text, "t="+g.ts+",v1="), &sig) || sig != g.sig {
				t.Fatalf("header %q: group %d decoded a signature that is not its only v1", header, i+1)
			}
		}
	}
}

var parseSeeds = []string{
	"t=1700000000,v1=" + strings.Repeat("ab", 32),
	"t=1700000000,v1=" + strings.Repeat("AB", 32) + " t=1700000001,v1=" + strings.Repeat("01", 32),
	" \tt=1,v1=" + strings.Repeat("0f", 32) + "\n",
	"t=1700000000,v1=" + strings.Repeat("ab", 32) + ",v1=" + strings.Repeat("cd", 32),
	"v1=" + strings.Repeat("ab", 32) + ",t=1700000000",
	"t=1700000000,v0=zz,v1=" + strings.Repeat("ab", 32) + ",foo=bar=baz",
	"t=1700000000,v1=" + strings.Repeat("ab", 32) + ",",
	"t=1700000000,v1=" + strings.Repeat("ab", 31) + "zz,",
	"t=12x,v1=" + strings.Repeat("ab", 32),
	"t=,v1=" + strings.Repeat("ab", 32),
	"t=1234567890123456789,v1=" + strings.Repeat("ab", 32),
	"t=1,t=2,v1=" + strings.Repeat("ab", 32),
	"t=1,,v1=" + strings.Repeat("ab", 32),
	"t=1,v1=" + strings.Repeat("ab", 33),
	"t=1,v1=" + strings.Repeat("ab", 32) + "\x85",
	"t=1",
	"v1=" + strings.Repeat("ab", 32),
	"=1,t=1,v1=" + strings.Repeat("ab", 32),
	strings.Repeat("t=1,v1="+strings.Repeat("ab", 32)+" ", 9),
	strings.Repeat("t=1,v1="+strings.Repeat("ab", 32)+" ", 8) + "x",
}

// TestParseMatchesReference runs the seeds above, which reach every rule and both
// paths of parseSignatureHeader, against the reference grammar.
func TestParseMatchesReference(t *testing.T) {
	t.Parallel()
	for _, h := range parseSeeds {
		checkParseAgainstReference(t, h)
	}
}

// FuzzParseMatchesReference looks for a header on which the one-pass scanner and the
// reference grammar disagree.
func FuzzParseMatchesReference(f *testing.F) {
	for _, h := range parseSeeds {
		f.Add(h)
	}
	f.Fuzz(checkParseAgainstReference)
}
