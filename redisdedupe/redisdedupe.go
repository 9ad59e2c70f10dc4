package redisdedupe

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	connect "github.com/persona-connect/connect-go"
)

// DefaultPrefix starts every key unless WithPrefix says otherwise.
const DefaultPrefix = "connect:evt:"

// Deduper is a connect.Deduper on Redis, shared by every replica that uses the same
// Redis and prefix. It is safe for concurrent use.
type Deduper struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
	err       error // a bad configuration, returned by every method

	claim, complete, release *redis.Script
}

// config is what the Options set.
type config struct {
	prefix    string
	retention time.Duration
}

// Option configures New.
type Option func(*config)

// WithPrefix sets what every key starts with (default "connect:evt:"), so that several
// applications, or test runs, can share one Redis. It must not contain '{' or '}':
// the event id is the key's hash tag.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix = p }
}

// WithRetention sets how long a done event is remembered (default 72 h, beyond
// Persona's retries of about 51 hours). A retention <= 0 is refused, as by pgdedupe.
// Redis rounds it up to whole milliseconds.
func WithRetention(d time.Duration) Option {
	return func(c *config) { c.retention = d }
}

// Values of an event's key: "r:" + owner while a delivery runs it, "d:" + owner once
// done. The owner is kept in the done marker so that a repeated Complete by the same
// owner can succeed.
const (
	running = "r:"
	done    = "d:"
)

// Claim's answers, as the script returns them.
const (
	scriptAcquired   = 1
	scriptInProgress = 2
	scriptDone       = 3
)

// claimScript: KEYS[1] the event's key; ARGV[1] "r:"+owner; ARGV[2] the lease in ms.
// SET NX PX takes a new event, or one whose lease expired (Redis deleted its key); the
// holder's own Claim renews its lease.
const claimScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return 1
end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
if v and string.sub(v, 1, 2) == 'd:' then
	return 3
end
return 2
`

// completeScript: KEYS[1]; ARGV[1] the owner; ARGV[2] the retention in ms.
const completeScript = `
local v = redis.call('GET', KEYS[1])
if v == 'r:' .. ARGV[1] then
	redis.call('SET', KEYS[1], 'd:' .. ARGV[1], 'PX', ARGV[2])
	return 1
end
if v == 'd:' .. ARGV[1] then
	return 1
end
return 0
`

// releaseScript: KEYS[1]; ARGV[1] the owner. Only the holder's running claim goes.
const releaseScript = `
if redis.call('GET', KEYS[1]) == 'r:' .. ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`

// New returns a Deduper on rdb. A nil rdb (or one holding a nil pointer, such as a nil
// *redis.Client or *redis.ClusterClient), a prefix with '{' or '}', or a retention <= 0
// makes every method return an error wrapping connect.ErrInvalidParams; Ping reports
// it at start-up.
func New(rdb redis.UniversalClient, opts ...Option) *Deduper {
	cfg := config{prefix: DefaultPrefix, retention: connect.DefaultDedupeRetention}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	d := &Deduper{
		rdb: rdb, prefix: cfg.prefix, retention: cfg.retention,
		claim:    redis.NewScript(claimScript),
		complete: redis.NewScript(completeScript),
		release:  redis.NewScript(releaseScript),
	}
	switch {
	case isNil(rdb):
		d.err = fmt.Errorf("%w: redisdedupe: the Redis client must not be nil", connect.ErrInvalidParams)
	case strings.ContainsAny(cfg.prefix, "{}"):
		d.err = fmt.Errorf("%w: redisdedupe: WithPrefix %q must not contain '{' or '}'", connect.ErrInvalidParams, cfg.prefix)
	case cfg.retention <= 0:
		d.err = fmt.Errorf("%w: redisdedupe: WithRetention must be positive", connect.ErrInvalidParams)
	}
	return d
}

// Ping checks, at start-up, what New could not report: it returns New's configuration
// error (wrapping connect.ErrInvalidParams), else whatever keeps Redis from answering
// a PING. A Deduper whose Ping fails makes every delivery answer 500.
func (d *Deduper) Ping(ctx context.Context) error {
	if d.err != nil {
		return d.err
	}
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect: redisdedupe: ping: %w", err)
	}
	return nil
}

// key is the event's one key. The braces make the event id its hash tag: in a
// cluster its slot follows the id, whatever the prefix.
func (d *Deduper) key(eventID string) string {
	return d.prefix + "{" + eventID + "}"
}

// Claim implements connect.Deduper in one round trip. Leases run on the Redis
// server's clock, in whole milliseconds (rounded up).
func (d *Deduper) Claim(ctx context.Context, eventID, owner string, lease time.Duration) (connect.ClaimResult, error) {
	if err := d.check(eventID, owner); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("%w: redisdedupe: lease must be positive", connect.ErrInvalidParams)
	}
	n, err := d.claim.Run(ctx, d.rdb, []string{d.key(eventID)}, running+owner, millis(lease)).Int()
	if err != nil {
		return 0, fmt.Errorf("connect: redisdedupe: claim event %s: %w", eventID, err)
	}
	switch n {
	case scriptAcquired:
		return connect.ClaimAcquired, nil
	case scriptDone:
		return connect.ClaimDone, nil
	case scriptInProgress:
		return connect.ClaimInProgress, nil
	}
	return 0, fmt.Errorf("connect: redisdedupe: claim event %s: the script answered %d", eventID, n)
}

// Complete implements connect.Deduper. A lease that has ended is gone from Redis, so a
// Complete after it is refused even when nobody took the event over.
func (d *Deduper) Complete(ctx context.Context, eventID, owner string) error {
	if err := d.check(eventID, owner); err != nil {
		return err
	}
	return d.runHeld(ctx, "complete", d.complete, eventID, owner, millis(d.retention))
}

// Release implements connect.Deduper.
func (d *Deduper) Release(ctx context.Context, eventID, owner string) error {
	if err := d.check(eventID, owner); err != nil {
		return err
	}
	return d.runHeld(ctx, "release", d.release, eventID, owner)
}

// runHeld runs script, op's, which acts only for the claim's holder (the owner, first
// of argv), on eventID's key: when it answers other than 1, that owner does not hold
// the claim.
func (d *Deduper) runHeld(ctx context.Context, op string, script *redis.Script, eventID string, argv ...any) error {
	n, err := script.Run(ctx, d.rdb, []string{d.key(eventID)}, argv...).Int()
	if err != nil {
		return fmt.Errorf("connect: redisdedupe: %s event %s: %w", op, eventID, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: redisdedupe: %s event %s", connect.ErrClaimNotHeld, op, eventID)
	}
	return nil
}

func (d *Deduper) check(eventID, owner string) error {
	switch {
	case d.err != nil:
		return d.err
	case eventID == "":
		return fmt.Errorf("%w: redisdedupe: eventID must not be empty", connect.ErrInvalidParams)
	case owner == "":
		return fmt.Errorf("%w: redisdedupe: owner must not be empty", connect.ErrInvalidParams)
	}
	return nil
}

// isNil reports whether rdb is no client: nil, or an interface holding a nil pointer
// (a *redis.Client variable never assigned), whose first command would dereference it.
func isNil(rdb redis.UniversalClient) bool {
	if rdb == nil {
		return true
	}
	v := reflect.ValueOf(rdb)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// millis rounds d up to whole milliseconds, the unit of PX.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
