package connecttest

import (
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// faultStage is where in the pipeline a fault strikes. The last two strike an answer
// already decided (and stored under its Idempotency-Key) on its way out.
type faultStage int

const (
	noFault     faultStage = iota // the answer is written whole
	faultBefore                   // in front of the idempotency layer: never stored
	faultStored                   // inside it: stored and replayed like any answer
	faultDrop                     // not a byte of the answer: the connection is closed
	faultCut                      // status, headers and half the body, then the connection is closed
)

// fault is an injected failure for the next n matching requests.
type fault struct {
	stage   faultStage
	method  string // "" matches any
	pattern string // path.Match pattern; "" matches any
	left    int
	status  int
}

// FailNext makes the next n requests matching method and pattern answer status with a
// Persona-style error body, before the request reaches the API: nothing is changed and,
// for a POST, nothing is stored under its Idempotency-Key, so a retry runs for real
// (a proxy or load balancer failing). Authentication and rate limiting still apply
// first, and the answer carries the usual headers.
//
// method "" matches any method. pattern is matched with path.Match against the path
// relative to the base URL, e.g. "/connect/share-tokens" or
// "/connect/share-tokens/*/redeem"; "" matches any path.
func (s *Server) FailNext(method, pattern string, n, status int) {
	s.addFault(faultBefore, method, pattern, n, status)
}

// FailNextStored is FailNext from inside the API: for a POST with an Idempotency-Key the
// error answer is stored and replayed to every retry with that key for 24 hours, as
// Persona does with the 5xx answers it produces.
func (s *Server) FailNextStored(method, pattern string, n, status int) {
	s.addFault(faultStored, method, pattern, n, status)
}

// DropAfterCommit makes the next n requests matching method and pattern (as in
// FailNext) run to the end, their effect committed and their answer stored under
// their Idempotency-Key, and then closes the connection without sending a byte of the
// answer: the client sees a network error and cannot know the request succeeded.
func (s *Server) DropAfterCommit(method, pattern string, n int) {
	s.addFault(faultDrop, method, pattern, n, 0)
}

// CutBodyAfterCommit is DropAfterCommit, except that the answer's status and headers,
// with a Content-Length for the whole body, and the first half of the body are sent
// before the connection closes: the client sees a success whose body breaks off
// (io.ErrUnexpectedEOF) and cannot decode what was made. A retry with the same key gets
// the stored answer whole.
func (s *Server) CutBodyAfterCommit(method, pattern string, n int) {
	s.addFault(faultCut, method, pattern, n, 0)
}

// AddLatency delays every later request by d more (real time) before it is handled;
// a negative d takes latency away, never below zero. Close ends the waits.
func (s *Server) AddLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(s.latency+d, 0)
}

func (s *Server) addFault(stage faultStage, method, pattern string, n, status int) {
	if n <= 0 {
		return
	}
	if stage != faultDrop && stage != faultCut && (status < 400 || status > 599) {
		panic("connecttest: an injected status must be 4xx or 5xx")
	}
	if _, err := path.Match(pattern, "/"); err != nil {
		panic("connecttest: bad fault pattern " + pattern + ": " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{stage: stage, method: strings.ToUpper(method), pattern: pattern, left: n, status: status})
}

// takeFaultLocked consumes one use of the oldest fault that strikes at one of stages
// and matches method and rel, and returns it (nil when none does).
func (s *Server) takeFaultLocked(method, rel string, stages ...faultStage) *fault {
	for i, f := range s.faults {
		if !slices.Contains(stages, f.stage) || (f.method != "" && f.method != method) {
			continue
		}
		if f.pattern != "" {
			if m, _ := path.Match(f.pattern, rel); !m {
				continue
			}
		}
		f.left--
		if f.left == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return f
	}
	return nil
}

// answer is the error answer of a FailNext or FailNextStored fault.
func (f *fault) answer() response {
	if f.status == http.StatusUnauthorized {
		return fail(f.status, "") // Persona's 401 carries only a title
	}
	return fail(f.status, "injected by connecttest")
}

// writeAnswer is the one place an answer is written, after the headers handle set: whole,
// not at all (faultDrop) or cut (faultCut).
func writeAnswer(w http.ResponseWriter, resp response, f faultStage) {
	if f == faultDrop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		// Not hijackable (HTTP/2): answer after all.
	}
	if f != faultCut {
		w.WriteHeader(resp.status)
		w.Write(resp.body) //nolint:errcheck // the client may be gone; nothing to do
		return
	}
	// The declared length makes the client notice the missing half: without it,
	// a closed connection would read as the end of a body.
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	w.Write(resp.body[:len(resp.body)/2]) //nolint:errcheck // the client may be gone; nothing to do
	http.NewResponseController(w).Flush() //nolint:errcheck // as for Write
	// net/http closes the connection without writing the rest.
	panic(http.ErrAbortHandler)
}
