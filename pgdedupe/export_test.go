package pgdedupe

// The statements Claim and Complete send, for the benchmarks that send them by hand.
func ClaimSQL(d *Deduper) string    { return d.q.claim }
func CompleteSQL(d *Deduper) string { return d.q.complete }
