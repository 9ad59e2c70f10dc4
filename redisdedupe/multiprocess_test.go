package redisdedupe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// The variable, besides backendtest's, that tells a replica of TestMultiProcess its
// prefix, under which it keeps the claims and, in the list prefix + "runs", the record
// of every run of its function.
const (
	replicaPrefixEnv = "REDISDEDUPE_TEST_PREFIX"
	replicaLease     = 2 * time.Second // short, so the killed replica's events are taken over soon
)

// runRecord is one entry of the runs list. Redis orders the list: an entry pushed
// after another was pushed after it.
type runRecord struct {
	Op       string `json:"op"` // "start", "end", or "killed" (replica 0 is dead)
	Event    string `json:"event,omitempty"`
	Replica  int    `json:"replica"`
	Run      int64  `json:"run,omitempty"`       // the run's number on its replica
	OK       bool   `json:"ok,omitempty"`        // an end: the function is returning nil
	At       int64  `json:"at,omitempty"`        // a start: time.Now, in Unix ns
	LeaseEnd int64  `json:"lease_end,omitempty"` // a start: its context's deadline, in Unix ns
}

// pushRun appends rec to the runs list under prefix.
func pushRun(rdb redis.UniversalClient, prefix string, rec runRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return rdb.RPush(ctx, prefix+"runs", b).Err()
}

// runReplica is one replica of a webhook endpoint: a real http.Server with a
// WebhookHandler on redisdedupe, whose function records its start, works a little, and
// records its end. It serves until its standard input closes, then checks that it
// leaks no goroutine.
func runReplica(r *backendtest.Replica) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "replica: "+format+"\n", args...)
		return 1
	}
	opt, err := redis.ParseURL(os.Getenv(redisServer.Env))
	if err != nil {
		return fail("%s: %v", redisServer.Env, err)
	}
	rdb := redis.NewClient(opt)
	prefix := os.Getenv(replicaPrefixEnv)
	v, err := connect.NewVerifier([]string{r.Secret})
	if err != nil {
		return fail("verifier: %v", err)
	}
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	h := connect.NewWebhookHandler(v, connect.WithDeduper(d), connect.WithLease(replicaLease))
	var runs atomic.Int64
	h.On(connect.EventInquiryCompleted, func(ctx context.Context, ev *connect.Event) error {
		run := runs.Add(1)
		leaseEnd, _ := ctx.Deadline()
		start := runRecord{Op: "start", Event: ev.ID, Replica: r.N, Run: run, At: time.Now().UnixNano(), LeaseEnd: leaseEnd.UnixNano()}
		if err := pushRun(rdb, prefix, start); err != nil {
			return err
		}
		// The start is the effect, and nothing says the event is done: the victim is
		// killed here.
		r.HalfWay(ev.ID)
		end := runRecord{Op: "end", Event: ev.ID, Replica: r.N, Run: run}
		// Some work, so that the kill finds some in flight.
		select {
		case <-time.After(20 * time.Millisecond):
			end.OK = true
		case <-ctx.Done():
		}
		if err := pushRun(rdb, prefix, end); err != nil {
			return err
		}
		if !end.OK {
			return context.Cause(ctx)
		}
		return nil
	})
	if err := r.Serve(h); err != nil {
		return fail("%v", err)
	}
	if err := rdb.Close(); err != nil {
		return fail("close: %v", err)
	}
	if err := goleak.Find(); err != nil {
		return fail("leaked goroutines: %v", err)
	}
	return 0
}

// TestMultiProcess is the end-to-end proof of what redisdedupe promises across
// replicas and crashes: three replica processes behind a round-robin proxy, every
// event delivered several times at once and redelivered until it gets a 2xx, one
// replica killed with SIGKILL half-way through a run. Redis holds no transaction with
// the function's effects, so the promise is at least once, never at once: every event
// ends done, having run to completion; no two runs of an event overlap while the
// first one's lease is live; and an event runs again only when its run on the killed
// replica was cut off (before its end, or between its end and Complete), and then
// only once that run's lease has ended.
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	const events = 45
	rdb := newClient(t, nil)
	prefix := uniquePrefix(t, rdb)
	ctx := context.Background()
	res := backendtest.MultiProcess{
		Replicas: 3, Events: events, Copies: 3, InFlight: 6,
		HangAt: 3, // half-way through its third run
		Env:    []string{replicaPrefixEnv + "=" + prefix},
		Killed: func(string) {
			if err := pushRun(rdb, prefix, runRecord{Op: "killed"}); err != nil {
				t.Errorf("record the kill: %v", err)
			}
		},
	}.Run(t)

	entries, err := rdb.LRange(ctx, prefix+"runs", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	runs, killedAt := parseRuns(t, entries)
	if killedAt < 0 {
		t.Fatal("the runs list has no kill")
	}
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	known := map[string]bool{}
	var byReplica [3]int
	var again []string // the events that ran more than once
	for _, id := range res.IDs {
		known[id] = true
		if got, err := d.Claim(ctx, id, "checker", time.Minute); err != nil || got != connect.ClaimDone {
			t.Errorf("%s: Claim after the deliveries = %v, %v; want done", id, got, err)
		}
		rs := runs[id]
		for _, r := range rs {
			byReplica[r.replica]++
		}
		if len(rs) > 1 {
			again = append(again, fmt.Sprintf("%s %v", id, rs))
		}
		for _, problem := range checkRuns(rs, killedAt) {
			t.Errorf("%s: %s; its runs: %v", id, problem, rs)
		}
	}
	for id := range runs {
		if !known[id] {
			t.Errorf("a run of %s, which nobody delivered", id)
		}
	}
	// The event the kill cut off was taken over, after its lease, on another replica.
	if rs := runs[res.Hung]; len(rs) < 2 || rs[0].replica != 0 || rs[0].end >= 0 || rs[len(rs)-1].replica == 0 {
		t.Errorf("the event killed half-way (%s) ran %v, want cut off on replica 0, then run on another", res.Hung, rs)
	}
	t.Logf("killed replica 0 half-way through %s; %d events; answers %s; runs by replica %v; run again: %v", res.Hung, events, res.Summary, byReplica, again)
}

