package connect

// The Persona-Signature header: its grammar, read in one pass, and the constant-time
// comparisons of a computed MAC with the signatures in it.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

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
	ts, t, sig, n, ok := canonicalShape(s)
	if !ok || len(s) > n && !isSpace(s[n]) || !decodeHex32(sig, &g.sig) {
		return 0, false
	}
	g.text, g.ts, g.t, g.decoded = s[:n], ts, t, true
	return start + n, true
}

// canonicalShape reports whether s starts with "t=<1 to 18 digits>,v1=" and 64 more
// bytes, which it does not check, and returns the digits, their value, the 64 bytes
// and the length of all that.
func canonicalShape(s string) (ts string, t int64, sig string, n int, ok bool) {
	if len(s) < 2 || s[0] != 't' || s[1] != '=' {
		return "", 0, "", 0, false
	}
	// The digits are read and added up in one pass; parseUnix's rules (1 to 18
	// digits) hold because the loop stops at 18. Eight come at once when there are:
	// every t from 1973 to 2286 has ten digits.
	d := 2
	if len(s) >= 2+8 {
		if v, ok := eightDigits(load64(s[2:])); ok {
			t, d = int64(v), 2+8
		}
	}
	for limit := min(len(s), 2+maxTimestampDigits); d < limit; d++ {
		c := s[d] - '0'
		if c > 9 {
			break
		}
		t = t*10 + int64(c)
	}
	const v1Len = len(",v1=") + 2*sha256.Size
	if d == 2 || len(s) < d+v1Len || s[d:d+len(",v1=")] != ",v1=" {
		return "", 0, "", 0, false
	}
	return s[2:d], t, s[d+len(",v1=") : d+v1Len], d + v1Len, true
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

// isHex32 reports whether s is exactly 64 hex digits (either case). The header is
// checked whole before any MAC, and decoded only where a MAC is compared.
func isHex32(s string) bool {
	var scratch [sha256.Size]byte
	return decodeHex32(s, &scratch)
}

// decodeHex32 decodes exactly 64 hex digits (either case) into dst and reports whether
// s was that. It reads the string in place (hex.DecodeString would allocate on every
// delivery) and eight digits at a time, as one 64-bit word: byte by byte, through a
// table, the decode was a third of what Verify spends outside SHA-256.
//
// For ASCII bytes no sum below carries into the next byte: each range check adds at
// most 0x50 to a byte under 0x80, and a digit's value is at most 15; a byte of 0x80 or
// more is refused by its own bit 7, whatever its neighbours become.
func decodeHex32(s string, dst *[sha256.Size]byte) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	const (
		lowBits  = 0x0101010101010101 // bit 0 of each byte
		highBits = 0x8080808080808080 // bit 7 of each byte
	)
	var bad uint64
	for i := 0; i < len(dst); i += 4 {
		x := load64(s[2*i:])
		// Bit 7 of x+(0x80-lo)*lowBits is set in the bytes >= lo.
		lower := x | 0x20*lowBits // 'A'-'F' to 'a'-'f'; digits keep their value
		digit := (x + (0x80-'0')*lowBits) &^ (x + (0x80-'9'-1)*lowBits)
		letter := (lower + (0x80-'a')*lowBits) &^ (lower + (0x80-'f'-1)*lowBits)
		bad |= x | ^(digit | letter)
		// A digit's value is its low nibble; a letter's (bit 6 set) its low nibble + 9.
		n := x&(0x0f*lowBits) + 9*((x>>6)&lowBits)
		// Pair the nibbles (byte k becomes n[k]<<4 | n[k+1]), keep the even bytes and
		// close the gaps between them.
		t := (n<<4 | n>>8) & 0x00ff00ff00ff00ff
		t = (t | t>>8) & 0x0000ffff0000ffff
		t |= t >> 16
		binary.LittleEndian.PutUint32(dst[i:], uint32(t))
	}
	return bad&highBits == 0
}

