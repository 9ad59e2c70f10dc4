package connecttest

import (
	"cmp"
	"net/http"
)

// response is an answer the fake has decided on but not yet written, so that the
// idempotency layer can store it and a dropped connection can withhold it.
type response struct {
	status int
	body   []byte
}

// errorItem is one member of Persona's {"errors": [...]} body.
type errorItem struct {
	Title   string       `json:"title"`
	Details string       `json:"details,omitempty"`
	Source  *errorSource `json:"source,omitempty"` // 422 only
}

// errorSource points at the request member at fault.
type errorSource struct {
	Pointer string `json:"pointer"`
}

// defaultTitle is Persona's title for status (persona-openapi/components/responses/*.yaml),
// which for Bad Request, Forbidden, Conflict and the rest is the status text.
func defaultTitle(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Must be authenticated to access this endpoint"
	case http.StatusNotFound:
		return "Record not found"
	case http.StatusUnprocessableEntity:
		return "Unprocessable entity"
	case http.StatusTooManyRequests:
		return "Rate limit exceeded"
	}
	return cmp.Or(http.StatusText(status), "Error")
}

func ok(status int, v any) response {
	return response{status: status, body: marshal(v)}
}

// failWith answers status with Persona's {"errors": [...]} body.
func failWith(status int, items ...errorItem) response {
	return ok(status, document{Errors: items})
}

// fail answers status with the status's usual title and details ("" for none).
func fail(status int, details string) response {
	return failTitled(status, defaultTitle(status), details)
}

func failTitled(status int, title, details string) response {
	return failWith(status, errorItem{Title: title, Details: details})
}

// pointed is an error item whose source.pointer names the member at fault.
func pointed(title, details, pointer string) errorItem {
	return errorItem{Title: title, Details: details, Source: &errorSource{pointer}}
}

// invalidAt answers 422 with a pointer to the offending member.
func invalidAt(pointer, details string) response {
	return failWith(http.StatusUnprocessableEntity, pointed(defaultTitle(http.StatusUnprocessableEntity), details, pointer))
}
