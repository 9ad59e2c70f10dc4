package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// The partner API is how the examples' two organizations talk besides Persona: the
// source sends the destination each share token id it made, as
// POST /share-tokens {"share_token_id": "cnst_..."} (examples/destination serves it).

// PushShareToken sends id to url, a destination's POST /share-tokens, with hc. The
// answer's body is read and closed: only its status matters, and reading the body lets
// hc reuse the connection.
func PushShareToken(ctx context.Context, hc *http.Client, url, id string) (*http.Response, error) {
	body, err := json.Marshal(map[string]string{"share_token_id": id})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only to reuse the connection
	return resp, nil
}
