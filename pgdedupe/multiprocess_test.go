package pgdedupe_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// The replica processes of TestMultiProcess are this test binary, started again with
// these variables set; TestMain sends them to runReplica instead of the tests.
const (
	replicaEnv        = "PGDEDUPE_TEST_REPLICA" // the replica's number
	replicaTableEnv   = "PGDEDUPE_TEST_TABLE"
	replicaEffectsEnv = "PGDEDUPE_TEST_EFFECTS"
	replicaSecretEnv  = "PGDEDUPE_TEST_SECRET"
	replicaHangEnv    = "PGDEDUPE_TEST_HANG_AT" // the replica hangs inside its n-th function run
	replicaLease      = 2 * time.Second         // short, so the killed replica's events are taken over soon
)

// runReplica is one replica of a webhook endpoint: a real http.Server with a
// WebhookHandler on pgdedupe, whose function writes an effects row and marks the event
// done in the same transaction. It prints "addr HOST:PORT" on stdout, serves until its
// standard input closes, then shuts down and checks that it leaks no goroutine.
func runReplica() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "replica: "+format+"\n", args...)
		return 1
	}
	ctx := context.Background()
	replica, _ := strconv.Atoi(os.Getenv(replicaEnv))
	effects := pgx.Identifier{os.Getenv(replicaEffectsEnv)}.Sanitize()
	pool, err := pgxpool.New(ctx, os.Getenv(urlEnv))
	if err != nil {
		return fail("pool: %v", err)
	}
	d, err := pgdedupe.New(ctx, pool, pgdedupe.WithTable(os.Getenv(replicaTableEnv)))
	if err != nil {
		return fail("New: %v", err)
	}
	v, err := connect.NewVerifier([]string{os.Getenv(replicaSecretEnv)})
	if err != nil {
		return fail("verifier: %v", err)
	}
	hangAt, _ := strconv.ParseInt(os.Getenv(replicaHangEnv), 10, 64)
	var runs atomic.Int64
	h := connect.NewWebhookHandler(v, connect.WithDeduper(d), connect.WithLease(replicaLease))
	h.On(connect.EventInquiryCompleted, func(ctx context.Context, ev *connect.Event) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id, replica) VALUES ($1, $2)", ev.ID, replica); err != nil {
				return err
			}
			if runs.Add(1) == hangAt {
				// Half-way: the effect is written, not committed. The test kills this
				// process on this line; until then, hold the transaction open.
				fmt.Printf("hanging %s\n", ev.ID)
				select {}
			}
			// Some work inside the transaction, so that the kill finds some in flight.
			if _, err := tx.Exec(ctx, "SELECT pg_sleep(0.02)"); err != nil {
				return err
			}
			return d.CompleteTx(ctx, tx, ev.ID)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail("listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("addr %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes it
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fail("shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		return fail("serve: %v", err)
	}
	pool.Close()
	if err := goleak.Find(); err != nil {
		return fail("leaked goroutines: %v", err)
	}
	return 0
}

// replicaProcess is one started replica.
type replicaProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // its stdout, line by line
	stderr bytes.Buffer
	addr   string
	waited chan error
}

// lineWriter sends each line written to it on a channel. The replicas write two lines
// at most, so the channel never fills and the process is never held up.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan<- string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		select {
		case w.lines <- string(line):
		default:
		}
		w.buf = rest
	}
}

func startReplica(t *testing.T, n int, env ...string) *replicaProcess {
	t.Helper()
	p := &replicaProcess{lines: make(chan string, 16), waited: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), append(env, replicaEnv+"="+strconv.Itoa(n))...)
	p.cmd.Stdout, p.cmd.Stderr = &lineWriter{lines: p.lines}, &p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait() // returns once stdout is copied: nothing writes to lines after it
		close(p.lines)
		p.waited <- err
	}()
	// Reaped whatever happens to the test: killed if still running, then waited for.
	t.Cleanup(func() {
		select {
		case err := <-p.waited:
			p.waited <- err
		default:
			_ = p.cmd.Process.Kill()
			p.waited <- <-p.waited
		}
	})
	select {
	case line := <-p.lines:
		addr, ok := strings.CutPrefix(line, "addr ")
		if !ok {
			t.Fatalf("replica %d said %q", n, line)
		}
		p.addr = addr
	case err := <-p.waited:
		t.Fatalf("replica %d exited before serving: %v\n%s", n, err, p.stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("replica %d did not start\n%s", n, p.stderr.String())
	}
	return p
}

