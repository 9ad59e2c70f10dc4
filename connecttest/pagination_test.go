package connecttest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/persona-connect/connect-go/connecttest"
)

// ids lists the ids of a list answer's data.
func ids(r rawResp) []string {
	var out []string
	for i := range asList(r.get("data")) {
		out = append(out, r.str("data", i, "id"))
	}
	return out
}

func TestPaginationWithFiltersOverThreePages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRateLimit(1000, time.Minute))
	otherCxn := w.srv.CreateConnection(w.src, w.srv.NewOrganization("Other"))
	var want []string // created tokens over w.cxn, newest first
	for i := 0; i < 23; i++ {
		id := w.create(t)
		want = append([]string{id}, want...)
		// Noise the filters must drop: another connection, and an expired token.
		w.s.do("POST", "/connect/share-tokens", createBody(otherCxn, w.inq)).must(t, 201)
		if i%5 == 0 {
			w.s.do("POST", "/connect/share-tokens/"+w.create(t)+"/expire", "").must(t, 200)
		}
	}
	q := "?filter%5Bconnection-id%5D=" + w.cxn + "&filter%5Bstatus%5D=created&page%5Bsize%5D=10"
	r := w.s.do("GET", "/connect/share-tokens"+q, "").must(t, 200)
	var got []string
	var pages []rawResp
	for {
		pages = append(pages, r)
		got = append(got, ids(r)...)
		next, _ := r.get("links", "next").(string)
		if next == "" {
			break
		}
		last := ids(r)[len(ids(r))-1]
		wantLink := "/api/v1/connect/share-tokens?filter%5Bconnection-id%5D=" + w.cxn + "&filter%5Bstatus%5D=created&page%5Bsize%5D=10&page%5Bafter%5D=" + last
		if next != wantLink {
			t.Fatalf("next link\n got %s\nwant %s", next, wantLink)
		}
		r = w.s.do("GET", strings.TrimPrefix(next, "/api/v1"), "").must(t, 200)
	}
	if len(pages) != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages, ids %v, want 3 pages of %v", len(pages), got, want)
	}
	if pages[0].get("links", "prev") != nil {
		t.Errorf("first page has a prev link: %v", pages[0].get("links", "prev"))
	}
	// The prev link of page 3 gives page 2 back.
	prev := pages[2].str("links", "prev")
	if !strings.Contains(prev, "page%5Bbefore%5D="+ids(pages[2])[0]) {
		t.Fatalf("prev link %s", prev)
	}
	back := w.s.do("GET", strings.TrimPrefix(prev, "/api/v1"), "").must(t, 200)
	if strings.Join(ids(back), ",") != strings.Join(ids(pages[1]), ",") {
		t.Errorf("prev page %v, want %v", ids(back), ids(pages[1]))
	}
	// Default page size is 10; direction filters.
	if n := len(ids(w.s.do("GET", "/connect/share-tokens", "").must(t, 200))); n != 10 {
		t.Errorf("default page size %d", n)
	}
	if n := len(ids(w.d.do("GET", "/connect/share-tokens?filter%5Bdirection%5D=outbound", "").must(t, 200))); n != 0 {
		t.Errorf("destination lists %d outbound tokens", n)
	}
	if first := w.d.do("GET", "/connect/share-tokens?filter%5Bdirection%5D=inbound&page%5Bsize%5D=1", "").must(t, 200); first.str("data", 0, "attributes", "direction") != "inbound" {
		t.Errorf("inbound filter: %s", first.body)
	}
}

func TestListParametersAreChecked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.create(t)
	for _, q := range []string{
		"page[size]=0", "page[size]=101", "page[size]=ten", "page[after]=cnst_unknown",
		"page[after]=a&page[before]=b", "filter[colour]=red", "filter[status]=lost",
		"filter[direction]=sideways", "include=source", "page[number]=2",
	} {
		v, _ := url.ParseQuery(q)
		w.s.do("GET", "/connect/share-tokens?"+v.Encode(), "").must(t, 400)
	}
	for _, q := range []string{"page[size]=1", "page[size]=100"} {
		v, _ := url.ParseQuery(q)
		w.s.do("GET", "/connect/share-tokens?"+v.Encode(), "").must(t, 200)
	}
	w.s.do("GET", "/connect/connections?filter%5Bconnection-id%5D=x", "").must(t, 400)
	w.s.do("GET", "/events?filter%5Bstatus%5D=x", "").must(t, 400)
}

func TestEventFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(0))
	a, b := w.create(t), w.create(t)
	w.d.do("POST", "/connect/share-tokens/"+a+"/redeem", "").must(t, 202)
	waitStatus(t, w.d, a, "redeemed")
	all := w.d.do("GET", "/events", "").must(t, 200)
	if n := len(ids(all)); n != 3 {
		t.Fatalf("destination has %d events, want 3: %s", n, all.body)
	}
	names := func(r rawResp) string {
		var out []string
		for i := range asList(r.get("data")) {
			out = append(out, r.str("data", i, "attributes", "name"))
		}
		return strings.Join(out, ",")
	}
	if got := names(all); got != "connect/share-token.inbound-redeemed,connect/share-token.inbound-created,connect/share-token.inbound-created" {
		t.Errorf("events newest first: %s", got)
	}
	byName := w.d.do("GET", "/events?filter%5Bname%5D=connect%2Fshare-token.inbound-redeemed%2Cinquiry.completed", "").must(t, 200)
	if got := names(byName); got != "connect/share-token.inbound-redeemed" {
		t.Errorf("filter[name]: %s", got)
	}
	byObject := w.d.do("GET", "/events?filter%5Bobject-id%5D="+b, "").must(t, 200)
	if len(ids(byObject)) != 1 || byObject.str("data", 0, "attributes", "payload", "data", "id") != b {
		t.Errorf("filter[object-id]: %s", byObject.body)
	}
	two := ids(all)[0] + "," + ids(all)[2]
	if got := ids(w.d.do("GET", "/events?filter%5Bid%5D="+url.QueryEscape(two), "").must(t, 200)); strings.Join(got, ",") != two {
		t.Errorf("filter[id]: %v", got)
	}
	// Paging keeps the filter in the next link.
	p := w.d.do("GET", "/events?filter%5Bobject-id%5D="+a+"&page%5Bsize%5D=1", "").must(t, 200)
	if next := p.str("links", "next"); next != "/api/v1/events?filter%5Bobject-id%5D="+a+"&page%5Bsize%5D=1&page%5Bafter%5D="+ids(p)[0] {
		t.Errorf("events next link %s", next)
	}
	// The source sees only its own two outbound-created and one outbound-redeemed.
	if got := names(w.s.do("GET", "/events", "").must(t, 200)); got != "connect/share-token.outbound-redeemed,connect/share-token.outbound-created,connect/share-token.outbound-created" {
		t.Errorf("source events: %s", got)
	}
}
