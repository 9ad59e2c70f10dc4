// Package redisdedupe is a connect.Deduper on Redis (through go-redis/v9), for webhook
// handlers running as several replicas: every replica that uses the same Redis and
// prefix agrees on which delivery runs an event, and a replica that crashes while
// running one holds it only until its lease ends.
//
// Each event is one key, prefix + "{" + event id + "}". A Claim sets it with SET NX PX
// (the lease: when it expires, Redis deletes the key and the next Claim takes the event
// over); Complete turns it into a done marker kept for the retention (default 72 h,
// beyond Persona's retries), after which Redis forgets the event on its own, so there
// is nothing to purge. Claim, Complete and Release are Lua scripts, atomic on the
// server, and compare the owner, so that a delivery whose lease was taken over cannot
// release or complete the event under the new holder. Each is one round trip.
//
// It works with any redis.UniversalClient: a single node (*redis.Client), a
// *redis.ClusterClient (the key's hash tag is the event id) or a failover client.
//
// Set-up:
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
//	defer rdb.Close()
//	dedupe := redisdedupe.New(rdb)
//	if err := dedupe.Ping(ctx); err != nil { // a bad option, or no Redis: say so at start-up
//		return err
//	}
//	handler := connect.NewWebhookHandler(verifier, connect.WithDeduper(dedupe))
//	handler.On(connect.EventInquiryApproved, func(ctx context.Context, ev *connect.Event) error {
//		return approve(ctx, ev.Object.ID) // runs once per event, across every replica
//	})
//
// Redis keeps no transaction with your own database: a function killed half-way runs
// again after its lease (at least once). For exactly-once effects in PostgreSQL, see
// pgdedupe's CompleteTx. Redis must not evict the keys early: use a maxmemory-policy
// that spares keys with a TTL from other data (noeviction, or a Redis of its own).
package redisdedupe
