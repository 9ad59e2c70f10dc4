package connect_test

import (
	"testing"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/dedupetest"
)

// MemoryDeduper keeps the contract every Deduper keeps (internal/dedupetest), as
// pgdedupe and redisdedupe do in their modules.
func TestMemoryDeduperContract(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T, replicas int) []connect.Deduper {
		d := connect.NewMemoryDeduper(0)
		ds := make([]connect.Deduper, replicas)
		for i := range ds {
			ds[i] = d // replicas of one process share its memory
		}
		return ds
	})
}
