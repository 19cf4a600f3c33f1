package sender_test

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// A client's spare connection — one Go's http.Transport dials for a
// request that another connection then served, kept in its idle pool
// without a request ever sent on it — does not hold the sender's
// shutdown: net/http's Shutdown alone waits for such a connection until
// it has been new for 5 s, which ran into a 5 s shutdown_timeout
// ("http shutdown: context deadline exceeded"). The server closes
// connections that have not begun a request promptly, and Run ends
// cleanly well within the timeout.
func TestShutdownWithUnusedConnections(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	s := startService(t, mock, cfg, nil)
	if code, b := s.do(http.MethodGet, "/v1/apps", nil); code != http.StatusOK {
		t.Fatalf("GET /v1/apps: %d %s", code, b)
	}
	addr := s.URL[len("http://"):]
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// An idle keep-alive connection too (the test client's, after its
	// request above): Shutdown closes those itself.
	time.Sleep(50 * time.Millisecond) // the server has accepted them
	start := time.Now()
	s.stop() // fails the test when Run answers an error (a timed-out shutdown)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s with %d unused connections open; want it prompt (< 2s, shutdown_timeout %s)",
			d, len(conns), cfg.Delivery.ShutdownTimeout)
	}
	// The server closed them: a read ends (EOF or reset), it does not block.
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d: read a byte from a stopped server", i)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("connection %d: still open after the shutdown", i)
		}
	}
}
