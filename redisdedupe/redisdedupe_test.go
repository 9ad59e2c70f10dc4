package redisdedupe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/internal/poll"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// One key per event, the id as its hash tag; the lease is its PX, the done marker's
// TTL the retention.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newClient(t, nil)
	prefix := uniquePrefix(t, rdb)
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	backendtest.MustClaim(t, d, "evt_1", "a", 90*time.Second, connect.ClaimAcquired)
	key := prefix + "{evt_1}"
	if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "r:a" {
		t.Errorf("running value = %q, %v; want r:a", v, err)
	}
	if ttl, err := rdb.PTTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > 90*time.Second {
		t.Errorf("lease TTL = %v, %v; want up to 90s", ttl, err)
	}
	if err := d.Complete(ctx, "evt_1", "a"); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "d:a" {
		t.Errorf("done value = %q, %v; want d:a", v, err)
	}
	if ttl, err := rdb.PTTL(ctx, key).Result(); err != nil || ttl <= 71*time.Hour || ttl > 72*time.Hour {
		t.Errorf("done TTL = %v, %v; want the 72 h retention", ttl, err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("keys = %v, %v; want the one", keys, err)
	}
}

func TestDoneIsForgottenAfterTheRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newClient(t, nil)
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(uniquePrefix(t, rdb)), redisdedupe.WithRetention(50*time.Millisecond))
	backendtest.MustComplete(t, d, "evt_1", "a")
	poll.Until(t, "the done marker to be forgotten after its retention", func() bool {
		got, err := d.Claim(ctx, "evt_1", "b", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got != connect.ClaimAcquired && got != connect.ClaimDone {
			t.Fatalf("Claim before the retention ended = %v, want done", got)
		}
		return got == connect.ClaimAcquired
	})
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	unused := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never reached: refused before any I/O
	defer unused.Close()
	for name, tc := range map[string]struct {
		d     *redisdedupe.Deduper
		names string // what the error must name
	}{
		"nil client": {redisdedupe.New(nil), "Redis client"},
		// A nil *redis.Client in the interface (a client variable never assigned) is
		// no client either: refused, not a nil dereference at the first Claim.
		"typed nil client":  {redisdedupe.New((*redis.Client)(nil)), "Redis client"},
		"typed nil cluster": {redisdedupe.New((*redis.ClusterClient)(nil)), "Redis client"},
		"brace prefix":      {redisdedupe.New(unused, redisdedupe.WithPrefix("app:{x}:")), "WithPrefix"},
		// pgdedupe refuses these too: a zero left by a misread setting must not pass
		// silently as the default.
		"zero retention":     {redisdedupe.New(unused, redisdedupe.WithRetention(0)), "WithRetention"},
		"negative retention": {redisdedupe.New(unused, redisdedupe.WithRetention(-time.Hour)), "WithRetention"},
	} {
		_, err := tc.d.Claim(ctx, "evt_1", "a", time.Minute)
		for op, err := range map[string]error{"Claim": err, "Complete": tc.d.Complete(ctx, "evt_1", "a"), "Release": tc.d.Release(ctx, "evt_1", "a"), "Ping": tc.d.Ping(ctx)} {
			if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), tc.names) {
				t.Errorf("%s: %s = %v, want ErrInvalidParams naming %s", name, op, err, tc.names)
			}
		}
	}
}

// Two replicas' handlers on one Redis: every concurrent delivery of an event but one
// is told 409, the event runs once, and later deliveries get 200.
func TestWebhookHandlersShareRedis(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_redis_test"
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	first := newClient(t, nil)
	prefix := uniquePrefix(t, first)
	var runs atomic.Int32
	release := make(chan struct{})
	handlers := make([]*connect.WebhookHandler, 2)
	for i := range handlers {
		rdb := first
		if i > 0 {
			rdb = newClient(t, nil)
		}
		handlers[i] = connect.NewWebhookHandler(v, connect.WithDeduper(redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))))
		handlers[i].On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error {
			runs.Add(1)
			<-release // hold the lease while the duplicates arrive
			return nil
		})
	}
	body := []byte(`{"data":{"type":"event","id":"evt_shared","attributes":{"name":"inquiry.completed",` +
		`"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}},"created-at":"2025-01-01T00:00:00.000Z"}}}`)
	post := func(h http.Handler) int {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set(connect.SignatureHeader, connect.SignHeader(body, secret, time.Now()))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const deliveries = 16
	statuses := make(chan int, deliveries)
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- post(handlers[i%2])
		}()
	}
	// All but the running one answer at once; then let it finish.
	counts := map[int]int{}
	for range deliveries - 1 {
		counts[<-statuses]++
	}
	close(release)
	wg.Wait()
	counts[<-statuses]++
	if counts[http.StatusOK] != 1 || counts[http.StatusConflict] != deliveries-1 {
		t.Errorf("answers %v, want one 200 and %d 409", counts, deliveries-1)
	}
	if got := post(handlers[1]); got != http.StatusOK {
		t.Errorf("after the run: %d, want 200", got)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times, want 1", n)
	}
}

// Ping is the start-up check: nil on a Redis that answers, the server's error on one
// that does not.
func TestPing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if err := redisdedupe.New(newClient(t, nil)).Ping(ctx); err != nil {
		t.Errorf("Ping on the test's Redis: %v", err)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	if err := redisdedupe.New(down).Ping(ctx); err == nil || errors.Is(err, connect.ErrInvalidParams) || !strings.HasPrefix(err.Error(), "connect: redisdedupe: ping: ") {
		t.Errorf("Ping on a closed port = %v, want the connection's error", err)
	}
}
