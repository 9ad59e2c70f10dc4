package connecttest

import (
	"slices"
	"strings"
	"time"
)

// objectKind is what kind of object a source or destination is.
type objectKind int

const (
	kindInquiry objectKind = iota + 1
	kindAccount
	kindTransaction
	kindVerification
)

// kindInfo is what Connect may do with a kind of object
// (persona-openapi/paths/connect_share-tokens_{share-token-id}_redeem.yaml).
type kindInfo struct {
	name      string // for error texts: "inquiry", "account", ...
	prefix    string // id prefix
	typ       string // JSON:API type in relationships; source-data's is connect/source-data/<typ>
	cloneable bool   // a share token over it may be redeemed by cloning
	hydrates  bool   // a share token over it may hydrate, and it may be hydrated
	status    string // the status a peek shows
}

func (k objectKind) info() kindInfo {
	return [...]kindInfo{
		kindInquiry:      {"inquiry", "inq_", "inquiry", true, true, "completed"},
		kindAccount:      {"account", "act_", "account", false, true, "active"},
		kindTransaction:  {"transaction", "txn_", "txn", false, true, "approved"},
		kindVerification: {"verification", "ver_", "verification/database", true, false, "passed"},
	}[k]
}

// isSourceID reports whether id's prefix names a kind of object a share token shares.
func isSourceID(id string) bool {
	return slices.ContainsFunc([]objectKind{kindInquiry, kindAccount, kindTransaction, kindVerification},
		func(k objectKind) bool { return strings.HasPrefix(id, k.info().prefix) })
}

// field is one user-space field of an object.
type field struct {
	name     string // snake_case, as field mappings name fields
	value    any
	presence bool // a peek shows only whether it is set
}

// sampleFields are the fields a setup method gives a new object.
func (k objectKind) sampleFields() []field {
	switch k {
	case kindInquiry, kindAccount:
		return []field{
			{name: "name_first", value: "Alexander"},
			{name: "name_last", value: "Sample"},
			{name: "birthdate", value: "1977-07-17", presence: true},
			{name: "address_street_1", value: "123 Main St", presence: true},
		}
	case kindTransaction:
		return []field{{name: "amount", value: "100.00"}, {name: "currency", value: "USD"}}
	}
	return nil // verifications have no user-space fields
}

// sourceObject is an Inquiry, Account, Transaction or Verification.
type sourceObject struct {
	id        string
	kind      objectKind
	org       *org
	fields    []field
	redacted  bool
	deleted   bool
	createdAt time.Time // when the setup method or the clone made it
}

func (s *Server) newObjectLocked(o *org, k objectKind, fields []field) *sourceObject {
	obj := &sourceObject{id: newID(k.info().prefix), kind: k, org: o, fields: fields, createdAt: s.nowLocked()}
	s.objects[obj.id] = obj
	return obj
}

// visibleObjectLocked returns the live object id of o, or nil.
func (s *Server) visibleObjectLocked(o *org, id string) *sourceObject {
	if obj := s.objects[id]; obj != nil && obj.org == o && !obj.deleted {
		return obj
	}
	return nil
}

func (obj *sourceObject) setField(name string, value any, presence bool) {
	if i := slices.IndexFunc(obj.fields, func(f field) bool { return f.name == name }); i >= 0 {
		obj.fields[i].value = value
		return
	}
	obj.fields = append(obj.fields, field{name: name, value: value, presence: presence})
}

// inquiryView is an inquiry as Persona serializes it in an event payload: completed,
// with created-at = started-at = completed-at (the fake's inquiries are created
// completed; the timestamps of other states are null) and the fields bag of {type,
// value} entries. Persona also sends relationships (account, template...); the fake has
// none of those objects, so it sends none.
func (obj *sourceObject) inquiryView() resource {
	fields := map[string]inquiryField{}
	for _, f := range obj.fields {
		typ := "string"
		if f.name == "birthdate" {
			typ = "date"
		}
		fields[strings.ReplaceAll(f.name, "_", "-")] = inquiryField{Type: typ, Value: f.value}
	}
	at := timestamp(obj.createdAt)
	return resource{Type: kindInquiry.info().typ, ID: obj.id, Attributes: inquiryAttributes{
		Status: "completed", Tags: []string{}, CreatedAt: at, StartedAt: at, CompletedAt: at, Fields: fields,
	}}
}

// inquiryAttributes are the attributes of an inquiry in an event payload; the nil ones
// are null.
type inquiryAttributes struct {
	Status       string                  `json:"status"`
	ReferenceID  *string                 `json:"reference-id"`
	Note         *string                 `json:"note"`
	Tags         []string                `json:"tags"`
	CreatedAt    string                  `json:"created-at"`
	StartedAt    string                  `json:"started-at"`
	CompletedAt  string                  `json:"completed-at"`
	FailedAt     *string                 `json:"failed-at"`
	DecisionedAt *string                 `json:"decisioned-at"`
	ExpiredAt    *string                 `json:"expired-at"`
	RedactedAt   *string                 `json:"redacted-at"`
	Fields       map[string]inquiryField `json:"fields"`
}

// inquiryField is one entry of an inquiry's fields bag.
type inquiryField struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}
