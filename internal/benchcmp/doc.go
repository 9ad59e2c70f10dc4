// Package benchcmp measures connect-go's webhook verifier against the baselines of
// BENCHMARKS.md in one run: SHA-256 alone (the physical floor), a naive verifier, and
// stripe-go's webhook.ValidatePayload, which accepts the same single-group
// "t=<unix>,v1=<hex>" header. It is a module of its own so that stripe-go never
// becomes a dependency of the SDK. It holds only benchmarks and their sanity tests:
//
//	cd internal/benchcmp && go test -run '^$' -bench . -benchmem
package benchcmp
