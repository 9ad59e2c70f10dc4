package pgdedupe_test

import (
	"fmt"
	"runtime"

	"github.com/persona-connect/connect-go"
)

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

// errOr is err, or an error saying the claim was not acquired.
func errOr(err error, res connect.ClaimResult) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("claim %v, want acquired", res)
}
