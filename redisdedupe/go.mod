module github.com/persona-connect/connect-go/redisdedupe

go 1.23

require (
	github.com/persona-connect/connect-go v0.0.0
	github.com/redis/go-redis/v9 v9.18.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	go.uber.org/atomic v1.11.0 // indirect
)

replace github.com/persona-connect/connect-go => ../