// TestMultiProcess is the end-to-end proof: three replica processes behind a
// round-robin proxy, every event delivered several times at once and redelivered until
// it gets a 2xx, one replica killed with SIGKILL mid-run. Afterwards the effects table,
// written in the same transaction as CompleteTx, holds exactly one row per event.
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	const (
		replicas = 3
		events   = 45
		copies   = 3 // concurrent deliveries of each event
		inFlight = 6 // events being delivered at once
	)
	ctx := context.Background()
	pool := newPool(t, nil)
	table := uniqueTable(t, pool)
	if _, err := pgdedupe.New(ctx, pool, pgdedupe.WithTable(table)); err != nil {
		t.Fatal(err)
	}
	effects := uniqueTable(t, pool)
	if _, err := pool.Exec(ctx, "CREATE TABLE "+effects+" (id bigserial PRIMARY KEY, event_id text NOT NULL, replica int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	secret := "wbhsec_" + hex.EncodeToString(b[:])
	env := []string{replicaTableEnv + "=" + table, replicaEffectsEnv + "=" + effects, replicaSecretEnv + "=" + secret}

	procs := make([]*replicaProcess, replicas)
	for i := range procs {
		if i == 0 {
			// The victim: it hangs half-way through its third function run.
			procs[i] = startReplica(t, i, append(env, replicaHangEnv+"=3")...)
			continue
		}
		procs[i] = startReplica(t, i, env...)
	}
	// SIGKILL the victim as soon as it says it is half-way through a function: no
	// deferred code, no shutdown, its transaction cut off with the effect written.
	killed := make(chan string, 1)
	go func() {
		for line := range procs[0].lines {
			if id, ok := strings.CutPrefix(line, "hanging "); ok {
				if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Errorf("kill: %v", err)
				}
				killed <- id
				return
			}
		}
	}()

	var next, proxyErrors atomic.Int64
	proxyTransport := &http.Transport{}
	defer proxyTransport.CloseIdleConnections()
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p := procs[int(next.Add(1))%replicas]
			r.Out.URL.Scheme, r.Out.URL.Host = "http", p.addr
		},
		Transport: proxyTransport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			proxyErrors.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	})
	defer proxy.Close()

	senderTransport := &http.Transport{MaxIdleConnsPerHost: inFlight * copies}
	defer senderTransport.CloseIdleConnections()
	client := &http.Client{Transport: senderTransport, Timeout: 30 * time.Second}
	var statuses sync.Map // status -> *atomic.Int64
	count := func(status int) {
		c, _ := statuses.LoadOrStore(status, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	// deliver sends body until a 2xx comes back, as Persona does (faster).
	deadline := time.Now().Add(3 * time.Minute)
	deliver := func(body []byte) error {
		for {
			req, err := http.NewRequest(http.MethodPost, proxy.URL, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set(connect.SignatureHeader, connect.SignHeader(body, secret, time.Now()))
			resp, err := client.Do(req)
			status := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			count(status)
			if status >= 200 && status < 300 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no 2xx before the deadline; last status %d, error %v", status, err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}

	ids := make([]string, events)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt_mp%02d_%s", i, hex.EncodeToString(b[:4]))
	}
	var handled atomic.Int64
	sem := make(chan struct{}, inFlight)
	errs := make(chan error, events*copies)
	var wg sync.WaitGroup
	for _, id := range ids {
		body := []byte(`{"data":{"type":"event","id":"` + id + `","attributes":{"name":"inquiry.completed",` +
			`"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}},"created-at":"2025-01-01T00:00:00.000Z"}}}`)
		sem <- struct{}{}
		var event sync.WaitGroup
		for range copies {
			wg.Add(1)
			event.Add(1)
			go func() {
				defer wg.Done()
				defer event.Done()
				if err := deliver(body); err != nil {
					errs <- fmt.Errorf("%s: %v", id, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			event.Wait()
			<-sem
			handled.Add(1)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Stop the survivors cleanly; each checks itself for leaked goroutines.
	for i, p := range procs {
		_ = p.stdin.Close()
		err := <-p.waited
		p.waited <- err
		if i == 0 {
			if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Errorf("replica 0 ended with %v, want killed by SIGKILL", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("replica %d: %v\n%s", i, err, p.stderr.String())
		}
	}

	rows, err := pool.Query(ctx, "SELECT event_id, count(*) FROM "+effects+" GROUP BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	perEvent := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		perEvent[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, twice []string
	for _, id := range ids {
		switch n := perEvent[id]; {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s x%d", id, n))
		}
	}
	if len(lost) > 0 || len(twice) > 0 || len(perEvent) != events {
		t.Errorf("effects: %d events, lost %v, more than once %v", len(perEvent), lost, twice)
	}
	var notDone int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE state <> 'done'").Scan(&notDone); err != nil || notDone != 0 {
		t.Errorf("%d events not done (%v), want 0", notDone, err)
	}
	var byReplica [replicas]int
	if err := pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE replica = 0), count(*) FILTER (WHERE replica = 1), count(*) FILTER (WHERE replica = 2) FROM "+effects).
		Scan(&byReplica[0], &byReplica[1], &byReplica[2]); err != nil {
		t.Fatal(err)
	}
	if proxyErrors.Load() == 0 {
		t.Error("no delivery reached the killed replica: the kill proved nothing")
	}
	var summary []string
	statuses.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%d: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	select {
	case id := <-killed:
		// The event cut off half-way was taken over once its lease ended, and ran
		// once, on another replica: the killed transaction's effect rolled back.
		var by int
		if err := pool.QueryRow(ctx, "SELECT replica FROM "+effects+" WHERE event_id = $1", id).Scan(&by); err != nil || by == 0 {
			t.Errorf("the event killed half-way (%s) ran on replica %d (%v), want another", id, by, err)
		}
		t.Logf("killed replica 0 half-way through %s; %d events; answers %v; effects by replica %v", id, handled.Load(), summary, byReplica)
	default:
		t.Error("replica 0 was never killed")
	}
}
