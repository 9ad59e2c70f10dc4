package connect

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// ConnectionStatus is the state of a connection. Tokens can be created only over an
// active one; the destination accepts a pending connection in Persona's dashboard.
type ConnectionStatus string

// Connection statuses.
const (
	ConnectionPending  ConnectionStatus = "pending"
	ConnectionActive   ConnectionStatus = "active"
	ConnectionInactive ConnectionStatus = "inactive"
)

// Connection is a one-directional data-sharing link from a source organization to a
// destination organization.
type Connection struct {
	ID                        string // cxn_...
	Status                    ConnectionStatus
	SourceOrganizationID      string // org_...
	DestinationOrganizationID string // org_...
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	Creator                   *Ref // user or api-key; nil when absent
}

// connectionWire is persona-openapi/components/schemas/connect-connection.yaml.
type connectionWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Status                    string   `json:"status"`
		SourceOrganizationID      string   `json:"source-organization-id"`
		DestinationOrganizationID string   `json:"destination-organization-id"`
		CreatedAt                 wireTime `json:"created-at"` // see timestamps.go
		UpdatedAt                 wireTime `json:"updated-at"`
	} `json:"attributes"`
	Relationships struct {
		Creator ref `json:"creator"`
	} `json:"relationships"`
}

func (w *connectionWire) decode() (*Connection, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("connect: decode connection: no id")
	}
	a := &w.Attributes
	c := &Connection{
		ID:                        w.ID,
		Status:                    ConnectionStatus(a.Status),
		SourceOrganizationID:      a.SourceOrganizationID,
		DestinationOrganizationID: a.DestinationOrganizationID,
		Creator:                   w.Relationships.Creator.Data,
	}
	err := parseTimes("decode connection", w.ID,
		timeField{name: "created-at", w: &a.CreatedAt, t: &c.CreatedAt},
		timeField{name: "updated-at", w: &a.UpdatedAt, t: &c.UpdatedAt},
	)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CreateConnectionParams are the parameters of ConnectionsService.Create.
type CreateConnectionParams struct {
	DestinationOrganizationID string // org_...: the organization that will receive data
}

// ListConnectionsParams filter ConnectionsService.List; the zero value lists all, both
// the connections the organization created and those where it is the destination.
type ListConnectionsParams struct {
	Status                    ConnectionStatus // one of the known statuses
	DestinationOrganizationID string           // org_...
	PageSize                  int              // 1..100 per request; 0 for the server default
}

func (p *ListConnectionsParams) query() (url.Values, error) {
	if err := validateEnum("Status", p.Status, ConnectionPending, ConnectionActive, ConnectionInactive); err != nil {
		return nil, err
	}
	if err := validateOptionalID("DestinationOrganizationID", p.DestinationOrganizationID, organizationPrefixes); err != nil {
		return nil, err
	}
	if err := validatePageSize(p.PageSize); err != nil {
		return nil, err
	}
	q := pageQuery(p.PageSize)
	setIf(q, "filter[status]", string(p.Status))
	setIf(q, "filter[destination-organization-id]", p.DestinationOrganizationID)
	return q, nil
}

// createConnectionAttributes is the exact request body of
// persona-openapi/paths/connect_connections.yaml (post).
type createConnectionAttributes struct {
	DestinationOrganizationID string `json:"destination-organization-id"`
}

const connectionsPath = "/connect/connections"

var connectionIDs = newIDKind("connection id", connectionPrefixes, connectionsPath)

// List iterates over connections, newest first, fetching pages lazily. params may be
// nil; it is copied. Bad params are yielded as the first and only error. opts apply to
// every page's request (WithResponseInto: the last page fetched).
func (s *ConnectionsService) List(ctx context.Context, params *ListConnectionsParams, opts ...RequestOption) iter.Seq2[*Connection, error] {
	return listResources(ctx, s.c, "Connections.List", connectionsPath, params, opts, (*connectionWire).decode)
}

// Get reads one connection.
func (s *ConnectionsService) Get(ctx context.Context, id string, opts ...RequestOption) (*Connection, error) {
	return s.byID(ctx, "Connections.Get", http.MethodGet, id, "", opts)
}

// Create makes a pending connection from the caller's organization to another one. It
// becomes active when the destination accepts it in Persona's dashboard.
func (s *ConnectionsService) Create(ctx context.Context, params CreateConnectionParams, opts ...RequestOption) (*Connection, error) {
	if err := validateID("DestinationOrganizationID", params.DestinationOrganizationID, organizationPrefixes); err != nil {
		return nil, err
	}
	var body jsonapi.Request[createConnectionAttributes]
	body.Data.Attributes.DestinationOrganizationID = params.DestinationOrganizationID
	ctx = withOperation(ctx, "Connections.Create", connectionsPath)
	return send(ctx, s.c, http.MethodPost, connectionsPath, nil, body, opts, (*connectionWire).decode)
}

// Deactivate stops access through a pending or active connection (either side may).
func (s *ConnectionsService) Deactivate(ctx context.Context, id string, opts ...RequestOption) (*Connection, error) {
	return s.byID(ctx, "Connections.Deactivate", http.MethodPost, id, "/deactivate", opts)
}

// Reactivate returns an inactive connection to pending (source organization only); the
// destination must accept it again.
func (s *ConnectionsService) Reactivate(ctx context.Context, id string, opts ...RequestOption) (*Connection, error) {
	return s.byID(ctx, "Connections.Reactivate", http.MethodPost, id, "/reactivate", opts)
}

// byID runs a bodiless call on connection id as operation name (see sendByID).
func (s *ConnectionsService) byID(ctx context.Context, name, method, id, action string, opts []RequestOption) (*Connection, error) {
	return sendByID(ctx, s.c, connectionIDs, name, method, id, action, nil, nil, opts, (*connectionWire).decode)
}
