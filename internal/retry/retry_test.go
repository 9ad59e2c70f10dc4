package retry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		status int
		want   bool
	}{
		{http.MethodGet, 429, true}, {http.MethodPost, 429, true},
		{http.MethodGet, 502, true}, {http.MethodPost, 503, true}, {http.MethodPost, 504, true},
		{http.MethodGet, 500, true}, {http.MethodPost, 500, false},
		{http.MethodGet, 400, false}, {http.MethodGet, 401, false}, {http.MethodGet, 403, false},
		{http.MethodGet, 404, false}, {http.MethodPost, 409, false}, {http.MethodPost, 422, false},
		{http.MethodGet, 501, false}, {http.MethodGet, 200, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.method, tt.status); got != tt.want {
			t.Errorf("Retryable(%s, %d) = %v, want %v", tt.method, tt.status, got, tt.want)
		}
	}
}

func TestScheduleCountsRetries(t *testing.T) {
	t.Parallel()
	s := Policy{MaxRetries: 2, MaxWait: time.Minute, Initial: time.Millisecond, Max: 4 * time.Millisecond}.Start()
	for i := 0; i < 2; i++ {
		v, wait := s.Next(0, time.Time{}, false)
		if v != Retry || wait <= 0 || wait > 6*time.Millisecond {
			t.Fatalf("retry %d: verdict %v, wait %v; want Retry within the jittered cap", i+1, v, wait)
		}
	}
	if v, _ := s.Next(0, time.Time{}, false); v != GiveUp {
		t.Errorf("third retry: verdict %v, want GiveUp", v)
	}
}

func TestScheduleServerHint(t *testing.T) {
	t.Parallel()
	p := Policy{MaxRetries: 5, MaxWait: 10 * time.Second, Initial: time.Millisecond, Max: time.Millisecond}
	if v, wait := p.Start().Next(3*time.Second, time.Time{}, false); v != Retry || wait != 3*time.Second {
		t.Errorf("RateLimit-Reset 3s: verdict %v, wait %v; want Retry after 3s", v, wait)
	}
	if v, _ := p.Start().Next(11*time.Second, time.Time{}, false); v != WaitTooLong {
		t.Errorf("RateLimit-Reset over MaxWait: verdict %v, want WaitTooLong", v)
	}
	if v, _ := p.Start().Next(3*time.Second, time.Now().Add(time.Second), true); v != WaitTooLong {
		t.Errorf("wait past the deadline: verdict %v, want WaitTooLong", v)
	}
	// Our own backoff never gives up on its own: it is capped at MaxWait.
	long := Policy{MaxRetries: 1, MaxWait: 2 * time.Millisecond, Initial: time.Second, Max: time.Second}
	if v, wait := long.Start().Next(0, time.Time{}, false); v != Retry || wait != 2*time.Millisecond {
		t.Errorf("backoff over MaxWait: verdict %v, wait %v; want Retry after MaxWait", v, wait)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}

func TestStored(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{
		400: true, 403: true, 404: true, 409: true, 422: true, 500: true,
		401: false, 429: false, 502: false, 503: false, 504: false, 200: false, 201: false,
	} {
		if got := Stored(status); got != want {
			t.Errorf("Stored(%d) = %v, want %v", status, got, want)
		}
	}
}
