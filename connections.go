package connect

import "time"

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
