package connect_test

import (
	"net/http"
	"sync"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// One Client is shared by concurrent calls (run with -race): each POST still gets its
// own idempotency key and every call succeeds.
func TestClientConcurrentUse(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	keys := map[string]int{}
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			mu.Lock()
			keys[r.Header.Get("Idempotency-Key")]++
			mu.Unlock()
			respond(http.StatusCreated, string(specFixture(t, "connect-share-token.json")))(w, r)
		case r.URL.Path == "/api/v1/connect/share-tokens":
			respond(http.StatusOK, `{"data":[{"type":"connect/share-token","id":"cnst_1","attributes":{}}],"links":{"next":null}}`)(w, r)
		default:
			respond(http.StatusOK, string(specFixture(t, "connect-share-token-redeemed.json")))(w, r)
		}
	})
	c := srv.client(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for range n {
		wg.Add(3)
		go func() { defer wg.Done(); errs <- createToken(ctxT(t), c) }()
		go func() { defer wg.Done(); errs <- getToken(ctxT(t), c) }()
		go func() {
			defer wg.Done()
			_, err := collectAll(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{PageSize: 5}))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != n {
		t.Errorf("%d concurrent Creates used %d distinct idempotency keys, want %d", n, len(keys), n)
	}
}
