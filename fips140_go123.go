//go:build !go1.24

package connect

// fips140Enabled is false before Go 1.24, which has no FIPS 140-3 mode (the module
// supports Go 1.23; crypto/fips140 came in 1.24).
func fips140Enabled() bool { return false }
