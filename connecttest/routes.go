package connecttest

import (
	"net/http"
	"strings"
)

// handler answers one routed request. It runs under s.mu.
type handler func(s *Server, q *request) response

// routeEntry is one operation: "{}" in pattern matches one path segment, which the
// handler receives in request.params.
type routeEntry struct {
	method, pattern string
	h               handler
}

// routes lists every operation, relative to /api/v1 (a function, not a variable: no
// package-level mutable state).
func routes() []routeEntry {
	return []routeEntry{
		{http.MethodGet, "/connect/share-tokens", (*Server).listShareTokens},
		{http.MethodPost, "/connect/share-tokens", (*Server).createShareToken},
		{http.MethodGet, "/connect/share-tokens/{}", (*Server).getShareToken},
		{http.MethodPost, "/connect/share-tokens/{}/expire", (*Server).expireShareToken},
		{http.MethodPost, "/connect/share-tokens/{}/redeem", (*Server).redeemShareToken},
		{http.MethodGet, "/connect/connections", (*Server).listConnections},
		{http.MethodPost, "/connect/connections", (*Server).createConnection},
		{http.MethodGet, "/connect/connections/{}", (*Server).getConnection},
		{http.MethodPost, "/connect/connections/{}/deactivate", (*Server).deactivateConnection},
		{http.MethodPost, "/connect/connections/{}/reactivate", (*Server).reactivateConnection},
		{http.MethodGet, "/events", (*Server).listEvents},
		{http.MethodGet, "/events/{}", (*Server).getEvent},
		{http.MethodPost, "/webhooks/{}/rotate-secret", (*Server).rotateWebhookSecret},
	}
}

// route finds the handler for method and path (relative to /api/v1). Without one, the
// status says why: 404 for an unknown path, 405 for a known path and another method.
func route(method, path string) (handler, []string, int) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	status := http.StatusNotFound
	for _, rt := range routes() {
		params, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method != method {
			status = http.StatusMethodNotAllowed
			continue
		}
		return rt.h, params, 0
	}
	return nil, nil, status
}

func matchPattern(pattern string, segs []string) ([]string, bool) {
	want := strings.Split(strings.Trim(pattern, "/"), "/")
	if len(want) != len(segs) {
		return nil, false
	}
	var params []string
	for i, w := range want {
		switch {
		case w == "{}" && segs[i] != "":
			params = append(params, segs[i])
		case w != segs[i]:
			return nil, false
		}
	}
	return params, true
}
