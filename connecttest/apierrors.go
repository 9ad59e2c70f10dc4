package connecttest

import "net/http"

// response is an answer the fake has decided on but not yet written, so that the
// idempotency layer can store it and a dropped connection can withhold it.
type response struct {
	status int
	body   []byte
}

// errorItem is one member of Persona's {"errors": [...]} body.
type errorItem struct {
	title   string
	details string // omitted when empty
	pointer string // source.pointer, omitted when empty (422 only)
}

// defaultTitle is the title Persona uses for status (persona-openapi/components/responses/*.yaml).
func defaultTitle(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Must be authenticated to access this endpoint"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "Record not found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusUnprocessableEntity:
		return "Unprocessable entity"
	case http.StatusTooManyRequests:
		return "Rate limit exceeded"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// errorBody encodes items as {"errors": [...]}.
func errorBody(items ...errorItem) []byte {
	list := make([]object, 0, len(items))
	for _, it := range items {
		o := object{{"title", it.title}}
		if it.details != "" {
			o = append(o, member{"details", it.details})
		}
		if it.pointer != "" {
			o = append(o, member{"source", object{{"pointer", it.pointer}}})
		}
		list = append(list, o)
	}
	return marshal(object{{"errors", list}})
}

// fail answers status with the status's usual title and details.
func fail(status int, details string) response {
	return response{status: status, body: errorBody(errorItem{title: defaultTitle(status), details: details})}
}

// failTitled answers status with a specific title.
func failTitled(status int, title, details string) response {
	return response{status: status, body: errorBody(errorItem{title: title, details: details})}
}

// invalidAt answers 422 with a pointer to the offending member.
func invalidAt(pointer, details string) response {
	return response{status: http.StatusUnprocessableEntity, body: errorBody(errorItem{
		title: defaultTitle(http.StatusUnprocessableEntity), details: details, pointer: pointer,
	})}
}

// ok encodes a 2xx answer.
func ok(status int, doc object) response {
	return response{status: status, body: marshal(doc)}
}
