package connecttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"time"
)

// idempotencyStore keeps one organization's answers to POSTs that carried an
// Idempotency-Key, by key, so that a retry gets the first answer instead of a second
// effect.
type idempotencyStore map[string]*idempotentAnswer

// idempotentAnswer is a stored answer and what it answered.
type idempotentAnswer struct {
	method, path string
	bodySum      [32]byte
	storedAt     time.Time
	resp         response
}

// do replays the answer stored for key, refuses a key reused for another request, or
// runs the request and stores its answer, whatever its status (Persona stores 5xx
// answers too). Answers older than idempotencyTTL are forgotten.
func (st idempotencyStore) do(now time.Time, key, method, path string, body []byte, run func() response) response {
	maps.DeleteFunc(st, func(_ string, e *idempotentAnswer) bool {
		return !now.Before(e.storedAt.Add(idempotencyTTL))
	})
	sum := canonicalSum(body)
	if e, ok := st[key]; ok {
		if e.method != method || e.path != path || e.bodySum != sum {
			return failTitled(statusIdempotencyMismatch, "Idempotency key reused",
				"Idempotency-Key was already used for a request with another method, path or body; use a new key for a new request")
		}
		return e.resp
	}
	resp := run()
	st[key] = &idempotentAnswer{method: method, path: path, bodySum: sum, storedAt: now, resp: resp}
	return resp
}

// canonicalSum hashes a body as JSON, so that key order and spacing do not make two
// equal requests differ; a body that is not one JSON value (data after it included)
// is hashed as bytes.
func canonicalSum(body []byte) [32]byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return sha256.Sum256(nil)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil {
		if _, next := dec.Token(); errors.Is(next, io.EOF) {
			// encoding/json writes map keys sorted: a canonical form.
			if canon, err := json.Marshal(v); err == nil {
				return sha256.Sum256(canon)
			}
		}
	}
	return sha256.Sum256(body)
}
