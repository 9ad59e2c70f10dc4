package connect_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// tokenPage is the page of pageSize share tokens, total in all, that r asks for with
// Persona's cursor (page[after] = the last id of the page before); ok is false for a
// cursor that is not one of its ids.
func tokenPage(r *http.Request, total, pageSize int) (page []byte, ok bool) {
	start := 0
	if after := r.URL.Query().Get("page[after]"); after != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(after, "cnst_"))
		if err != nil {
			return nil, false
		}
		start = n + 1
	}
	end := min(start+pageSize, total)
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"connect/share-token","id":"cnst_%d","attributes":{"status":"created","direction":"outbound","created-at":"2023-08-17T23:18:13.000Z","updated-at":"2023-08-17T23:18:13.000Z","pending-at":null,"redeemed-at":null,"expires-at":"2023-08-31T23:18:13.000Z","failed-at":null,"failure-reason":null,"redeem-mode":null},"relationships":{"creator":{"data":{"type":"api-key","id":"api_ABC123"}},"source":{"data":{"type":"inquiry","id":"inq_%d"}},"connection":{"data":{"type":"connect/connection","id":"cxn_ABC123"}}}}`, i, i)
	}
	b.WriteString(`],"links":{"prev":null,"next":`)
	if end < total {
		fmt.Fprintf(&b, `"/api/v1/connect/share-tokens?page%%5Bafter%%5D=cnst_%d"`, end-1)
	} else {
		b.WriteString("null")
	}
	b.WriteString("}}")
	return []byte(b.String()), true
}

// TestListHoldsOnePage walks 10,000 tokens in 100 pages and checks that the live heap
// does not grow with the pages already walked: List must stream, not accumulate.
func TestListHoldsOnePage(t *testing.T) {
	const total, pageSize = 10_000, 100
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens"), func(r *http.Request) (*http.Response, error) {
		page, ok := tokenPage(r, total, pageSize)
		if !ok {
			return respond(http.StatusBadRequest, errorBody(http.StatusBadRequest))(r)
		}
		return respond(http.StatusOK, page)(r)
	})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var early, late uint64
	n := 0
	for tok, err := range c.ShareTokens.List(context.Background(), &connect.ListShareTokensParams{PageSize: pageSize}) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("cnst_%d", n); tok.ID != want {
			t.Fatalf("token %d is %s, want %s", n, tok.ID, want)
		}
		switch n {
		case 5 * pageSize:
			early = heap()
		case total - 5*pageSize:
			late = heap()
		}
		n++
	}
	if n != total {
		t.Fatalf("listed %d tokens, want %d", n, total)
	}
	t.Logf("live heap after 5 pages %d KiB, after 95 pages %d KiB", early>>10, late>>10)
	// 9,000 tokens walked between the two samples are about 4 MB of decoded tokens; a
	// streaming List holds one page (~60 KB) whatever the count.
	if late > early && late-early > 1<<20 {
		t.Errorf("live heap grew by %d KiB over 90 pages: List keeps what it yielded", (late-early)>>10)
	}
}

// pagedTokenServer serves tokenPage over loopback, for the benchmark.
func pagedTokenServer(b *testing.B, total, pageSize int) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := tokenPage(r, total, pageSize)
		if !ok {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(page)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkListShareTokens10k walks 10,000 tokens in pages of 100 over loopback.
func BenchmarkListShareTokens10k(b *testing.B) {
	c := benchClient(b, pagedTokenServer(b, 10_000, 100))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, err := range c.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 100}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10_000 {
			b.Fatalf("listed %d", n)
		}
	}
}
