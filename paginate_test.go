package connect_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// listServer serves /api/v1/connect/share-tokens in pages: pages[cursor] lists the ids
// of the page that page[after]=cursor asks for ("" for the first page); next[cursor]
// is that page's links.next (a relative link to the following cursor when absent,
// null on the last page).
type listServer struct {
	*httptest.Server
	pages   map[string][]string
	next    map[string]string
	mu      sync.Mutex
	queries []url.Values
}

func newListServer(t testing.TB, pages map[string][]string, next map[string]string, tlsServer bool) *listServer {
	t.Helper()
	s := &listServer{pages: pages, next: next}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.Query())
		s.mu.Unlock()
		if r.URL.Path != "/api/v1/connect/share-tokens" {
			http.Error(w, `{"errors":[{"title":"Record not found"}]}`, http.StatusNotFound)
			return
		}
		cursor := r.URL.Query().Get("page[after]")
		ids := s.pages[cursor]
		data := make([]map[string]any, 0, len(ids))
		for _, id := range ids {
			data = append(data, map[string]any{"type": "connect/share-token", "id": id, "attributes": map[string]any{"status": "created"}})
		}
		var next any
		if n, ok := s.next[cursor]; ok {
			next = n
		} else if len(ids) > 0 && s.pages[ids[len(ids)-1]] != nil {
			next = "/api/v1/connect/share-tokens?page%5Bafter%5D=" + ids[len(ids)-1]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "links": map[string]any{"prev": nil, "next": next}})
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.queries...)
}

// originGuard is a transport that records every request's origin and refuses (and
// reports) any to an origin other than allowed: nothing may be sent there.
type originGuard struct {
	t       *testing.T
	base    http.RoundTripper
	allowed string // scheme://host:port
}

func (g originGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if origin := r.URL.Scheme + "://" + r.URL.Host; origin != g.allowed {
		g.t.Errorf("request sent to %s, only %s is allowed", origin, g.allowed)
		return nil, errors.New("origin guard: refused")
	}
	return g.base.RoundTrip(r)
}

