package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// The replica processes of a MultiProcess are the backend's test binary, started again
// with these variables set; its TestMain asks ThisReplica and serves instead of testing.
const (
	replicaEnv       = "CONNECT_TEST_REPLICA" // the replica's number
	replicaSecretEnv = "CONNECT_TEST_REPLICA_SECRET"
	replicaHangEnv   = "CONNECT_TEST_REPLICA_HANG_AT" // the replica hangs at its n-th HalfWay
)

// Replica is what a replica process of a MultiProcess knows of itself.
type Replica struct {
	N      int    // its number: 0 is the one killed
	Secret string // the webhook secret the deliveries are signed with

	hangAt int64
	runs   atomic.Int64
}

// ThisReplica returns the replica this process is to be, or nil when it is a test
// binary that runs tests.
func ThisReplica() *Replica {
	n, err := strconv.Atoi(os.Getenv(replicaEnv))
	if err != nil {
		return nil
	}
	hangAt, _ := strconv.ParseInt(os.Getenv(replicaHangEnv), 10, 64)
	return &Replica{N: n, Secret: os.Getenv(replicaSecretEnv), hangAt: hangAt}
}

// HalfWay is for the replica's function to call half-way through its work, once its
// effect is written and before it has finished. On the replica that is to be killed,
// the call that makes its MultiProcess.HangAt-th says so on stdout and never returns:
// the test kills the process on this line.
func (r *Replica) HalfWay(eventID string) {
	if r.runs.Add(1) == r.hangAt {
		fmt.Printf("hanging %s\n", eventID)
		select {}
	}
}

// Serve serves h on a real http.Server on a port of its own, which it prints on
// stdout for the test, until its standard input closes; then it shuts the server down,
// waiting for the deliveries running.
func (r *Replica) Serve(h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("addr %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes it
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// MultiProcess is the end-to-end test of a Deduper across replicas: Replicas processes
// (the test binary again, whose TestMain serves a WebhookHandler on the backend when
// ThisReplica is not nil) behind a round-robin proxy, each of Events events delivered
// Copies times at once, InFlight events at a time, and redelivered until it gets a
// 2xx, as Persona does (faster). Replica 0 is killed with SIGKILL as soon as it hangs
// at its HangAt-th HalfWay. The backend's test then checks its own records of what ran.
type MultiProcess struct {
	Replicas, Events, Copies, InFlight int
	HangAt                             int      // which run of replica 0 hangs, from 1
	Env                                []string // for every replica: its store, its records
	// Killed, when not nil, is called once replica 0 is dead, with the event it hung
	// in, while the deliveries go on: what it records is in order with what the
	// survivors record after the kill.
	Killed func(eventID string)
}

// MultiProcessResult is what a MultiProcess did.
type MultiProcessResult struct {
	IDs     []string // the events, each delivered until it got a 2xx
	Hung    string   // the event replica 0 was killed in
	Summary string   // the answers the deliveries got, for the log
}

// Run runs m. It fails t unless every delivery got a 2xx, some reached replica 0 after
// its death (or the kill proved nothing), replica 0 died of SIGKILL and the survivors
// shut down cleanly.
func (m MultiProcess) Run(t *testing.T) MultiProcessResult {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	secret := "wbhsec_" + hex.EncodeToString(b[:])
	env := append([]string{replicaSecretEnv + "=" + secret}, m.Env...)

	procs := make([]*replicaProcess, m.Replicas)
	for i := range procs {
		if i == 0 {
			procs[i] = startReplica(t, i, append(env, replicaHangEnv+"="+strconv.Itoa(m.HangAt))...)
			continue
		}
		procs[i] = startReplica(t, i, env...)
	}
	// SIGKILL the victim as soon as it says it is half-way through a function: no
	// deferred code, no shutdown, its work cut off with the effect written.
	killed := make(chan string, 1)
	watched := make(chan struct{}) // closed once the goroutine watching the victim is done
	go func() {
		defer close(watched)
		for line := range procs[0].lines {
			if id, ok := strings.CutPrefix(line, "hanging "); ok {
				if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Errorf("kill: %v", err)
				}
				<-procs[0].dead
				if m.Killed != nil {
					m.Killed(id)
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
			p := procs[int(next.Add(1))%m.Replicas]
			r.Out.URL.Scheme, r.Out.URL.Host = "http", p.addr
		},
		Transport: proxyTransport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			proxyErrors.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	})
	defer proxy.Close()

	senderTransport := &http.Transport{MaxIdleConnsPerHost: m.InFlight * m.Copies}
	defer senderTransport.CloseIdleConnections()
	client := &http.Client{Transport: senderTransport, Timeout: 30 * time.Second}
	var statuses sync.Map // status -> *atomic.Int64
	count := func(status int) {
		c, _ := statuses.LoadOrStore(status, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	// deliver sends body until a 2xx comes back. The deadline only bounds a broken
	// run: a working one is done in seconds.
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

	res := MultiProcessResult{IDs: make([]string, m.Events)}
	for i := range res.IDs {
		res.IDs[i] = fmt.Sprintf("evt_mp%02d_%s", i, hex.EncodeToString(b[:4]))
	}
	sem := make(chan struct{}, m.InFlight)
	errs := make(chan error, m.Events*m.Copies)
	var wg sync.WaitGroup
	for _, id := range res.IDs {
		body := []byte(`{"data":{"type":"event","id":"` + id + `","attributes":{"name":"inquiry.completed",` +
			`"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}},"created-at":"2025-01-01T00:00:00.000Z"}}}`)
		sem <- struct{}{}
		var event sync.WaitGroup
		for range m.Copies {
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
		<-p.dead
		if i == 0 {
			if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Errorf("replica 0 ended with %v, want killed by SIGKILL", p.err)
			}
			continue
		}
		if p.err != nil {
			t.Errorf("replica %d: %v\n%s", i, p.err, p.stderr.String())
		}
	}
	if proxyErrors.Load() == 0 {
		t.Error("no delivery reached the killed replica: the kill proved nothing")
	}
	var summary []string
	statuses.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%d: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(summary)
	res.Summary = strings.Join(summary, ", ")
	<-watched // the victim is dead, so its lines are closed: the watch ends
	select {
	case res.Hung = <-killed:
	default:
		t.Fatal("replica 0 was never killed")
	}
	return res
}

// replicaProcess is one started replica.
type replicaProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // its stdout, line by line
	stderr bytes.Buffer
	addr   string
	dead   chan struct{} // closed once it has exited and err is set
	err    error         // how it exited
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

// startReplica starts replica n and waits until it serves. It is killed, if still
// running, and waited for when t ends.
func startReplica(t *testing.T, n int, env ...string) *replicaProcess {
	t.Helper()
	p := &replicaProcess{lines: make(chan string, 16), dead: make(chan struct{})}
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
		p.err = p.cmd.Wait() // returns once stdout is copied: nothing writes to lines after it
		close(p.lines)
		close(p.dead)
	}()
	t.Cleanup(func() {
		select {
		case <-p.dead:
		default:
			_ = p.cmd.Process.Kill()
			<-p.dead
		}
	})
	select {
	case line := <-p.lines:
		addr, ok := strings.CutPrefix(line, "addr ")
		if !ok {
			t.Fatalf("replica %d said %q", n, line)
		}
		p.addr = addr
	case <-p.dead:
		t.Fatalf("replica %d exited before serving: %v\n%s", n, p.err, p.stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("replica %d did not start\n%s", n, p.stderr.String())
	}
	return p
}
