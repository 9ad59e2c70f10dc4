package connect_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
)

// listLog records the queries a paged list was asked with.
type listLog struct {
	mu      sync.Mutex
	queries []url.Values
}

func (l *listLog) requests() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]url.Values(nil), l.queries...)
}

// servePages answers the share token list on mt in pages: pages[cursor] lists the ids
// of the page that page[after]=cursor asks for ("" for the first page); next[cursor]
// is that page's links.next (when absent, a relative link to the following cursor if
// that page exists, else null). It returns the log of the pages asked for.
func servePages(mt *httpmock.MockTransport, pages map[string][]string, next map[string]string) *listLog {
	log := &listLog{}
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens"), func(r *http.Request) (*http.Response, error) {
		log.mu.Lock()
		log.queries = append(log.queries, r.URL.Query())
		log.mu.Unlock()
		cursor := r.URL.Query().Get("page[after]")
		ids := pages[cursor]
		data := make([]map[string]any, 0, len(ids))
		for _, id := range ids {
			data = append(data, map[string]any{"type": "connect/share-token", "id": id, "attributes": map[string]any{"status": "created"}})
		}
		var link any
		if n, ok := next[cursor]; ok {
			link = n
		} else if len(ids) > 0 && pages[ids[len(ids)-1]] != nil {
			link = "/api/v1/connect/share-tokens?page%5Bafter%5D=" + ids[len(ids)-1]
		}
		return httpmock.NewJsonResponse(http.StatusOK, map[string]any{"data": data, "links": map[string]any{"prev": nil, "next": link}})
	})
	return log
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
	c, mt := setup(t)
	srv := servePages(mt, threePages, nil)
	params := &connect.ListShareTokensParams{ConnectionID: "cxn_1", Status: connect.ShareTokenCreated, Direction: connect.Outbound, PageSize: 2}
	seq := c.ShareTokens.List(ctxT(t), params)
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
		t.Fatalf("Persona saw %d requests, want 3", len(reqs))
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
	c, mt := setup(t)
	srv := servePages(mt, threePages, nil)
	seq := c.ShareTokens.List(ctxT(t), nil)
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("Persona saw %d requests before the range started, want 0", n)
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
		t.Errorf("Persona saw %d requests after a break on page 2, want 2", n)
	}
	// The sequence can be ranged again: it starts over.
	if _, err := collectAll(seq); err != nil {
		t.Fatalf("second range: %v", err)
	}
	if n := len(srv.requests()); n != 5 {
		t.Errorf("Persona saw %d requests after a second full range, want 5", n)
	}
}

// An empty page ends the listing even when it carries a next link.
func TestListStopsOnEmptyPage(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	srv := servePages(mt,
		map[string][]string{"": {"cnst_1"}, "cnst_1": {}},
		map[string]string{"": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1", "cnst_1": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_9"})
	got, err := collectAll(c.ShareTokens.List(ctxT(t), nil))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff([]string{"cnst_1"}, tokenIDs(got)); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("Persona saw %d requests, want 2", n)
	}
}

// A next link to another origin is refused, and nothing is sent there (a request
// anywhere but the list fails the test): it would carry the API key to a host the
// caller never configured.
func TestListRefusesNextLinkToAnotherOrigin(t *testing.T) {
	t.Parallel()
	const page2 = "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"
	for name, next := range map[string]string{
		"another port":                       "https://api.persona.test:8443" + page2,
		"another host":                       "https://elsewhere.test" + page2,
		"another scheme, same host and port": "http://api.persona.test:443" + page2,
		"protocol-relative link":             "//elsewhere.test" + page2,
		"same origin, outside the base path": "/other/connect/share-tokens?page%5Bafter%5D=cnst_1",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			srv := servePages(mt, map[string][]string{"": {"cnst_1"}, "cnst_1": {"cnst_2"}}, map[string]string{"": next})
			var got []string
			var listErr error
			for tok, err := range c.ShareTokens.List(ctxT(t), nil) {
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
				t.Errorf("Persona saw %d requests, want 1", n)
			}
		})
	}
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
			c, mt := setup(t)
			srv := servePages(mt, nil, nil)
			if err := firstErr(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{PageSize: size}), 0); err != nil {
				t.Fatalf("List: %v", err)
			}
			if diff := cmp.Diff([]url.Values{{"page[size]": {fmt.Sprint(size)}}}, srv.requests()); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("zero omits page[size]", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		srv := servePages(mt, nil, nil)
		if err := firstErr(c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{}), 0); err != nil {
			t.Fatalf("List: %v", err)
		}
		if diff := cmp.Diff([]url.Values{{}}, srv.requests()); diff != "" {
			t.Errorf("queries for PageSize 0 (-want +got):\n%s", diff)
		}
	})
}

