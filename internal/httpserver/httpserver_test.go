package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/connprobe"
	"github.com/minipush/minipush/internal/httpserver"
)

// serve runs h with l on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler, l httpserver.Limits) (*httpserver.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := httpserver.New(h, l)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return s, ln.Addr().String()
}

func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
}

// Thousands of idle connections — half never sent a byte, half idle
// keep-alive after one request — cannot keep /healthz out: the cap closes
// the oldest idle ones, and the server never holds more than the cap.
// (The 20,000-connection flood with a latency figure is the chaos suite's.)
func TestIdleFloodKeepsHealthzAnswering(t *testing.T) {
	t.Parallel()
	const maxConns, flood = 200, 3000
	l := httpserver.Defaults()
	l.MaxConns = maxConns
	l.IdleTimeout = time.Minute // only the cap may close them
	l.ReadHeaderTimeout = time.Minute
	l.ReadTimeout = time.Minute
	s, addr := serve(t, healthz(), l)
	f, err := connprobe.NewFlood(context.Background(), addr, flood, "/healthz")
	t.Cleanup(f.Close)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz with %d idle connections open: %v", flood, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz answered %d", resp.StatusCode)
	}
	t.Logf("/healthz answered in %s with %d idle connections dialled (cap %d)", time.Since(start), flood, maxConns)
	st := s.Stats()
	if st.Open > maxConns {
		t.Errorf("server holds %d connections, cap %d", st.Open, maxConns)
	}
	if closed := f.ClosedByServer(2 * time.Second); closed < flood-maxConns {
		t.Errorf("server closed %d of %d idle connections, want at least %d", closed, flood, flood-maxConns)
	}
	if st.Evicted < flood-maxConns {
		t.Errorf("stats %+v: want at least %d evicted", st, flood-maxConns)
	}
}

// When every connection is busy the new one is refused, not queued.
func TestCapRefusesWhenAllBusy(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var inflight sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Done()
		<-release
	})
	l := httpserver.Defaults()
	l.MaxConns = 8
	s, addr := serve(t, h, l)
	defer close(release)
	inflight.Add(l.MaxConns)
	for range l.MaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /busy HTTP/1.1\r\nHost: t\r\n\r\n")
	}
	inflight.Wait()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := connprobe.Get(c, bufio.NewReader(c), "/x"); err == nil {
		t.Fatal("a connection over the cap was served while every other was busy")
	}
	if st := s.Stats(); st.Refused != 1 || st.Open != l.MaxConns {
		t.Fatalf("stats %+v, want 1 refused and %d open", st, l.MaxConns)
	}
}

// A keep-alive connection with no request for IdleTimeout is closed.
func TestIdleTimeoutClosesKeepAlive(t *testing.T) {
	t.Parallel()
	l := httpserver.Defaults()
	l.IdleTimeout = 200 * time.Millisecond
	_, addr := serve(t, healthz(), l)
	if took, err := connprobe.IdleClose(addr, "/healthz", 10*time.Second); err != nil {
		t.Fatalf("idle keep-alive connection: %v (after %s)", err, took)
	}
}

// A body trickled a byte at a time is cut when ReadTimeout runs out: the
// handler sees an error, never the whole body.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	got := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	})
	l := httpserver.Defaults()
	l.ReadTimeout = 300 * time.Millisecond
	l.ReadHeaderTimeout = 300 * time.Millisecond
	_, addr := serve(t, h, l)
	sent, took, _, err := connprobe.Trickle(addr, http.MethodPost, "/v1/messages", nil, 1000, 50*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatalf("trickled body (%d bytes in %s): %v", sent, took, err)
	}
	if err := <-got; err == nil {
		t.Fatal("the handler read the whole trickled body")
	}
}

// 1 MB of headers answers 431 with a 64 KiB cap.
func TestHugeHeaderIs431(t *testing.T) {
	t.Parallel()
	_, addr := serve(t, healthz(), httpserver.Defaults())
	code, err := connprobe.HugeHeader(addr, "/healthz", 1<<20)
	if err != nil || code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("1 MB header: %d %v, want 431", code, err)
	}
}

