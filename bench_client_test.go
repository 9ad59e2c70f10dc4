package connect_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-cleanhttp"

	connect "github.com/persona-connect/connect-go"
)

// benchShareToken is the spec's connect-share-token.yaml example as JSON.
const benchShareToken = `{"data":{"type":"connect/share-token","id":"cnst_ABC123","attributes":{"status":"created","direction":"outbound","created-at":"2023-08-17T23:18:13.000Z","updated-at":"2023-08-17T23:18:13.000Z","pending-at":null,"redeemed-at":null,"expires-at":null,"failed-at":null,"failure-reason":null,"redeem-mode":null},"relationships":{"creator":{"data":{"type":"user","id":"user_ABC123"}},"source":{"data":{"type":"inquiry","id":"inq_ABC123"}},"connection":{"data":{"type":"connect/connection","id":"cxn_ABC123"}}}}}`

// TestBenchShareTokenIsTheSpecExample proves benchShareToken, kept as a constant so that
// the benchmarks run without the spec and always decode the same bytes, equals its
// YAML source.
func TestBenchShareTokenIsTheSpecExample(t *testing.T) {
	t.Parallel()
	var copied, spec any
	if err := json.Unmarshal([]byte(benchShareToken), &copied); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(specFixture(t, "connect-share-token.json"), &spec); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(spec, copied); diff != "" {
		t.Errorf("benchShareToken differs from the spec (-spec +copy):\n%s", diff)
	}
}

// The benchmarks run over real HTTP on loopback, as a client in production does, and
// compare with a hand-written client over the same transport (BENCHMARKS.md); the
// unit tests run on httpmock instead.

// benchServer answers every request with benchShareToken.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_bench")
		_, _ = io.WriteString(w, benchShareToken)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkShareTokensGet measures one Get over loopback through the SDK.
func BenchmarkShareTokensGet(b *testing.B) {
	c := benchClient(b, benchServer(b), connect.WithHTTPClient(cleanhttp.DefaultPooledClient()))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok, err := c.ShareTokens.Get(ctx, "cnst_ABC123")
		if err != nil || tok.Status != connect.ShareTokenCreated {
			b.Fatal(tok, err)
		}
	}
}

// benchClient is a client of srv; opts come after the base URL.
func benchClient(b *testing.B, srv *httptest.Server, opts ...connect.Option) *connect.Client {
	b.Helper()
	c, err := connect.New("key_bench", append([]connect.Option{connect.WithBaseURL(srv.URL + "/api/v1")}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkHandWrittenGet is the baseline for BenchmarkShareTokensGet: the same request,
// headers and transport, decoded with encoding/json into a struct with the same fields,
// written by hand with no SDK.
func BenchmarkHandWrittenGet(b *testing.B) {
	srv := benchServer(b)
	hc := cleanhttp.DefaultPooledClient()
	url := srv.URL + "/api/v1/connect/share-tokens/cnst_ABC123"
	ctx := context.Background()
	type ref struct {
		Data *struct{ Type, ID string } `json:"data"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer key_bench")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Persona-Version", connect.DefaultAPIVersion)
		req.Header.Set("Key-Inflection", "kebab")
		req.Header.Set("User-Agent", "hand-written")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var doc struct {
			Data struct {
				Type       string `json:"type"`
				ID         string `json:"id"`
				Attributes struct {
					Status        string     `json:"status"`
					Direction     string     `json:"direction"`
					CreatedAt     time.Time  `json:"created-at"`
					UpdatedAt     time.Time  `json:"updated-at"`
					PendingAt     *time.Time `json:"pending-at"`
					RedeemedAt    *time.Time `json:"redeemed-at"`
					ExpiresAt     *time.Time `json:"expires-at"`
					FailedAt      *time.Time `json:"failed-at"`
					FailureReason *string    `json:"failure-reason"`
					RedeemMode    *string    `json:"redeem-mode"`
				} `json:"attributes"`
				Relationships struct {
					Creator     ref `json:"creator"`
					Source      ref `json:"source"`
					Connection  ref `json:"connection"`
					Destination ref `json:"destination"`
				} `json:"relationships"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || doc.Data.Attributes.Status != "created" {
			b.Fatal(err)
		}
	}
}