// run is one run of an event's function, from the runs list.
type run struct {
	replica         int
	start, end      int   // positions in the list; end -1 when it never ended
	ok              bool  // it ended returning nil
	at, leaseEnd    int64 // when it started and when its lease ends, Unix ns
	killedInFlight  bool  // on replica 0, started before the kill and never ended
	endedBeforeKill bool
}

func (r run) String() string {
	s := fmt.Sprintf("replica %d at #%d", r.replica, r.start)
	switch {
	case r.ok:
		s += fmt.Sprintf(" to #%d", r.end)
	case r.end >= 0:
		s += fmt.Sprintf(" failed at #%d", r.end)
	default:
		s += " never ended"
	}
	return s
}

// parseRuns turns the runs list into each event's runs, oldest start first, and the
// position of the kill (-1 without one).
func parseRuns(t *testing.T, entries []string) (map[string][]run, int) {
	t.Helper()
	type runKey struct {
		replica int
		run     int64
	}
	killedAt := -1
	where := map[runKey]*run{}
	var order []runKey
	events := map[runKey]string{}
	for i, e := range entries {
		var rec runRecord
		if err := json.Unmarshal([]byte(e), &rec); err != nil {
			t.Fatalf("runs list entry %d %q: %v", i, e, err)
		}
		k := runKey{rec.Replica, rec.Run}
		switch rec.Op {
		case "killed":
			killedAt = i
		case "start":
			if where[k] != nil {
				t.Fatalf("runs list entry %d: run %v started twice", i, k)
			}
			where[k] = &run{replica: rec.Replica, start: i, end: -1, at: rec.At, leaseEnd: rec.LeaseEnd}
			order = append(order, k)
			events[k] = rec.Event
		case "end":
			r := where[k]
			if r == nil || r.end >= 0 || events[k] != rec.Event {
				t.Fatalf("runs list entry %d: an end of run %v, which did not start or ended before", i, k)
			}
			r.end, r.ok = i, rec.OK
		default:
			t.Fatalf("runs list entry %d: op %q", i, rec.Op)
		}
	}
	runs := map[string][]run{}
	for _, k := range order {
		r := where[k]
		r.killedInFlight = r.replica == 0 && r.end < 0 && r.start < killedAt
		r.endedBeforeKill = r.replica == 0 && r.end >= 0 && r.end < killedAt
		runs[events[k]] = append(runs[events[k]], *r)
	}
	return runs, killedAt
}

// checkRuns returns what is wrong with an event's runs, given the kill's position in
// the list, against what redisdedupe promises.
func checkRuns(rs []run, killedAt int) []string {
	var problems []string
	if len(rs) == 0 {
		return []string{"it never ran"}
	}
	if last := rs[len(rs)-1]; !last.ok {
		problems = append(problems, "its last run did not run to completion")
	}
	for i, a := range rs {
		if a.replica != 0 && !a.ok {
			problems = append(problems, fmt.Sprintf("run %d, on a live replica, did not run to completion", i))
		}
		if i == len(rs)-1 {
			break
		}
		// A run before the last one: only the kill may have kept its event from being
		// done, so it ran on replica 0 and the kill cut it off, before its end or
		// before the Complete after it.
		cutOff := a.killedInFlight || a.endedBeforeKill
		if !cutOff {
			problems = append(problems, fmt.Sprintf("run %d is followed by another, but the kill did not cut it off", i))
		}
		// a ended, for the others, at its end, or for a run cut off before its end,
		// when replica 0 died: the kill is pushed once it has.
		aEnd := a.end
		if a.killedInFlight {
			aEnd = killedAt
		}
		for j, b := range rs[i+1:] {
			if aEnd < 0 || b.start < aEnd {
				if b.at < a.leaseEnd {
					problems = append(problems, fmt.Sprintf("run %d started while run %d ran under a live lease", i+1+j, i))
				}
			}
		}
		// The next run took the cut-off claim over: only once a's lease had ended,
		// since a's dead holder never released it.
		if b := rs[i+1]; cutOff && b.at < a.leaseEnd {
			problems = append(problems, fmt.Sprintf("run %d started %v before the lease of run %d ended", i+1, time.Duration(a.leaseEnd-b.at), i))
		}
	}
	return problems
}
