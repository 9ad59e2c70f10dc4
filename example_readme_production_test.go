package connect_test

// README.md's snippets on response metadata and Client.Do, verbatim (see
// TestREADMESnippetsAreHere).

import (
	"context"
	"encoding/json"
	"log"
	"net/http"

	connect "github.com/persona-connect/connect-go"
)

func readmeResponseMetadata(ctx context.Context, client *connect.Client, id string) error {
	var resp connect.Response
	tok, err := client.ShareTokens.Get(ctx, id, connect.WithResponseInto(&resp))
	if err != nil {
		return err
	}
	log.Printf("%s is %s (request %s, %d of %d requests left)", tok.ID, tok.Status,
		resp.RequestID, resp.RateLimit.Remaining, resp.RateLimit.Limit)
	return nil
}

func readmeDo(ctx context.Context, client *connect.Client, inquiryID string) (json.RawMessage, error) {
	var inquiry json.RawMessage
	err := client.Do(ctx, http.MethodGet, "/inquiries/"+inquiryID, nil, &inquiry,
		connect.WithOperation(connect.Operation{Name: "Inquiries.Get", Route: "/inquiries/{id}"}))
	return inquiry, err
}

// These need a real Persona; this keeps them compiled and used.
var _ = []any{readmeResponseMetadata, readmeDo}
