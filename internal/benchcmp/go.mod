module github.com/persona-connect/connect-go/internal/benchcmp

go 1.23

require github.com/persona-connect/connect-go v0.0.0

require go.uber.org/goleak v1.3.0

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/stripe/stripe-go/v82 v82.5.1
)

replace github.com/persona-connect/connect-go => ../..
