// Package demo is what the example programs under examples/ share besides the SDK: the
// way they start and stop, the environment they read, the fake Persona their demos and
// tests run on, the partner API on which the source hands the destination its share
// tokens, the live server they run against Persona, the timeline they print, and the
// harness their tests use to run that live server against the fake. Nothing in it is
// about using Persona Connect: read each example's own files for that.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// demoBound keeps a broken demo run from hanging; a working one ends in seconds.
const demoBound = time.Minute

// Main is an example's func main. It loads the configuration from the environment
// (an error exits 2), then runs the program on stdout: live until SIGINT or SIGTERM,
// or the demo, bounded by a minute. An error of run exits 1. Errors are printed on
// stderr after the program's name; they never hold a secret, since load's and run's
// errors name variables, not values.
func Main[C interface{ Live() bool }](name string, load func(getenv func(string) string) (C, error), run func(context.Context, C, io.Writer) error) {
	cfg, err := load(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !cfg.Live() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, demoBound)
		defer cancel()
	}
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