// WriteTimeout cuts a handler that answers too late; a long-poll handler
// that extends its own deadline answers.
func TestWriteTimeoutAndLongPoll(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(600 * time.Millisecond)
		_, _ = io.WriteString(w, "late")
	})
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		httpserver.ExtendWriteDeadline(w, r, 5*time.Second)
		time.Sleep(600 * time.Millisecond)
		_, _ = io.WriteString(w, "waited")
	})
	l := httpserver.Defaults()
	l.WriteTimeout = 200 * time.Millisecond
	_, addr := serve(t, mux, l)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := hc.Get("http://" + addr + "/slow"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) == "late" {
			t.Fatalf("/slow answered %d %q past the write timeout", resp.StatusCode, b)
		}
	}
	resp, err := hc.Get("http://" + addr + "/wait")
	if err != nil {
		t.Fatalf("long poll: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "waited" {
		t.Fatalf("long poll answered %q", b)
	}
}

// The cap is lowered to fit the open-file limit.
func TestCapFitsOpenFileLimit(t *testing.T) {
	t.Parallel()
	l := httpserver.Defaults()
	l.MaxConns = 1 << 30
	s := httpserver.New(healthz(), l)
	if got := s.MaxConns(); got >= 1<<30 || got < 8 {
		t.Fatalf("MaxConns = %d: not fitted to the open-file limit", got)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	if ps := httpserver.Defaults().Check(); len(ps) != 0 {
		t.Fatalf("defaults: %v", ps)
	}
	bad := httpserver.Limits{ReadTimeout: time.Second, ReadHeaderTimeout: 2 * time.Second, WriteTimeout: -1,
		MaxHeaderBytes: 10, MaxConns: 3}
	got := map[string]bool{}
	for _, p := range bad.Check() {
		got[p.Setting] = true
	}
	for _, want := range []string{"ReadHeaderTimeout", "WriteTimeout", "MaxHeaderBytes", "MaxConns"} {
		if !got[want] {
			t.Errorf("Check does not name %s: %v", want, got)
		}
	}
}

// A bulk handler may lift the read timeout for its own body.
func TestExtendReadDeadline(t *testing.T) {
	t.Parallel()
	got := make(chan int, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpserver.ExtendReadDeadline(w, r, 10*time.Second)
		b, _ := io.ReadAll(r.Body)
		got <- len(b)
	})
	l := httpserver.Defaults()
	l.ReadTimeout, l.ReadHeaderTimeout = 300*time.Millisecond, 300*time.Millisecond
	_, addr := serve(t, h, l)
	sent, took, _, err := connprobe.Trickle(addr, http.MethodPut, "/bulk", nil, 20, 50*time.Millisecond, 20*time.Second)
	if !errors.Is(err, connprobe.ErrNotCut) || sent != 20 {
		t.Fatalf("trickle: sent %d in %s: %v; want the whole body through", sent, took, err)
	}
	if n := <-got; n != 20 {
		t.Fatalf("the handler read %d bytes, want 20", n)
	}
}

// Shutdown closes, as it begins, a connection on which no request has
// begun — a client's spare connection would otherwise hold it for 5 s
// (net/http's own rule; it would not answer a request read on it once the
// shutdown began anyway) — while a request in progress is still answered.
func TestShutdownClosesFreshConnections(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	s := httpserver.New(h, httpserver.Defaults())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()
	spare, err := net.Dial("tcp", addr) // never sends a byte
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := io.WriteString(busy, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-entered
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(busy).ReadString('\n')
		answered <- line
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	start := time.Now()
	go func() { shut <- s.Shutdown(ctx) }()
	// The spare connection is closed while the request is still running.
	_ = spare.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := spare.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the spare connection during Shutdown: read %v, want it closed", err)
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown with a spare connection open: %v after %s", err, time.Since(start))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %s; want it prompt", d)
	}
	if line := <-answered; line != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("the request in progress: answered %q, want 200", line)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
}
