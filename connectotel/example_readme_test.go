package connectotel_test

// README.md's tracing snippet, verbatim: the root module's TestREADMESnippetsAreHere
// finds it here, where it compiles against the real connectotel.

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connectotel"
	"github.com/persona-connect/connect-go/connecttest"
)

func readmeTracing(use func(*connect.Client)) error {
	hc := &http.Client{Transport: connectotel.NewTransport(nil), Timeout: time.Minute}
	client, err := connect.New(os.Getenv("PERSONA_API_KEY"), connect.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	use(client)
	return nil
}

// It needs an API key; this keeps it compiled and used.
var _ = readmeTracing

// Each attempt becomes a client span named after the SDK operation, with the route
// template under the base URL's path and never the id.
func ExampleNewTransport() {
	srv := connecttest.NewServer()
	defer srv.Close()
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	cxn := srv.CreateConnection(src, dst)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	hc := &http.Client{Transport: connectotel.NewTransport(base, connectotel.WithTracerProvider(tp))}
	client, err := srv.NewClient(src, connect.WithHTTPClient(hc))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.Connections.Get(context.Background(), cxn); err != nil {
		log.Fatal(err)
	}
	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "url.template" || kv.Key == "http.response.status_code" {
				fmt.Println(s.Name(), kv.Key, kv.Value.String())
			}
		}
	}
	// Output:
	// Connections.Get url.template /api/v1/connect/connections/{id}
	// Connections.Get http.response.status_code 200
}
