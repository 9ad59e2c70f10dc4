package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Text output escapes what Persona sent: an event name holding ESC and a line break
// neither recolours the terminal nor forges a row, in a table or a key/value block.
// --json keeps the name as it is, escaped the JSON way.
func TestTextOutputEscapesWhatPersonaSent(t *testing.T) {
	t.Parallel()
	api := &eventsAPI{}
	api.showNamed("evt_hostile", time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), `inquiry.completed\u001b[31m\nevt_forged`)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	env := []string{"PERSONA_BASE_URL=" + srv.URL, "PERSONA_API_KEY=persona_sandbox_output"}

	table := mustRun(t, env, "events", "list").stdout
	if strings.ContainsAny(table, "\x1b") || strings.Count(table, "\n") != 2 || !strings.Contains(table, `inquiry.completed\x1b[31m\nevt_forged`) {
		t.Errorf("events list printed the name unescaped:\n%q", table)
	}
	block := mustRun(t, env, "events", "get", "evt_hostile").stdout
	if strings.ContainsAny(block, "\x1b") || !strings.Contains(block, "name:        inquiry.completed\\x1b[31m\\nevt_forged\n") {
		t.Errorf("events get printed the name unescaped:\n%q", block)
	}
	asJSON := mustRun(t, env, "events", "get", "evt_hostile", "--json").stdout
	if !strings.Contains(asJSON, `"name":"inquiry.completed\u001b[31m\nevt_forged"`) {
		t.Errorf("--json changed the name:\n%s", asJSON)
	}
}
