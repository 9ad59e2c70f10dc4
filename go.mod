module github.com/persona-connect/connect-go

go 1.23

require (
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-cleanhttp v0.5.2
)

require github.com/jarcoal/httpmock v1.4.2

require go.uber.org/goleak v1.3.0