// eightDigits returns the number that the eight decimal digits of x spell, the first
// in its lowest byte, and whether all eight are digits. Each byte is a digit when its
// high nibble is 3 and adding 6 leaves it 3 (no byte carries into the next). The
// digits are then combined in pairs, fours and eights with one multiply each.
func eightDigits(x uint64) (uint64, bool) {
	const nibbles = 0xf0f0f0f0f0f0f0f0
	if x&nibbles != 0x3030303030303030 || (x+0x0606060606060606)&nibbles != 0x3030303030303030 {
		return 0, false
	}
	x = (x & 0x0f0f0f0f0f0f0f0f) * (10<<8 + 1) >> 8               // pairs: 10*first + second
	x = (x & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16            // fours
	return (x & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32, true // all eight
}

// load64 reads s[0:8] as a little-endian word; the compiler makes it one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// matches reports whether any v1 of g is sum.
func (g *sigGroup) matches(sum *[sha256.Size]byte) bool {
	if g.decoded {
		return equalMAC(sum, &g.sig)
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
		if decodeHex32(pair[3:], &want) && equalMAC(sum, &want) {
			// No early return: the time taken does not depend on which v1 matched.
			found = true
		}
	}
	return found
}

// equalMAC reports whether sum, a SHA-256 MAC, is want, in time that does not depend
// on their contents: the four 64-bit words are XORed and ORed together, with no branch
// until the one on the result. It is hmac.Equal (crypto/subtle.ConstantTimeCompare)
// for a known length, a word at a time instead of a byte at a time: byte by byte, the
// compare was a tenth of what Verify spends outside SHA-256.
func equalMAC(sum, want *[sha256.Size]byte) bool {
	le := binary.LittleEndian
	// In Go ^ and | share a precedence level: the parentheses are needed.
	diff := (le.Uint64(sum[0:]) ^ le.Uint64(want[0:])) | (le.Uint64(sum[8:]) ^ le.Uint64(want[8:])) |
		(le.Uint64(sum[16:]) ^ le.Uint64(want[16:])) | (le.Uint64(sum[24:]) ^ le.Uint64(want[24:]))
	return diff == 0
}

// equalHex reports whether text is the hex of sum, in either case, in time that does
// not depend on their contents. It encodes sum eight digits to a 64-bit word and
// compares the words; the text's letters are folded to lower case first (bit 5 set
// where bit 6 is, which digits lack). Equal words can only come from hex digits: the
// fold maps no other byte onto a digit or onto a-f. text that is not 64 bytes long
// never matches.
func equalHex(sum *[sha256.Size]byte, text string) bool {
	if len(text) != 2*sha256.Size {
		return false
	}
	// Written out rather than looped: in one basic block the compiler keeps
	// hexWordDiff's seven 64-bit constants in registers, where the loop loaded them
	// again on every turn (a quarter fewer instructions in all).
	le := binary.LittleEndian
	diff := hexWordDiff(le.Uint32(sum[0:]), load64(text[0:])) |
		hexWordDiff(le.Uint32(sum[4:]), load64(text[8:])) |
		hexWordDiff(le.Uint32(sum[8:]), load64(text[16:])) |
		hexWordDiff(le.Uint32(sum[12:]), load64(text[24:])) |
		hexWordDiff(le.Uint32(sum[16:]), load64(text[32:])) |
		hexWordDiff(le.Uint32(sum[20:]), load64(text[40:])) |
		hexWordDiff(le.Uint32(sum[24:]), load64(text[48:])) |
		hexWordDiff(le.Uint32(sum[28:]), load64(text[56:]))
	return diff == 0
}

// hexWordDiff returns 0 when h, eight bytes of text, is the hex of the four bytes of x
// (see equalHex), and something else otherwise.
func hexWordDiff(x32 uint32, h uint64) uint64 {
	const lowBits = 0x0101010101010101 // bit 0 of each byte
	x := uint64(x32)
	// Four bytes to the even bytes of a word, then each byte's high nibble to its
	// own byte and its low nibble to the next: the order the digits are written.
	w := (x | x<<16) & 0x0000ffff0000ffff
	w = (w | w<<8) & 0x00ff00ff00ff00ff
	n := (w>>4)&0x000f000f000f000f | (w&0x000f000f000f000f)<<8
	// '0'+n under 10, 'a'+n-10 from 10 ('a'-'0'-10 is 39); bit 7 of n+0x76 is
	// set from 10. No byte carries into the next: n is at most 15.
	digits := n + '0'*lowBits + ((n+0x76*lowBits)>>7&lowBits)*39
	h |= (h & (0x40 * lowBits)) >> 1
	return h ^ digits
}