func (s *listServer) client(t *testing.T) *connect.Client {
	t.Helper()
	c, err := connect.New(testAPIKey,
		connect.WithBaseURL(s.URL+"/api/v1"),
		connect.WithHTTPClient(&http.Client{Transport: originGuard{t: t, base: s.Client().Transport, allowed: s.URL}}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func tokenIDs(toks []*connect.ShareToken) []string {
	out := make([]string, len(toks))
	for i, tok := range toks {
		out[i] = tok.ID
	}
	return out
}

var threePages = map[string][]string{
	"":       {"cnst_1", "cnst_2"},
	"cnst_2": {"cnst_3", "cnst_4"},
	"cnst_4": {"cnst_5"},
}

// Three pages are followed, and the filters and page size the next links leave out
// are kept on every request.
func TestListFollowsPagesKeepingFilters(t *testing.T) {
	t.Parallel()
	srv := newListServer(t, threePages, nil, false)
	params := &connect.ListShareTokensParams{ConnectionID: "cxn_1", Status: connect.ShareTokenCreated, Direction: connect.Outbound, PageSize: 2}
	seq := srv.client(t).ShareTokens.List(ctxT(t), params)
	params.Status = connect.ShareTokenFailed // List copied its params: no effect
	got, err := collectAll(seq)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff([]string{"cnst_1", "cnst_2", "cnst_3", "cnst_4", "cnst_5"}, tokenIDs(got)); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	for i, q := range reqs {
		want := url.Values{
			"filter[connection-id]": {"cxn_1"}, "filter[status]": {"created"},
			"filter[direction]": {"outbound"}, "page[size]": {"2"},
		}
		if cursor := []string{"", "cnst_2", "cnst_4"}[i]; cursor != "" {
			want.Set("page[after]", cursor)
		}
		if diff := cmp.Diff(want, q); diff != "" {
			t.Errorf("request %d query mismatch (-want +got):\n%s", i+1, diff)
		}
	}
}

// Breaking out of the range stops the fetching, and nothing is fetched before the
// range starts.
func TestListIsLazy(t *testing.T) {
	t.Parallel()
	srv := newListServer(t, threePages, nil, false)
	seq := srv.client(t).ShareTokens.List(ctxT(t), nil)
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("server saw %d requests before the range started, want 0", n)
	}
	var seen []string
	for tok, err := range seq {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		seen = append(seen, tok.ID)
		if tok.ID == "cnst_3" {
			break
		}
	}
	if diff := cmp.Diff([]string{"cnst_1", "cnst_2", "cnst_3"}, seen); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("server saw %d requests after a break on page 2, want 2", n)
	}
	// The sequence can be ranged again: it starts over.
	if _, err := collectAll(seq); err != nil {
		t.Fatalf("second range: %v", err)
	}
	if n := len(srv.requests()); n != 5 {
		t.Errorf("server saw %d requests after a second full range, want 5", n)
	}
}

// An empty page ends the listing even when it carries a next link.
func TestListStopsOnEmptyPage(t *testing.T) {
	t.Parallel()
	srv := newListServer(t,
		map[string][]string{"": {"cnst_1"}, "cnst_1": {}},
		map[string]string{"": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1", "cnst_1": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_9"},
		false)
	got, err := collectAll(srv.client(t).ShareTokens.List(ctxT(t), nil))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff([]string{"cnst_1"}, tokenIDs(got)); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

// A next link to another origin is refused, and nothing is sent there: the request
// would carry the API key to a host the caller never configured.
func TestListRefusesNextLinkToAnotherOrigin(t *testing.T) {
	t.Parallel()
	// other counts what reaches another server on another port.
	var otherHits sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Store(r.URL.String(), r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"data":[],"links":{"next":null}}`))
	}))
	t.Cleanup(other.Close)

	tests := []struct {
		name string
		tls  bool
		next func(self *url.URL) string
	}{
		{"another port", false, func(*url.URL) string {
			return other.URL + "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"
		}},
		{"another host, same port", false, func(self *url.URL) string {
			return "http://localhost:" + self.Port() + "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"
		}},
		{"another scheme, same host and port", true, func(self *url.URL) string {
			return "http://" + self.Host + "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"
		}},
		{"protocol-relative link", false, func(*url.URL) string {
			return "//" + strings.TrimPrefix(other.URL, "http://") + "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"
		}},
		{"same origin, outside the base path", false, func(*url.URL) string {
			return "/other/connect/share-tokens?page%5Bafter%5D=cnst_1"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newListServer(t, map[string][]string{"": {"cnst_1"}, "cnst_1": {"cnst_2"}}, map[string]string{}, tt.tls)
			self, _ := url.Parse(srv.URL)
			srv.next[""] = tt.next(self)
			var got []string
			var listErr error
			for tok, err := range srv.client(t).ShareTokens.List(ctxT(t), nil) {
				if err != nil {
					listErr = err
					continue // the error is the last pair; a further one would be a bug
				}
				got = append(got, tok.ID)
			}
			if diff := cmp.Diff([]string{"cnst_1"}, got); diff != "" {
				t.Errorf("ids mismatch (-want +got):\n%s", diff)
			}
			if listErr == nil {
				t.Fatal("List followed the next link or ended silently, want an error")
			}
			if strings.Contains(listErr.Error(), testAPIKey) {
				t.Errorf("error text contains the API key: %v", listErr)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("configured server saw %d requests, want 1", n)
			}
		})
	}
	otherHits.Range(func(k, v any) bool {
		t.Errorf("other server received %v (Authorization %q)", k, v)
		return true
	})
}

func TestListPageSize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{-1, 101, 1000} {
		t.Run(fmt.Sprint("invalid ", size), func(t *testing.T) {
			t.Parallel()
			c := noIOClient(t)
			for name, err := range map[string]error{
				"ShareTokens": firstErr(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{PageSize: size}), 0),
				"Connections": firstErr(c.Connections.List(ctxT(t), &connect.ListConnectionsParams{PageSize: size}), 0),
				"Events":      firstErr(c.Events.List(ctxT(t), &connect.ListEventsParams{PageSize: size}), 0),
			} {
				if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), "PageSize") {
					t.Errorf("%s.List(PageSize %d) error = %v, want ErrInvalidParams naming PageSize", name, size, err)
				}
			}
		})
	}
	for _, size := range []int{1, 100} {
		t.Run(fmt.Sprint("valid ", size), func(t *testing.T) {
			t.Parallel()
			c, rec := newRecordingClient(t, http.StatusOK, []byte(`{"data":[],"links":{"next":null}}`))
			if err := firstErr(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{PageSize: size}), 0); err != nil {
				t.Fatalf("List: %v", err)
			}
			if got := rec.only(t).URL.Query().Get("page[size]"); got != fmt.Sprint(size) {
				t.Errorf("page[size] = %q, want %d", got, size)
			}
		})
	}
	t.Run("zero omits page[size]", func(t *testing.T) {
		t.Parallel()
		c, rec := newRecordingClient(t, http.StatusOK, []byte(`{"data":[],"links":{"next":null}}`))
		if err := firstErr(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{}), 0); err != nil {
			t.Fatalf("List: %v", err)
		}
		if q := rec.only(t).URL.Query(); q.Has("page[size]") {
			t.Errorf("page[size] sent for PageSize 0: %v", q)
		}
	})
}

// Next links that cycle between pages (A, B, A, ...) end the listing with an error
// instead of listing the same tokens forever.
func TestListStopsOnCyclingNextLinks(t *testing.T) {
	t.Parallel()
	srv := newListServer(t,
		map[string][]string{"": {"cnst_a"}, "cnst_a": {"cnst_b"}, "cnst_b": {"cnst_a"}},
		map[string]string{"cnst_b": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_a"},
		false)
	var ids []string
	var lastErr error
	for tok, err := range srv.client(t).ShareTokens.List(ctxT(t), nil) {
		if err != nil {
			lastErr = err
			break
		}
		ids = append(ids, tok.ID)
		if len(ids) > 10 {
			t.Fatalf("List keeps going around the cycle: %v", ids)
		}
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "already listed") {
		t.Errorf("List ended with %v, want the cycle refused", lastErr)
	}
	if diff := cmp.Diff([]string{"cnst_a", "cnst_b", "cnst_a"}, ids); diff != "" {
		t.Errorf("tokens listed (-want +got):\n%s", diff)
	}
}

// The cycle check compares normalised URLs: a next link that differs from a page
// already listed only by a fragment, the order of its query or a repeated key names the
// same page, and ends the listing with an error instead of listing it for ever.
func TestListCycleCheckNormalisesNextLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		next func(n int) string // the next link of the n-th page served (1, 2, ...)
	}{
		{"fragment", func(n int) string {
			return fmt.Sprintf("/api/v1/connect/share-tokens?page%%5Bafter%%5D=cnst_x#%d", n)
		}},
		{"repeated key", func(n int) string {
			return "/api/v1/connect/share-tokens?" + strings.Repeat("page%5Bafter%5D=cnst_x&", n) + "page%5Bsize%5D=1"
		}},
		{"query order", func(n int) string {
			if n%2 == 1 {
				return "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_x&filter%5Bstatus%5D=created&filter%5Bstatus%5D=pending"
			}
			return "/api/v1/connect/share-tokens?filter%5Bstatus%5D=pending&page%5Bafter%5D=cnst_x&filter%5Bstatus%5D=created"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			served := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				served++
				n := served
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{
					"data":  []any{map[string]any{"type": "connect/share-token", "id": "cnst_x", "attributes": map[string]any{"status": "created"}}},
					"links": map[string]any{"next": tt.next(n)},
				})
			}))
			defer srv.Close()
			c, err := connect.New(testAPIKey, connect.WithBaseURL(srv.URL+"/api/v1"))
			if err != nil {
				t.Fatal(err)
			}
			listed := 0
			var lastErr error
			for _, err := range c.ShareTokens.List(ctxT(t), nil) {
				if err != nil {
					lastErr = err
					break
				}
				if listed++; listed > 10 {
					t.Fatalf("List keeps listing the same page: %d pages", listed)
				}
			}
			if lastErr == nil || !strings.Contains(lastErr.Error(), "already listed") {
				t.Errorf("List ended with %v, want the cycle refused", lastErr)
			}
			// The first page, then the page of the first next link; the second next
			// link names that page again.
			if listed != 2 {
				t.Errorf("listed %d pages before refusing the cycle, want 2", listed)
			}
		})
	}
}
