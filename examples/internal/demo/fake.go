package demo

import (
	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Fake is connecttest, the in-memory Persona, as the examples' demos and tests start it:
// Acme Bank, the source organization, shares with Beta Lending, the destination, over
// an active connection. Its NewClient acts as either. Close it when done.
type Fake struct {
	*connecttest.Server
	Source, Destination *connecttest.Organization // Acme Bank, Beta Lending
	Connection          string                    // the cxn_ from Source to Destination
}

// NewFake starts a Fake on loopback.
func NewFake(opts ...connecttest.ServerOption) *Fake {
	srv := connecttest.NewServer(opts...)
	f := &Fake{Server: srv, Source: srv.NewOrganization("Acme Bank"), Destination: srv.NewOrganization("Beta Lending")}
	f.Connection = srv.CreateConnection(f.Source, f.Destination)
	return f
}

// Webhook registers a webhook of org at url for events, as an operator does in
// Persona's dashboard, and returns the verifier of its secret, and the secret.
func (f *Fake) Webhook(org *connecttest.Organization, url string, events ...connect.EventName) (*connect.Verifier, string, error) {
	secret := f.AddWebhook(org, url, events...)
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		return nil, "", err
	}
	return v, secret, nil
}
