//go:build go1.24

package connect

import "crypto/fips140"

// fips140Enabled reports whether Go runs in FIPS 140-3 mode (GODEBUG=fips140=on or
// only), in which the webhook MAC goes through crypto/hmac.
func fips140Enabled() bool { return fips140.Enabled() }
