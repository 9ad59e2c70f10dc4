package connect_test

import (
	"context"
	"errors"
	"net/http/httptrace"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// sharedClientGoroutines is how many goroutines share one Client below: a busy
// backend's request handlers.
const sharedClientGoroutines = 32

// sharedClientFixture is a connecttest server, one source organization's Client
// (default transport) and a few share tokens to read.
func sharedClientFixture(tb testing.TB) (*connect.Client, []string) {
	tb.Helper()
	// No rate limit worth the name: this measures the client, not the fake's 429s.
	srv := newPersona(tb, connecttest.WithRateLimit(1<<30, time.Minute))
	c, err := srv.NewClient(srv.src)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, 8)
	for i := range ids {
		tok, err := c.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.CreateInquiry(srv.src)})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = tok.ID
	}
	return c, ids
}

// connCounter counts, through httptrace, the connections requests got: new ones
// (each one a TCP connection the server accepted) and reused ones from the pool.
type connCounter struct{ fresh, reused atomic.Int64 }

func (cc *connCounter) context(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				cc.reused.Add(1)
			} else {
				cc.fresh.Add(1)
			}
		},
	})
}

// readShared has every one of sharedClientGoroutines goroutines make rounds calls
// through c: a Get, and every fourth round a List of all the tokens in pages of 2.
func readShared(ctx context.Context, c *connect.Client, ids []string, rounds int) error {
	errs := concurrently(sharedClientGoroutines, func(g int) error {
		for r := 0; r < rounds; r++ {
			if _, err := c.ShareTokens.Get(ctx, ids[(g+r)%len(ids)]); err != nil {
				return err
			}
			if r%4 != 0 {
				continue
			}
			for _, err := range c.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 2}) {
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return errors.Join(errs...)
}

// TestSharedClientReusesConnections runs 32 goroutines through one Client with the
// default transport against connecttest, and counts the TCP connections: they must
// be reused from the pool, about one per goroutine, not one per request. (Whether
// the goroutines wait on a lock in the SDK is answered by BenchmarkSharedClient with
// -mutexprofile; see BENCHMARKS.md.)
func TestSharedClientReusesConnections(t *testing.T) {
	c, ids := sharedClientFixture(t)
	var cc connCounter
	const rounds = 40
	if err := readShared(cc.context(context.Background()), c, ids, rounds); err != nil {
		t.Fatal(err)
	}
	fresh, total := cc.fresh.Load(), cc.fresh.Load()+cc.reused.Load()
	t.Logf("%d requests over %d new connections", total, fresh)
	// A Get per round plus a 4-page List every fourth round.
	if want := int64(sharedClientGoroutines * (rounds + rounds/4*4)); total != want {
		t.Fatalf("counted %d requests, want %d: the trace missed some", total, want)
	}
	// Creating the fixture used one connection, which the pool may hand back; each
	// goroutine needs at most one at a time. Slack covers a connection the server
	// closed between requests.
	if limit := int64(sharedClientGoroutines + 4); fresh > limit {
		t.Errorf("%d new connections for %d requests: want at most %d (one per goroutine)", fresh, total, limit)
	}
}

// BenchmarkSharedClient is one Get through a Client shared by 32 goroutines (b.N
// spread over them) against connecttest, and reports the new connections per
// thousand requests. Run it with -cpuprofile and -mutexprofile to look for lock
// contention in the SDK.
func BenchmarkSharedClient(b *testing.B) {
	c, ids := sharedClientFixture(b)
	var cc connCounter
	ctx := cc.context(context.Background())
	b.ReportAllocs()
	b.SetParallelism(sharedClientGoroutines / max(1, runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := c.ShareTokens.Get(ctx, ids[int(i)%len(ids)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cc.fresh.Load())*1000/float64(max(1, cc.fresh.Load()+cc.reused.Load())), "newconns/1k")
}
