package dedupetest

import (
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// Replicas is the Open of a Deduper on a server, whose replicas share a store but
// not a connection. dial opens a connection (a pool, a client), closed when t ends;
// store makes a fresh store on the first one (a table, a key prefix) and removes it
// when t ends; newDeduper makes a replica on a connection over that store. Every
// replica after the first dials a connection of its own, as a replica in another
// process would have, so that no check passes only because the replicas share one.
func Replicas[C any](dial func(t testing.TB) C, store func(t testing.TB, c C) string, newDeduper func(t testing.TB, c C, store string) connect.Deduper) Open {
	return func(t *testing.T, replicas int) []connect.Deduper {
		first := dial(t)
		name := store(t, first)
		ds := make([]connect.Deduper, replicas)
		for i := range ds {
			c := first
			if i > 0 {
				c = dial(t)
			}
			ds[i] = newDeduper(t, c, name)
		}
		return ds
	}
}
