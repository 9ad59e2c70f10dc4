// Package safetext escapes text that came from elsewhere (Persona's answers, an event)
// before it goes into an error text, a log line or a terminal, where a hostile value
// could otherwise forge a line or recolour the screen. The SDK's error texts and the
// connect command's output share it, so that both escape the same runes.
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every rune that could change how a log line or a terminal
// shows it escaped as in a Go literal: control characters (line breaks, ESC, NUL, DEL,
// C1), format characters (bidi overrides), line and paragraph separators, and bytes
// that are not UTF-8. Any other text, non-ASCII letters included, is left as it is.
func Escape(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !shows(r):
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsClean reports whether Escape would return s unchanged.
func IsClean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !shows(r) {
			return false
		}
		i += size
	}
	return true
}

// shows reports whether r shows as itself.
func shows(r rune) bool {
	return !unicode.IsControl(r) && !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
