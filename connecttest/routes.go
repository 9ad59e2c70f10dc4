package connecttest

import (
	"net/http"
	"path"
	"strings"
)

// handler answers one operation. It runs under s.mu.
type handler func(s *Server, q *request) response

// found is the handler of an operation on the thing the path's {id} names: visible
// looks it up as the caller may see it, and an id the caller cannot see answers 404,
// exactly like one that does not exist (policy.go), before h runs.
func found[T any](visible func(s *Server, q *request, id string) *T, h func(s *Server, q *request, it *T) response) handler {
	return func(s *Server, q *request) response {
		it := visible(s, q, q.PathValue("id"))
		if it == nil {
			return fail(http.StatusNotFound, "")
		}
		return h(s, q, it)
	}
}

// routes serves every operation of the spec at its http.ServeMux pattern under
// /api/v1 (wildcards read with PathValue). Every other request gets Persona's JSON
// error body, where ServeMux's own 404, 405 and redirects would be plain text: 405 for
// an operation's path with another method (the same path without a method, and HEAD,
// which a GET pattern also takes), 404 for anything else.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	paths := map[string]bool{}
	for pattern, h := range map[string]handler{
		"GET /connect/share-tokens":                 (*Server).listShareTokens,
		"POST /connect/share-tokens":                (*Server).createShareToken,
		"GET /connect/share-tokens/{id}":            found((*Server).visibleTokenLocked, (*Server).getShareToken),
		"POST /connect/share-tokens/{id}/expire":    found((*Server).visibleTokenLocked, (*Server).expireShareToken),
		"POST /connect/share-tokens/{id}/redeem":    found((*Server).visibleTokenLocked, (*Server).redeemShareToken),
		"GET /connect/connections":                  (*Server).listConnections,
		"POST /connect/connections":                 (*Server).createConnection,
		"GET /connect/connections/{id}":             found((*Server).visibleConnectionLocked, (*Server).getConnection),
		"POST /connect/connections/{id}/deactivate": found((*Server).visibleConnectionLocked, (*Server).deactivateConnection),
		"POST /connect/connections/{id}/reactivate": found((*Server).visibleConnectionLocked, (*Server).reactivateConnection),
		"GET /events":                       (*Server).listEvents,
		"GET /events/{id}":                  found((*Server).visibleEventLocked, (*Server).getEvent),
		"POST /webhooks/{id}/rotate-secret": found((*Server).visibleWebhookLocked, (*Server).rotateWebhookSecret),
	} {
		method, p, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+apiPrefix+p, s.serve(method, h))
		paths[p] = true
	}
	for p := range paths {
		mux.Handle(apiPrefix+p, s.serve("", nil))
	}
	mux.Handle("/", s.serve("", nil))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A trailing slash names the same path, as in Persona's (Rails) routes.
		if trimmed := strings.TrimRight(r.URL.Path, "/"); trimmed != "" && trimmed != r.URL.Path {
			r.URL.Path, r.URL.RawPath = trimmed, strings.TrimRight(r.URL.RawPath, "/")
		}
		if path.Clean(r.URL.Path) != r.URL.Path {
			s.serve("", nil).ServeHTTP(w, r) // 404, where ServeMux would redirect to the clean path
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// unrouted answers a request that no operation takes.
func unrouted(r *http.Request) response {
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		return fail(http.StatusNotFound, "no such path: "+r.URL.Path)
	}
	status := http.StatusMethodNotAllowed // the path of an operation
	if r.Pattern == "" || r.Pattern == "/" {
		status = http.StatusNotFound
	}
	return fail(status, "no route for "+r.Method+" "+r.URL.Path)
}
