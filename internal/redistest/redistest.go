// Package redistest starts real redis-server processes for tests (the
// Debian package redis-server; no in-memory imitation): each on a free
// loopback port with a temporary directory, stopped when the test ends.
//
// Where redis-server is not installed a test skips with a message saying
// so — unless MINIPUSH_REQUIRE_REDIS=1 (CI's .ci/run sets it), where it
// fails: a missing Redis must not pass as a green run.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRequire names the variable that turns a missing redis-server from a
// skip into a failure.
const EnvRequire = "MINIPUSH_REQUIRE_REDIS"

// Binary returns the path of redis-server, or skips t (fails it when
// MINIPUSH_REQUIRE_REDIS=1) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("redis-server not found on PATH and %s=1: install the Debian package redis-server", EnvRequire)
	}
	t.Skipf("redis-server not found on PATH (apt-get install redis-server; set %s=1 to fail instead of skipping)", EnvRequire)
	return ""
}

// Option configures a server.
type Option func(*config)

type config struct {
	aof      string // "": no AOF; else appendfsync (always, everysec, no)
	cluster  bool
	password string
	replica  string // host:port of the master
	extra    []string
}

// WithAOF turns the append-only file on with the given appendfsync
// (always, everysec or no).
func WithAOF(fsync string) Option { return func(c *config) { c.aof = fsync } }

// WithCluster starts the server in cluster mode, alone in its cluster with
// every hash slot: a multi-key command or script across slots then fails
// with CROSSSLOT, as on a real cluster.
func WithCluster() Option { return func(c *config) { c.cluster = true } }

// WithPassword requires AUTH with p.
func WithPassword(p string) Option { return func(c *config) { c.password = p } }

// WithReplicaOf starts a replica of the server at addr.
func WithReplicaOf(addr string) Option { return func(c *config) { c.replica = addr } }

// WithConfig adds "--name value" to the command line.
func WithConfig(name, value string) Option {
	return func(c *config) { c.extra = append(c.extra, "--"+name, value) }
}

// Server is one redis-server process. Its port and directory stay the same
// across Kill and Restart, so a restart finds its AOF.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Dir holds the server's files (AOF, log).
	Dir string

	bin string
	cfg config
	t   testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a redis-server and waits until it answers; the test's
// cleanup stops it.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin := Binary(t)
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{bin: bin, cfg: cfg, t: t, Dir: t.TempDir()}
	var last error
	for range 5 { // the free port may be taken between probe and bind
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if last = s.start(); last == nil {
			break
		}
	}
	if last != nil {
		t.Fatalf("redistest: start redis-server: %v", last)
	}
	t.Cleanup(s.stop)
	if cfg.cluster {
		s.assignSlots(t)
	}
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) args() []string {
	_, port, _ := net.SplitHostPort(s.Addr)
	a := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.Dir, "--save", "",
		"--logfile", "redis.log", "--daemonize", "no", "--protected-mode", "yes"}
	if s.cfg.aof != "" {
		a = append(a, "--appendonly", "yes", "--appendfsync", s.cfg.aof)
	} else {
		a = append(a, "--appendonly", "no")
	}
	if s.cfg.cluster {
		a = append(a, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	if s.cfg.password != "" {
		a = append(a, "--requirepass", s.cfg.password)
	}
	if s.cfg.replica != "" {
		h, p, _ := net.SplitHostPort(s.cfg.replica)
		a = append(a, "--replicaof", h, p)
		if s.cfg.password != "" {
			a = append(a, "--masterauth", s.cfg.password)
		}
	}
	return append(a, s.cfg.extra...)
}

// start runs the process and waits for it to answer PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.Dir
	// Its own process group: a test killed by the race detector or a
	// timeout does not leave it orphaned in ours.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	c := redis.NewClient(s.options())
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start: %s", s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		// LOADING: still reading its AOF; not ready.
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server on %s does not answer: %v; log: %s", s.Addr, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) options() *redis.Options {
	return &redis.Options{Addr: s.Addr, Password: s.cfg.password, DisableIdentity: true, MaxRetries: -1,
		DialTimeout: time.Second}
}

// assignSlots gives the lone cluster node every slot and waits for the
// cluster to be ok.
func (s *Server) assignSlots(t testing.TB) {
	t.Helper()
	c := redis.NewClient(s.options())
	defer c.Close()
	ctx := context.Background()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("redistest: CLUSTER ADDSLOTSRANGE: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ok: %v %s", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is the server's redis:// URL (with the password when there is one).
func (s *Server) URL() string {
	if s.cfg.password != "" {
		return "redis://:" + s.cfg.password + "@" + s.Addr + "/0"
	}
	return "redis://" + s.Addr + "/0"
}

// Client returns a client of the server, closed at the test's end.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(s.options())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Pid is the running process's id (0 when it is not running): for CPU
// figures.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill ends the process with SIGKILL (a crash: no final AOF write beyond
// what the kernel already has) and waits for it to be gone.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Pause stops the process (SIGSTOP): it holds its connections and answers
// nothing, like a hung server. Resume continues it.
func (s *Server) Pause() { s.signalOnly(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.signalOnly(syscall.SIGCONT) }

func (s *Server) signalOnly(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot die of SIGTERM
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again on the same port and directory (after
// Kill, or while running: then it is stopped first) and waits until it
// answers — after loading its AOF, if it has one.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.signal(syscall.SIGTERM)
	var err error
	for range 50 { // the port may linger a moment after the old process
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redistest: restart: %v", err)
}

func (s *Server) stop() {
	s.signal(syscall.SIGTERM)
	if s.t.Failed() {
		s.t.Logf("redis-server %s log:\n%s", s.Addr, s.logTail())
	}
}

// logTail is the last lines of the server's log.
func (s *Server) logTail() string {
	f, err := os.Open(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
