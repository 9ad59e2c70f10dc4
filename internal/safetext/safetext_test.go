package safetext

import "testing"

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"cnst_ABC123 pending", "cnst_ABC123 pending"},
		{"Zoë, 東京 and \uFFFD", "Zoë, 東京 and \uFFFD"}, // letters and a real U+FFFD show as themselves
		{"a\nlevel=ERROR", `a\nlevel=ERROR`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"tab\there", `tab\there`},
		{"evt_\u202e1", `evt_\u202e1`},         // a bidi override
		{"line\u2028sep", `line\u2028sep`},     // a line separator
		{"nul\x00del\x7f", `nul\x00del\x7f`},   // NUL and DEL
		{"c1\u0085", `c1\u0085`},               // a C1 control
		{"bad\xffbyte", `bad\xffbyte`},         // not UTF-8
		{"cut\xe6\x9d", `cut\xe6\x9d`},         // a rune cut short
		{"zero\u200bwidth", `zero\u200bwidth`}, // a format character
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if clean := IsClean(tc.in); clean != (tc.in == tc.want) {
			t.Errorf("IsClean(%q) = %v, want %v", tc.in, clean, tc.in == tc.want)
		}
	}
}
