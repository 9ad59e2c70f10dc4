package connecttest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// listQuery is a list request's filters and page parameters.
type listQuery struct {
	filters     map[string]string // filter key (inside filter[...]) to value
	after       string
	before      string
	size        int
	sizeWasSent bool
}

// parseListQuery reads filter[...] and page[...] from q. Unknown filters or page keys,
// include, a page[size] outside 1..maxPageSize and both cursors at once answer 400.
func parseListQuery(q url.Values, allowedFilters ...string) (listQuery, *response) {
	lq := listQuery{filters: map[string]string{}, size: defaultPageSize}
	bad := func(details string) (listQuery, *response) {
		r := fail(http.StatusBadRequest, details)
		return listQuery{}, &r
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := q.Get(k)
		switch {
		case k == "include":
			return bad("include is not allowed on list endpoints")
		case strings.HasPrefix(k, "filter[") && strings.HasSuffix(k, "]"):
			name := k[len("filter[") : len(k)-1]
			if !contains(allowedFilters, name) {
				return bad(k + " is not a permitted filter")
			}
			lq.filters[name] = v
		case k == "page[after]":
			lq.after = v
		case k == "page[before]":
			lq.before = v
		case k == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPageSize {
				return bad("page[size] must be an integer from 1 to " + strconv.Itoa(maxPageSize))
			}
			lq.size, lq.sizeWasSent = n, true
		case strings.HasPrefix(k, "page["):
			return bad(k + " is not a permitted page parameter")
		}
	}
	if lq.after != "" && lq.before != "" {
		return bad("page[after] and page[before] cannot be used together")
	}
	return lq, nil
}

// listItem is what paginate needs of a listed thing.
type listItem struct {
	id  string
	seq int64
	doc resource
}

// paginate cuts one page out of items (newest first, already filtered), with links to
// the neighbouring pages. cursorSeq resolves a cursor id among everything of the kind
// the caller can see; an unknown cursor answers 400.
func paginate(items []listItem, lq listQuery, cursorSeq func(id string) (int64, bool), path string) (listDocument, *response) {
	sort.Slice(items, func(i, j int) bool { return items[i].seq > items[j].seq })
	var page []listItem
	switch {
	case lq.after != "":
		c, ok := cursorSeq(lq.after)
		if !ok {
			r := fail(http.StatusBadRequest, "page[after] is not an id of this list")
			return listDocument{}, &r
		}
		i := sort.Search(len(items), func(i int) bool { return items[i].seq < c })
		page = items[i:min(i+lq.size, len(items))]
	case lq.before != "":
		c, ok := cursorSeq(lq.before)
		if !ok {
			r := fail(http.StatusBadRequest, "page[before] is not an id of this list")
			return listDocument{}, &r
		}
		j := sort.Search(len(items), func(i int) bool { return items[i].seq <= c })
		page = items[max(j-lq.size, 0):j]
	default:
		page = items[:min(lq.size, len(items))]
	}
	doc := listDocument{Data: []any{}}
	if len(page) > 0 {
		first, last := page[0], page[len(page)-1]
		if items[len(items)-1].seq < last.seq {
			doc.Links.Next = pageLink(path, lq, "page[after]", last.id)
		}
		if items[0].seq > first.seq {
			doc.Links.Prev = pageLink(path, lq, "page[before]", first.id)
		}
	}
	for _, it := range page {
		doc.Data = append(doc.Data, it.doc)
	}
	return doc, nil
}

// pageLink is a relative link like the spec's
// "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_ABC456", keeping the filters (in
// key order) and an explicit page[size].
func pageLink(path string, lq listQuery, cursorKey, id string) *string {
	names := make([]string, 0, len(lq.filters))
	for k := range lq.filters {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, url.QueryEscape("filter["+k+"]")+"="+url.QueryEscape(lq.filters[k]))
	}
	if lq.sizeWasSent {
		parts = append(parts, url.QueryEscape("page[size]")+"="+strconv.Itoa(lq.size))
	}
	parts = append(parts, url.QueryEscape(cursorKey)+"="+url.QueryEscape(id))
	link := apiPrefix + path + "?" + strings.Join(parts, "&")
	return &link
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitList splits a comma-separated filter value, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
