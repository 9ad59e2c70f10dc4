package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// connectionOut is what a test reads of a connection printed with --json.
type connectionOut struct {
	ID                        string `json:"id"`
	Type                      string `json:"type"`
	Status                    string `json:"status"`
	SourceOrganizationID      string `json:"source-organization-id"`
	DestinationOrganizationID string `json:"destination-organization-id"`
	CreatedAt                 string `json:"created-at"`
}

func TestConnectionsCommands(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other := w.srv.NewOrganization("Other")

	created := decodeOne[connectionOut](t, mustRun(t, w.as(w.src), "connections", "create", "--destination-org", other.ID, "--json").stdout)
	if created.Status != "pending" || created.SourceOrganizationID != w.src.ID || created.DestinationOrganizationID != other.ID || created.Type != "connect/connection" {
		t.Fatalf("create = %+v", created)
	}
	got := decodeOne[connectionOut](t, mustRun(t, w.as(w.src), "connections", "get", w.cxn, "--json").stdout)
	want := connectionOut{ID: w.cxn, Type: "connect/connection", Status: "active", SourceOrganizationID: w.src.ID, DestinationOrganizationID: w.dst.ID, CreatedAt: got.CreatedAt}
	if diff := cmp.Diff(want, got); diff != "" || got.CreatedAt == "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}

	var list []connectionOut
	if err := json.Unmarshal([]byte(mustRun(t, w.as(w.src), "connections", "list", "--json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != created.ID || list[1].ID != w.cxn {
		t.Errorf("list = %+v, want %s then %s", list, created.ID, w.cxn)
	}
	text := mustRun(t, w.as(w.src), "connections", "list", "--status", "active").stdout
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 2 || !cmp.Equal(strings.Fields(lines[0]), []string{"ID", "STATUS", "SOURCE", "DESTINATION", "CREATED"}) ||
		!strings.HasPrefix(lines[1], w.cxn+"  active  "+w.src.ID+"  "+w.dst.ID) {
		t.Errorf("text list:\n%s", text)
	}

	if got := decodeOne[connectionOut](t, mustRun(t, w.as(w.src), "connections", "deactivate", w.cxn, "--json").stdout); got.Status != "inactive" {
		t.Errorf("deactivate = %+v", got)
	}
	r := mustRun(t, w.as(w.src), "connections", "reactivate", w.cxn)
	if !strings.Contains(r.stdout, "status:                    pending\n") || !strings.Contains(r.stdout, "id:                        "+w.cxn+"\n") {
		t.Errorf("reactivate text output:\n%s", r.stdout)
	}
}
