package redisdedupe_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// commandLog is a go-redis hook that records every command sent; outside pipelines
// each is one round trip.
type commandLog struct{ backendtest.Log }

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.Add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		l.Add("pipeline")
		return next(ctx, cmds)
	}
}

// Two round trips per event through a WebhookHandler: the claim script and the
// complete script, each one EVALSHA once Redis has the script.
func TestRoundTripsPerEvent(t *testing.T) {
	t.Parallel()
	log := &commandLog{}
	rdb := newClient(t, log)
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(uniquePrefix(t, rdb)))
	h := connect.NewWebhookHandler(nil, connect.WithDeduper(d))
	h.On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error { return nil })
	ctx := context.Background()
	log.Take() // the ping
	for i := range 6 {
		if err := h.Process(ctx, &connect.Event{ID: "evt_rt_" + string(rune('a'+i)), Name: connect.EventInquiryCompleted}); err != nil {
			t.Fatal(err)
		}
		got := log.Take()
		if i == 0 {
			continue // a Redis that has not seen a script answers NOSCRIPT once, then EVAL loads it
		}
		if want := []string{"evalsha", "evalsha"}; !slices.Equal(got, want) {
			t.Errorf("event %d: commands %q, want %q", i, got, want)
		}
	}
}
