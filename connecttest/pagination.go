package connecttest

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// listQuery is a list request's filters and page parameters.
type listQuery struct {
	filters map[string]string // filter key (inside filter[...]) to value
	after   string
	before  string
	size    int // page[size]; 0 when not sent, for defaultPageSize
}

// parseListQuery reads filter[...] and page[...] from q, or returns the 400 of a query
// policy.go refuses. allowed maps each filter of the list to the values it takes (nil:
// any).
func parseListQuery(q url.Values, allowed map[string][]string) (listQuery, *response) {
	lq := listQuery{filters: map[string]string{}}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		v := q.Get(k)
		name, isFilter := strings.CutPrefix(k, "filter[")
		name, closed := strings.CutSuffix(name, "]")
		values, known := allowed[name]
		switch {
		case k == "include":
			return lq, badRequest("include is not allowed on list endpoints")
		case isFilter && closed && !known:
			return lq, badRequest(k + " is not a permitted filter")
		case isFilter && closed && values != nil && !slices.Contains(values, v):
			if len(values) == 2 {
				return lq, badRequest(k + " must be " + values[0] + " or " + values[1])
			}
			return lq, badRequest(k + " must be one of " + strings.Join(values, ", "))
		case isFilter && closed:
			lq.filters[name] = v
		case k == "page[after]":
			lq.after = v
		case k == "page[before]":
			lq.before = v
		case k == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPageSize {
				return lq, badRequest("page[size] must be an integer from 1 to " + strconv.Itoa(maxPageSize))
			}
			lq.size = n
		case strings.HasPrefix(k, "page["):
			return lq, badRequest(k + " is not a permitted page parameter")
		}
	}
	if lq.after != "" && lq.before != "" {
		return lq, badRequest("page[after] and page[before] cannot be used together")
	}
	return lq, nil
}

// is reports whether filter[name] keeps a thing whose value is v: it is absent, or v.
func (lq listQuery) is(name, v string) bool {
	want, ok := lq.filters[name]
	return !ok || want == v
}

// anyOf is is for a filter that takes a comma-separated list: v is one of its entries,
// or the list is empty.
func (lq listQuery) anyOf(name, v string) bool {
	var list []string
	for _, p := range strings.Split(lq.filters[name], ",") {
		if p = strings.TrimSpace(p); p != "" {
			list = append(list, p)
		}
	}
	return len(list) == 0 || slices.Contains(list, v)
}

// listItem is one thing of the listed kind that the caller can see; match says whether
// the filters keep it. Any of them may be a cursor, also one the filters drop.
type listItem struct {
	seq   int64
	match bool
	doc   resource
}

// listVisible answers a list request of q: the things of all that the caller can see,
// looked up by visible as found looks up one, each made a listItem by item under the
// filters allowed takes (parseListQuery), and paged.
func listVisible[T any](s *Server, q *request, all map[string]*T, visible func(*Server, *request, string) *T,
	allowed map[string][]string, item func(lq listQuery, it *T) listItem) response {
	lq, bad := parseListQuery(q.URL.Query(), allowed)
	if bad != nil {
		return *bad
	}
	var items []listItem
	for id := range all {
		if it := visible(s, q, id); it != nil {
			items = append(items, item(lq, it))
		}
	}
	return lq.page(items, q.URL.Path)
}

// page answers the list: the page of matching items (newest first) that lq asks for,
// with links to the neighbouring pages of path (/api/v1 included). An unknown cursor
// answers 400.
func (lq listQuery) page(items []listItem, path string) response {
	seqOf := map[string]int64{}
	for _, it := range items {
		seqOf[it.doc.ID] = it.seq
	}
	items = slices.DeleteFunc(items, func(it listItem) bool { return !it.match })
	slices.SortFunc(items, func(a, b listItem) int { return cmp.Compare(b.seq, a.seq) })
	cursor, key := lq.after, "page[after]"
	if lq.before != "" {
		cursor, key = lq.before, "page[before]"
	}
	c, known := seqOf[cursor]
	size := cmp.Or(lq.size, defaultPageSize)
	var page []listItem
	switch {
	case cursor == "":
		page = items[:min(size, len(items))]
	case !known:
		return fail(http.StatusBadRequest, key+" is not an id of this list")
	case lq.after != "":
		i := sort.Search(len(items), func(i int) bool { return items[i].seq < c })
		page = items[i:min(i+size, len(items))]
	default:
		j := sort.Search(len(items), func(i int) bool { return items[i].seq <= c })
		page = items[max(j-size, 0):j]
	}
	var links pageLinks
	if len(page) > 0 {
		first, last := page[0], page[len(page)-1]
		if items[len(items)-1].seq < last.seq {
			links.Next = lq.link(path, "page[after]", last.doc.ID)
		}
		if items[0].seq > first.seq {
			links.Prev = lq.link(path, "page[before]", first.doc.ID)
		}
	}
	data := []resource{}
	for _, it := range page {
		data = append(data, it.doc)
	}
	return ok(http.StatusOK, document{Data: data, Links: &links})
}

// link is a relative link like the spec's
// "/api/v1/connect/share-tokens?page%5Bafter%5D=cnst_ABC456", keeping the filters (in
// key order) and an explicit page[size].
func (lq listQuery) link(path, cursorKey, id string) *string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(lq.filters)) {
		parts = append(parts, url.QueryEscape("filter["+k+"]")+"="+url.QueryEscape(lq.filters[k]))
	}
	if lq.size != 0 {
		parts = append(parts, url.QueryEscape("page[size]")+"="+strconv.Itoa(lq.size))
	}
	parts = append(parts, url.QueryEscape(cursorKey)+"="+url.QueryEscape(id))
	link := path + "?" + strings.Join(parts, "&")
	return &link
}
