package dedupetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// placement is the connection and store Replicas gave a replica.
type placement struct {
	Conn  int
	Store string
}

// replica is a Deduper that remembers its placement.
type replica struct {
	connect.Deduper
	placement
}

// Replicas makes the store once, on the first connection, and gives every replica
// after the first a connection of its own over that store.
func TestReplicasDialOneConnectionEach(t *testing.T) {
	t.Parallel()
	dials := 0
	var storedOn []int
	open := Replicas(
		func(testing.TB) int { dials++; return dials },
		func(_ testing.TB, conn int) string { storedOn = append(storedOn, conn); return "store_1" },
		func(_ testing.TB, conn int, store string) connect.Deduper {
			return replica{connect.NewMemoryDeduper(0), placement{conn, store}}
		})
	ds := open(t, 3)
	var got []placement
	for _, d := range ds {
		got = append(got, d.(replica).placement)
	}
	want := []placement{{1, "store_1"}, {2, "store_1"}, {3, "store_1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replicas (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1}, storedOn); diff != "" {
		t.Errorf("stores made on connections (-want +got):\n%s", diff)
	}
}
