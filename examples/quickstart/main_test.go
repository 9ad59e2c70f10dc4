package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQuickstartTimeline runs the program's whole flow and checks that each side saw
// what it should, in an order that the protocol guarantees.
func TestQuickstartTimeline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// Each step is a pattern on one line of the timeline; steps listed in one group
	// must appear in that order.
	ordered := [][]string{
		{
			`setup +fake Persona at http://127\.0\.0\.1:\d+/api/v1: Acme Bank shares with Beta Lending over cxn_`,
			`destination +connect/share-token\.inbound-created: cnst_\w+ is created, redeeming it \(clone\)`,
			`destination +redeem accepted: cnst_\w+ is pending`,
			`destination +connect/share-token\.inbound-redeemed: cnst_\w+ is redeemed into inquiry inq_\w+`,
			`done +Acme Bank shared inq_\w+ with Beta Lending as inquiry inq_\w+`,
		},
		{
			`source +connect/share-token\.outbound-created: cnst_\w+ is created`,
			`source +connect/share-token\.outbound-redeemed: cnst_\w+ is redeemed`,
			`done `,
		},
		{
			`source +created cnst_\w+ for inquiry inq_\w+, status created`,
			`source +Wait returned: cnst_\w+ is redeemed`,
			`done `,
		},
	}
	for _, group := range ordered {
		at := -1
		for _, pattern := range group {
			re := regexp.MustCompile(pattern)
			found := -1
			for i, l := range lines {
				if re.MatchString(l) {
					found = i
					break
				}
			}
			if found < 0 {
				t.Errorf("timeline has no line matching %q:\n%s", pattern, out.String())
				continue
			}
			if found < at {
				t.Errorf("line %q came before an earlier step:\n%s", pattern, out.String())
			}
			at = found
		}
	}
	if !strings.Contains(lines[len(lines)-1], "done") {
		t.Errorf("the last line is not the summary:\n%s", out.String())
	}
	// One token, one id throughout.
	ids := map[string]bool{}
	for _, id := range regexp.MustCompile(`cnst_\w+`).FindAllString(out.String(), -1) {
		ids[id] = true
	}
	if len(ids) != 1 {
		t.Errorf("timeline mentions %d share tokens, want 1: %v", len(ids), ids)
	}
}