// Next links that cycle between pages (A, B, A, ...) end the listing with an error
// instead of listing the same tokens forever.
func TestListStopsOnCyclingNextLinks(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	servePages(mt,
		map[string][]string{"": {"cnst_a"}, "cnst_a": {"cnst_b"}, "cnst_b": {"cnst_a"}},
		map[string]string{"cnst_b": "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_a"})
	var ids []string
	var lastErr error
	for tok, err := range c.ShareTokens.List(ctxT(t), nil) {
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
			c, mt := setup(t)
			served := 0
			mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens"), func(*http.Request) (*http.Response, error) {
				served++ // one page at a time
				return httpmock.NewJsonResponse(http.StatusOK, map[string]any{
					"data":  []any{map[string]any{"type": "connect/share-token", "id": "cnst_x", "attributes": map[string]any{"status": "created"}}},
					"links": map[string]any{"next": tt.next(served)},
				})
			})
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

// A next link is Persona's text: the path an error names for the page it leads to is
// the escaped one, as Do names its path, so a link whose path holds an escaped line
// break cannot forge a log line through the error of that page.
func TestListNextLinkPathIsEscapedInErrors(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	const hostile = "/connect/share-tokens%0Alevel=ERROR%20msg=forged"
	servePages(mt, map[string][]string{"": {"cnst_1"}}, map[string]string{"": "/api/v1" + hostile + "?page%5Bafter%5D=cnst_1"})
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`level=ERROR`), respond(http.StatusNotFound, errorBody(http.StatusNotFound)))
	err := firstErr(c.ShareTokens.List(ctxT(t), nil), 10)
	apiErr := mustAPIError(t, err)
	if apiErr.Path != hostile {
		t.Errorf("APIError.Path = %q, want %q", apiErr.Path, hostile)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q holds a line break", msg)
	}
}

// A base URL behind a proxy that puts a prefix before Persona's /api/v1: Persona's
// links, relative to its own host ("/api/v1/..."), are followed under the prefix, by
// List and by Do.
func TestNextLinksUnderABaseURLWithAPrefix(t *testing.T) {
	t.Parallel()
	const base = "https://egress.test/persona/api/v1"
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return nil, errUnexpected
	})
	mt.RegisterResponder(http.MethodGet, base+"/connect/share-tokens", func(r *http.Request) (*http.Response, error) {
		next, id := any("/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1"), "cnst_1"
		if r.URL.Query().Get("page[after]") == "cnst_1" {
			next, id = nil, "cnst_2"
		}
		return httpmock.NewJsonResponse(http.StatusOK, map[string]any{
			"data":  []any{map[string]any{"type": "connect/share-token", "id": id, "attributes": map[string]any{"status": "created"}}},
			"links": map[string]any{"next": next},
		})
	})
	c, err := connect.New(testAPIKey, connect.WithBaseURL(base), connect.WithHTTPClient(&http.Client{Transport: mt}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := collectAll(c.ShareTokens.List(ctxT(t), nil))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff([]string{"cnst_1", "cnst_2"}, tokenIDs(got)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	var page struct{ Data []struct{ ID string } }
	if err := c.Do(ctxT(t), http.MethodGet, "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_1", nil, &page); err != nil {
		t.Fatalf("Do with Persona's link: %v", err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "cnst_2" {
		t.Errorf("Do got %+v, want cnst_2", page.Data)
	}
}
