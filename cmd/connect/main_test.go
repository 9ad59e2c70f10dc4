package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/poll"
	"github.com/persona-connect/connect-go/internal/syncbuf"
)

// The tests drive the built binary, as a user or a script does: TestMain builds it
// once, and every test runs it with os/exec against connecttest in this process or
// against a "connect fake" process.

// binary is the path of the command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "connect-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "connect")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build -o %s .: %v\n%s", binary, err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// commandTimeout bounds one run of the binary; generous, for a machine shared by
// several test suites.
const commandTimeout = 2 * time.Minute

// result is how one run of the binary ended.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// environ is the test process's environment without any PERSONA_ variable, plus env
// ("NAME=value" entries), so that a developer's own key never reaches a test.
func environ(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERSONA_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// secretsIn are the values of env that must never be printed: the API key and every
// variable whose name says it holds a secret.
func secretsIn(env []string) []string {
	var out []string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if value != "" && (name == "PERSONA_API_KEY" || strings.Contains(name, "SECRET")) {
			out = append(out, value)
		}
	}
	return out
}

// run runs the binary with env, stdin and args, and fails the test if any secret of
// env (or of also) shows on stdout or stderr: every run of every test checks it.
func run(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	return runHiding(t, env, nil, stdin, args...)
}

// runHiding is run with more values that must not be printed (a key from a file).
func runHiding(t *testing.T, env, also []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ(env)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("connect %s: %v", strings.Join(args, " "), err)
	}
	for _, s := range append(secretsIn(env), also...) {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Fatalf("connect %s printed a secret:\n%s", strings.Join(args, " "), r)
		}
	}
	return r
}

// runCase is a run of the binary in a table test, and how it must end: with exit code
// code and stderr containing stderr.
type runCase struct {
	name   string
	env    []string
	args   []string
	code   int
	stderr string
}

// check fails t, naming c, when r did not end as c wants.
func (c runCase) check(t *testing.T, r result) {
	t.Helper()
	if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
		t.Errorf("%s: want exit %d with %q on stderr, got %s", c.name, c.code, c.stderr, r)
	}
}

// mustRun is run that expects exit 0.
func mustRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := run(t, env, "", args...)
	if r.code != 0 {
		t.Fatalf("connect %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// world is connecttest in this process, seeded as connect fake seeds its own.
type world struct {
	srv *connecttest.Server
	seed
}

func newWorld(t *testing.T, opts ...connecttest.ServerOption) *world {
	t.Helper()
	srv := connecttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &world{srv: srv, seed: seedFake(srv)}
}

// as is the environment that makes the binary act as organization o.
func (w *world) as(o *connecttest.Organization, more ...string) []string {
	return append([]string{"PERSONA_BASE_URL=" + w.srv.URL, "PERSONA_API_KEY=" + o.APIKey}, more...)
}

// sdk is an SDK client on the fake acting as o, for the test's own calls.
func (w *world) sdk(t *testing.T, o *connecttest.Organization) *connect.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := w.srv.NewClient(o, connect.WithHTTPClient(&http.Client{Transport: tr}), connect.WithPollInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createToken creates a share token with the binary, as the source.
func (w *world) createToken(t *testing.T) shareTokenOut {
	t.Helper()
	r := mustRun(t, w.as(w.src), "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--json")
	return decodeOne[shareTokenOut](t, r.stdout)
}

// shareTokenOut is what a test reads of a share token printed with --json.
type shareTokenOut struct {
	ID            string       `json:"id"`
	Type          string       `json:"type"`
	Status        string       `json:"status"`
	Direction     string       `json:"direction"`
	RedeemMode    *string      `json:"redeem-mode"`
	ConnectionID  string       `json:"connection-id"`
	Source        *connect.Ref `json:"source"`
	Destination   *connect.Ref `json:"destination"`
	CreatedAt     string       `json:"created-at"`
	ExpiresAt     *string      `json:"expires-at"`
	SourceData    any          `json:"source-data"`
	FailureReason *string      `json:"failure-reason"`
}

// decodeOne decodes stdout as exactly one line holding one JSON value.
func decodeOne[T any](t *testing.T, stdout string) T {
	t.Helper()
	var v T
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("want one line of JSON, got %q", stdout)
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	return v
}

// process is the binary running in the background (listen, fake).
type process struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *syncbuf.Buffer
	done           chan struct{}
	err            error // cmd.Wait's, set when done is closed
}

// start starts the binary in the background; the test's cleanup kills it if the test
// did not stop it.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ(env)
	p := &process{t: t, cmd: cmd, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		p.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// firstLine waits for the first line of the process's stdout and returns it.
func (p *process) firstLine() string {
	p.t.Helper()
	var line string
	poll.Until(p.t, "a first line on stdout", func() bool {
		select {
		case <-p.done:
			p.t.Fatalf("the process ended before printing a line: %v\nstderr: %s", p.err, p.stderr)
		default:
		}
		var ok bool
		line, _, ok = strings.Cut(p.stdout.String(), "\n")
		return ok
	})
	return line + "\n"
}

// stop sends sig and returns the exit code.
func (p *process) stop(sig os.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(commandTimeout):
		p.t.Fatalf("the process did not stop after %v; stderr:\n%s", sig, p.stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	}
	p.t.Fatal(p.err)
	return -1
}
