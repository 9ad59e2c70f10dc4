package connect

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// listParams is the params type of a List: a struct whose query method validates it
// and encodes its filters, before any I/O.
type listParams[P any] interface {
	*P
	query() (url.Values, error)
}

// listResources is the body of every List: params (nil for none) is copied, so that changing it
// after the call has no effect; its query is built before any I/O and bad params are
// the only pair of the iterator; then the pages of path are fetched lazily as operation
// name, whose route is path.
func listResources[P any, PP listParams[P], W, T any](ctx context.Context, c *Client, name, path string, params *P, opts []RequestOption, decode func(*W) (T, error)) iter.Seq2[T, error] {
	var p P
	if params != nil {
		p = *params
	}
	q, err := PP(&p).query()
	if err != nil {
		return failedSeq[T](err)
	}
	return paginate(withOperation(ctx, name, path), c, path, q, opts, decode)
}

// paginate returns a lazy iterator over every resource of a list endpoint. No request is
// sent until the range starts; each page is fetched when the previous one has been
// yielded, so memory holds one page. It follows links.next (resolved against the base
// URL) and stops at a null next link or an empty page, whichever comes first.
// An error is yielded once, as the last pair.
//
// opts apply to every page's request; WithResponseInto therefore ends up describing the
// last page fetched.
func paginate[W, T any](ctx context.Context, c *Client, path string, query url.Values, opts []RequestOption, decode func(*W) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		u := *c.base
		u.Path = c.base.Path + path
		u.RawQuery = query.Encode()
		rc := newRequestConfig(opts)
		cl := &call{method: http.MethodGet, url: &u, path: path, into: rc.responseInto}
		// Every page fetched so far, by pageKey: next links that cycle (A, B, A, ...)
		// would otherwise list the same tokens forever and spend the rate limit. A key
		// is ~100 bytes, so 100 pages of 100 tokens cost ~10 KB here.
		seen := map[string]bool{}
		for {
			seen[pageKey(cl.url)] = true
			var page pageDocument[W]
			if err := c.do(ctx, cl, &page); err != nil {
				yield(zero, err)
				return
			}
			for i := range page.Data {
				v, err := decode(&page.Data[i])
				if err != nil {
					yield(zero, cl.failure(err))
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			if len(page.Data) == 0 || page.Links.Next == "" {
				return
			}
			next, err := c.nextCall(cl, page.Links.Next, query)
			if err == nil && seen[pageKey(next.url)] {
				err = fmt.Errorf("connect: GET %s: next link returns to a page already listed", cl.path)
			}
			if err != nil {
				yield(zero, err)
				return
			}
			next.into = cl.into
			cl = next
		}
	}
}

// pageDocument is one page of a list, its resources decoded through their wire type W.
type pageDocument[W any] struct {
	Data  []W           `json:"data"`
	Links jsonapi.Links `json:"links"`
}

func (p *pageDocument[W]) decodeBody(body []byte) error { return unmarshalDocument[W](body, p) }

// nextCall builds the call for a links.next value. A link to another origin is refused:
// the request would carry the API key to a host the caller never configured.
func (c *Client) nextCall(prev *call, next string, query url.Values) (*call, error) {
	if onBase, ok := c.personaLink(next); ok {
		next = onBase
	}
	ref, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("connect: GET %s: malformed next link: %w", prev.path, err)
	}
	u := c.base.ResolveReference(ref)
	if !sameOrigin(u, c.base) {
		return nil, fmt.Errorf("connect: GET %s: refusing a next link to another origin (%s://%s)", prev.path, u.Scheme, u.Host)
	}
	if !strings.HasPrefix(u.Path, c.base.Path+"/") {
		return nil, fmt.Errorf("connect: GET %s: refusing a next link outside the base URL", prev.path)
	}
	// Keep the caller's filters and page size when the next link leaves them out: a
	// cursor alone would silently widen the listing.
	q := u.Query()
	for k, v := range query {
		if _, ok := q[k]; !ok && k != "page[after]" && k != "page[before]" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment, u.RawFragment = "", "" // never sent; only pageKey would have seen it
	// The path errors and logs name is the escaped one, as Do's is: the link is
	// Persona's text, and its decoded path may hold a line break (%0A) that would
	// forge a log line through the error of the page it leads to.
	return &call{method: http.MethodGet, url: u, path: strings.TrimPrefix(u.EscapedPath(), c.base.EscapedPath())}, nil
}

// personaRoot is the path of Persona's API root, which its links start with: they are
// relative to its host ("/api/v1/events?page%5Bafter%5D=...").
const personaRoot = "/api/v1"

// personaLink maps such a link onto the base URL's host-relative path, when the base
// URL ends in Persona's root behind a prefix of its own (a proxy's
// "https://egress.internal/persona/api/v1"): the link's root is the base's. ok is false
// for anything else, which is resolved as it stands. With the default base URL the
// mapping changes nothing.
func (c *Client) personaLink(link string) (string, bool) {
	prefix, behind := strings.CutSuffix(c.base.EscapedPath(), personaRoot)
	if !behind || !strings.HasPrefix(link, personaRoot+"/") {
		return "", false
	}
	return prefix + link, true
}

// pageKey names the page a URL asks for, for the cycle check: links that differ only
// in what no server reads as a different page (a fragment, the order of the query, a
// key repeated with the same value, the case of the scheme and host) have one key, so
// a server that decorates the same next link differently still ends the listing.
func pageKey(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteString("://")
	b.WriteString(strings.ToLower(u.Host))
	b.WriteString(u.Path)
	for i, k := range keys {
		vs := slices.Compact(slices.Sorted(slices.Values(q[k])))
		for j, v := range vs {
			if i == 0 && j == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// sameOrigin compares scheme, host and port, with default ports made explicit.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// pageQuery starts a list query with page[size] when set.
func pageQuery(size int) url.Values {
	q := url.Values{}
	if size > 0 {
		q.Set("page[size]", fmt.Sprint(size))
	}
	return q
}

// failedSeq is an iterator that yields one error: List reports bad params this way,
// still before any I/O.
func failedSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
