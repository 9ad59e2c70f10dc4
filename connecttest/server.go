package connecttest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// apiPrefix is the path of the base URL; links in list bodies start with it.
const apiPrefix = "/api/v1"

// Server is an in-memory Persona Connect listening on 127.0.0.1. Make one with
// NewServer and stop it with Close. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to pass to connect.WithBaseURL: "http://127.0.0.1:<port>/api/v1".
	URL string

	*core // behind a pointer: a Server may be copied (the contract does), its lock not
}

// core is the server's state and machinery.
type core struct {
	cfg  config
	hs   *httptest.Server
	hook *http.Client // delivers webhooks; its idle connections close with the server

	ctx    context.Context // cancelled by Close, under mu: ends every wait and delivery
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server started besides httptest's

	mu          sync.Mutex // guards everything below
	clockOffset time.Duration
	seq         int64 // creation order of every object, for newest-first lists
	orgs        map[string]*org
	orgsByKey   map[string]*org
	objects     map[string]*sourceObject
	conns       map[string]*connection
	tokens      map[string]*shareToken
	events      map[string]*event
	webhooks    map[string]*webhook
	deliveries  []Delivery
	faults      []*fault
	latency     time.Duration
}

// NewServer starts a fake Persona Connect on a loopback port, or on the caller's
// listener (WithListener). Invalid options panic, naming the option. Close it when done.
func NewServer(opts ...ServerOption) *Server {
	cfg := config{
		clock:             time.Now,
		redeemDelay:       defaultRedeemDelay,
		webhookRetryDelay: defaultWebhookRetryDelay,
		webhookTimeout:    defaultWebhookTimeout,
		rateLimit:         defaultRateLimit,
		rateWindow:        defaultRateWindow,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if len(cfg.problems) > 0 {
		panic("connecttest: " + strings.Join(cfg.problems, "; "))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{core: &core{
		cfg:       cfg,
		ctx:       ctx,
		cancel:    cancel,
		orgs:      map[string]*org{},
		orgsByKey: map[string]*org{},
		objects:   map[string]*sourceObject{},
		conns:     map[string]*connection{},
		tokens:    map[string]*shareToken{},
		events:    map[string]*event{},
		webhooks:  map[string]*webhook{},
		hook: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 4},
			// A delivery's answer is the redirect itself: Persona does not follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}}
	s.hs = httptest.NewUnstartedServer(s.routes())
	if l := cfg.listener; l != nil {
		s.hs.Listener.Close() // the loopback listener httptest opened, unused
		s.hs.Listener = l
	}
	s.hs.Start()
	s.URL = s.hs.URL + apiPrefix
	return s
}

// Close stops the server: it refuses new connections, ends pending redemptions,
// webhook deliveries and injected latency, waits for every goroutine it started and
// for in-flight requests to finish. Calling it again does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	if s.ctx.Err() != nil { // closed already
		s.mu.Unlock()
		return
	}
	s.cancel()
	s.mu.Unlock()
	s.hs.Close()
	s.wg.Wait()
	s.hook.CloseIdleConnections()
}

// goLocked runs f in a goroutine that Close waits for, unless the server is closed.
// f must return soon after s.ctx is done. Callers hold s.mu.
func (s *Server) goLocked(f func()) {
	if s.ctx.Err() != nil { // closed
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// sleep waits d of real time; it reports false when the server closed or ctx ended
// first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil && s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	return false
}

// request is one API call as the handlers see it.
type request struct {
	*http.Request
	org  *org
	now  time.Time
	body []byte
}

// serve is the pipeline of every request: the injected latency, the body, handle's
// answer (under the lock), and writeAnswer, which writes it whole or, for a fault, drops
// it or cuts it short.
func (s *Server) serve(method string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		latency := s.latency
		s.mu.Unlock()
		if !s.sleep(r.Context(), latency) {
			// Closed (or the client left) during the latency: drop the connection. A
			// plain return would make net/http answer an empty 200, which a client
			// would take for a success with a broken body.
			panic(http.ErrAbortHandler)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			panic(http.ErrAbortHandler) // the client went away mid-body: nothing to answer
		}
		resp, f := s.handle(w.Header(), r, body, method, h)
		if to, ok := parseInflection(r.Header.Get("Key-Inflection")); ok && to != "" && len(resp.body) > 0 {
			resp.body = to.rekey(resp.body) // policy.go: Key-Inflection
		}
		writeAnswer(w, resp, f)
	}
}

// handle decides the answer to one request and sets its headers in hdr: authentication,
// rate limit, then h's answer with its faults and idempotency if the request is method's
// operation, else unrouted's 404 or 405. It holds s.mu throughout, so requests apply one
// at a time, as if each were a single database transaction.
func (s *Server) handle(hdr http.Header, r *http.Request, body []byte, method string, h handler) (response, faultStage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hdr.Set("Content-Type", "application/json")
	o := s.authenticateLocked(r)
	if o == nil {
		return fail(http.StatusUnauthorized, ""), noFault
	}
	now := s.nowLocked()
	hdr.Set("Request-Id", newID("req_"))
	hdr.Set("Persona-Environment-Id", o.envID)
	hdr.Set("Persona-Organization-Id", o.pub.ID)
	if limited := o.rate.take(now, s.cfg.rateLimit, s.cfg.rateWindow, hdr); limited {
		return fail(http.StatusTooManyRequests, rateLimitDetails(s.cfg.rateLimit, s.cfg.rateWindow)), noFault
	}
	if len(body) > maxRequestBody {
		return fail(http.StatusBadRequest, "request body is larger than 1 MiB"), noFault
	}
	if _, ok := parseInflection(r.Header.Get("Key-Inflection")); !ok {
		return fail(http.StatusBadRequest, "Key-Inflection must be camel, kebab or snake"), noFault
	}
	// Persona accepts request keys in any of the three inflections (policy.go): the
	// handlers, and the idempotency check, see them in kebab case.
	body = jsonapi.KebabKeys(body)
	if h == nil || r.Method != method { // HEAD, which a GET pattern also takes
		return unrouted(r), noFault
	}
	rel := strings.TrimPrefix(r.URL.Path, apiPrefix)
	if f := s.takeFaultLocked(r.Method, rel, faultBefore); f != nil {
		return f.answer(), noFault
	}
	q := &request{Request: r, org: o, now: now, body: body}
	run := func() response {
		if f := s.takeFaultLocked(r.Method, rel, faultStored); f != nil {
			return f.answer()
		}
		return h(s, q)
	}
	var resp response
	if key := r.Header.Get("Idempotency-Key"); key != "" && r.Method == http.MethodPost {
		resp = o.idem.do(now, key, r.Method, r.URL.Path, body, run)
	} else {
		resp = run()
	}
	if f := s.takeFaultLocked(r.Method, rel, faultDrop, faultCut); f != nil {
		return resp, f.stage
	}
	return resp, noFault
}

func (s *Server) authenticateLocked(r *http.Request) *org {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	return s.orgsByKey[key]
}
