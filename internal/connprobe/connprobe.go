// Package connprobe drives an HTTP server over raw TCP the way an abusive
// or broken client would — floods of idle connections, bodies trickled a
// byte at a time, oversized headers, keep-alive connections left open —
// and reports what the server did. The servers' tests and the chaos suite
// use it to prove the limits of internal/httpserver hold where they are
// wired in.
package connprobe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ErrNotCut is returned when the server let the probe run to its end.
var ErrNotCut = errors.New("the server did not cut the connection")

// Flood is a set of idle connections to one server.
type Flood struct {
	conns []net.Conn
}

// NewFlood opens n connections to addr. Every other one sends one GET of
// path and reads the answer, then stays open as an idle keep-alive
// connection; the others send nothing at all. Connections the server
// closes while the flood is opened are kept (ClosedByServer counts them).
// A dial error ends the flood early and is returned with it.
func NewFlood(ctx context.Context, addr string, n int, path string) (*Flood, error) {
	f := &Flood{conns: make([]net.Conn, 0, n)}
	var d net.Dialer
	for i := range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return f, fmt.Errorf("dial %d of %d: %w", i+1, n, err)
		}
		f.conns = append(f.conns, c)
		if i%2 == 1 {
			// The server may already have closed it to make room.
			_, _ = Get(c, bufio.NewReader(c), path)
		}
	}
	return f, nil
}

// Len is the number of connections opened.
func (f *Flood) Len() int { return len(f.conns) }

// ClosedByServer counts the connections the server has closed: a read
// returns at once on those and times out after wait on the others. The
// reads run side by side: Go fails a read whose deadline has passed
// without looking at the socket, so sequential reads on a busy machine
// would miscount.
func (f *Flood) ClosedByServer(wait time.Duration) int {
	deadline := time.Now().Add(wait)
	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range f.conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(closed.Load())
}

// Close closes every connection.
func (f *Flood) Close() {
	for _, c := range f.conns {
		_ = c.Close()
	}
}

// Get sends one GET of path on conn and reads the answer's status.
func Get(conn net.Conn, br *bufio.Reader, path string) (int, error) {
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: probe\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Trickle sends a request of method to path with a declared body of size
// bytes (and the given extra header lines, "Name: value"), one byte every
// interval, until the server answers or closes the connection, or until
// max has passed (ErrNotCut). It returns the body bytes sent and the time
// the server took to cut the request, and the status if it answered.
func Trickle(addr, method, path string, headers []string, size int, every, max time.Duration) (sent int, took time.Duration, status int, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, 0, 0, err
	}
	defer c.Close()
	start := time.Now()
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: probe\r\nContent-Length: %d\r\n", method, path, size)
	for _, h := range headers {
		head.WriteString(h + "\r\n")
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(c, head.String()); err != nil {
		return 0, 0, 0, err
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	stop := time.After(max)
	for sent < size {
		select {
		case status := <-answered:
			return sent, time.Since(start), status, nil
		case <-stop:
			return sent, time.Since(start), 0, ErrNotCut
		case <-tick.C:
			if _, err := c.Write([]byte("x")); err != nil {
				return sent, time.Since(start), 0, nil // cut
			}
			sent++
		}
	}
	return sent, time.Since(start), 0, fmt.Errorf("the whole %d-byte body went through: %w", size, ErrNotCut)
}

// HugeHeader sends a GET of path with one header of size bytes and
// returns the status the server answers.
func HugeHeader(addr, path string, size int) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	go func() {
		// The server answers and closes before reading all of it.
		_, _ = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: probe\r\nX-Probe: %s\r\n\r\n", path, strings.Repeat("a", size))
	}()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// IdleClose makes one GET of path on a keep-alive connection, then waits
// up to max for the server to close it and returns how long that took
// (ErrNotCut if it did not).
func IdleClose(addr, path string, max time.Duration) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if code, err := Get(c, br, path); err != nil {
		return 0, fmt.Errorf("first request: %w", err)
	} else if code >= 500 {
		return 0, fmt.Errorf("first request answered %d", code)
	}
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(max))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return max, ErrNotCut
	}
	return time.Since(start), nil
}

// Limits is what a server configured with short limits must do; Test
// checks each in a subtest.
type Limits struct {
	// Health is a GET path that answers 2xx without credentials.
	Health string
	// MaxConns is the server's connection cap; Flood idle connections
	// (more than it) are opened and all but MaxConns must be closed while
	// Health still answers.
	MaxConns, Flood int
	// IdleTimeout and ReadTimeout are the server's; both should be short
	// (well under a second) for a quick test.
	IdleTimeout, ReadTimeout time.Duration
	// Trickle is a POST path and its headers (credentials, content type)
	// for the slow-body probe.
	Trickle        string
	TrickleHeaders []string
}

// Test checks l against the server at addr: an idle flood leaves Health
// answering and the server holding no more than MaxConns; an idle
// keep-alive connection is closed after IdleTimeout; a trickled body is
// cut by ReadTimeout; 1 MB of headers answers 431.
func Test(t *testing.T, addr string, l Limits) {
	t.Helper()
	t.Run("idle flood", func(t *testing.T) {
		f, err := NewFlood(context.Background(), addr, l.Flood, l.Health)
		defer f.Close()
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Timeout: 10 * time.Second}
		start := time.Now()
		resp, err := hc.Get("http://" + addr + l.Health)
		if err != nil {
			t.Fatalf("%s during a flood of %d idle connections: %v", l.Health, l.Flood, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s during the flood: %d", l.Health, resp.StatusCode)
		}
		t.Logf("%s answered in %s during a flood of %d idle connections (max_conns %d)", l.Health, time.Since(start), l.Flood, l.MaxConns)
		// Closed by the cap, or the oldest already by the idle timeout.
		if closed := f.ClosedByServer(2 * time.Second); closed < l.Flood-l.MaxConns {
			t.Fatalf("the server closed %d of %d idle connections; max_conns is %d", closed, l.Flood, l.MaxConns)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		if took, err := IdleClose(addr, l.Health, l.IdleTimeout+10*time.Second); err != nil {
			t.Fatalf("idle keep-alive connection with idle timeout %s: %v after %s", l.IdleTimeout, err, took)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		sent, took, _, err := Trickle(addr, http.MethodPost, l.Trickle, l.TrickleHeaders, 10_000, 50*time.Millisecond, l.ReadTimeout+15*time.Second)
		if err != nil {
			t.Fatalf("body trickled for %s (%d bytes) with read timeout %s: %v", took, sent, l.ReadTimeout, err)
		}
	})
	t.Run("1 MB header", func(t *testing.T) {
		if code, err := HugeHeader(addr, l.Health, 1<<20); err != nil || code != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("1 MB of headers: %d %v, want 431", code, err)
		}
	})
}
