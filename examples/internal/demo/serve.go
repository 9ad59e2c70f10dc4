package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long requests in flight may take to finish at shutdown.
const shutdownGrace = 10 * time.Second

// Serve serves h on e.ListenAddr until ctx ends, then shuts down gracefully: requests
// in flight, webhook deliveries among them, finish first; those still running after
// the grace (e.ShutdownGrace) are cut off. It logs, as side, that it listens
// (followed by about) and that it shuts down, and tells e.OnListen the address.
func Serve(ctx context.Context, e Env, h http.Handler, tl *Timeline, side, about string) error {
	ln, err := net.Listen("tcp", e.ListenAddr)
	if err != nil {
		return err
	}
	// The timeouts keep a slow or idle client from holding a connection; Persona sends
	// a few KiB and waits 5 seconds for the answer.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tl.Log(side, "listening on %s (%s)", ln.Addr(), about)
	if e.OnListen != nil {
		e.OnListen(ln.Addr().String())
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	tl.Log(side, "shutting down")
	grace := shutdownGrace
	if e.ShutdownGrace > 0 {
		grace = e.ShutdownGrace
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// The grace is over and some requests still run: cut them off (their
		// contexts end, their connections close) rather than leave them running
		// after Serve has returned. Persona retries a delivery cut off this way.
		return errors.Join(fmt.Errorf("shutdown: %w", err), srv.Close())
	}
	return nil
}
