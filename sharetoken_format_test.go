package connect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

func peekedToken(t *testing.T) *connect.ShareToken {
	t.Helper()
	created := time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC)
	expires := created.Add(14 * 24 * time.Hour)
	return &connect.ShareToken{
		ID: "cnst_FMT123", Status: connect.ShareTokenCreated, Direction: connect.Inbound,
		CreatedAt: created, UpdatedAt: created, ExpiresAt: &expires,
		ConnectionID: "cxn_FMT456",
		Destination:  &connect.Ref{Type: "inquiry", ID: "inq_DEST789"},
		SourceData:   json.RawMessage(`{"type":"connect/source-data/inquiry","peekable-attributes":{"name-first":{"visibility":"full","value":"` + piiName + `"}}}`),
	}
}

// Every fmt verb, on the token and on a pointer to it, keeps SourceData's values out
// and says how many bytes it holds; the other fields still print, readably.
func TestShareTokenFormattingHidesSourceData(t *testing.T) {
	t.Parallel()
	tok := peekedToken(t)
	n := fmt.Sprintf("%d bytes", len(tok.SourceData))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20v", "%-40s", "%T %v"} {
		for _, arg := range []any{tok, *tok, []*connect.ShareToken{tok}, map[string]any{"t": tok}} {
			out := fmt.Sprintf(verb, arg)
			what := fmt.Sprintf("Sprintf(%q, %T)", verb, arg)
			assertNoPII(t, what, out)
			if verb == "%v" || verb == "%+v" || verb == "%#v" || verb == "%s" {
				dates := []string{"2025-12-08", "2025-12-22"}
				if verb == "%#v" {
					dates = []string{"time.Date(2025, time.December, 8,", "time.Date(2025, time.December, 22,"}
				}
				for _, want := range append([]string{"cnst_FMT123", "created", "inbound", "cxn_FMT456", "inq_DEST789", n}, dates...) {
					if !strings.Contains(out, want) {
						t.Errorf("%s = %s; want it to show %q", what, out, want)
					}
				}
				if strings.Contains(out, "0xc") {
					t.Errorf("%s = %s; want pointer fields shown by value, not as addresses", what, out)
				}
			}
		}
	}
	if got := fmt.Sprintf("%+v", tok); !strings.Contains(got, "ID:cnst_FMT123") || !strings.Contains(got, "SourceData:") {
		t.Errorf("%%+v = %s; want field names", got)
	}
	if got := fmt.Sprintf("%#v", tok); !strings.HasPrefix(got, "&connect.ShareToken{") && !strings.HasPrefix(got, "connect.ShareToken{") {
		t.Errorf("%%#v = %s; want it to name connect.ShareToken", got)
	}
	// A token without source data says so, and nil pointer fields print as nil.
	var empty connect.ShareToken
	if got := fmt.Sprintf("%+v", empty); !strings.Contains(got, "SourceData:[]") || !strings.Contains(got, "Creator:<nil>") {
		t.Errorf("%%+v of the zero token = %s", got)
	}
	// Code still reads SourceData whole.
	if !bytes.Contains(tok.SourceData, []byte(piiName)) {
		t.Error("SourceData lost its content")
	}
}

// slog, text and JSON, shows the token through LogValue: its fields and the size of
// SourceData, never its values.
func TestShareTokenLogValueHidesSourceData(t *testing.T) {
	t.Parallel()
	tok := peekedToken(t)
	checkLogged(t, []any{"token", tok, slog.Any("token", *tok)},
		"cnst_FMT123", "cxn_FMT456", "inq_DEST789", "source_data_bytes", fmt.Sprint(len(tok.SourceData)))
}
