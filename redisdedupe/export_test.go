package redisdedupe

// The scripts Claim and Complete run, for the benchmarks that run them by hand.
const (
	ClaimScript    = claimScript
	CompleteScript = completeScript
)
