package httpserver

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
)

// freshConns tracks the connections on which no request has begun yet
// (http.StateNew) to close them when the server shuts down.
//
// net/http's Shutdown closes idle keep-alive connections at once but
// waits for a connection still new until it is 5 s old. Yet a request
// read on it once the shutdown has begun is dropped unanswered (the
// server checks for the shutdown right after reading one), so the wait
// serves nothing, and a client's spare connection — one Go's
// http.Transport dials for a request another connection then serves, and
// keeps in its idle pool — never sends a request: every shutdown within
// 5 s of such a dial took 5 s, or failed at a shorter timeout.
type freshConns struct {
	mu      sync.Mutex
	m       map[net.Conn]struct{}
	closing bool // the server is shutting down
}

// track follows c's state; h2 tells that c may become an HTTP/2
// connection, which goes from new to active without telling ConnState:
// such a connection is not tracked (the HTTP/2 server shuts it down).
func (f *freshConns) track(c net.Conn, st http.ConnState, h2 bool) {
	f.mu.Lock()
	_, isTLS := c.(*tls.Conn)
	if st != http.StateNew || (h2 && isTLS) {
		delete(f.m, c)
		f.mu.Unlock()
		return
	}
	closing := f.closing
	if !closing {
		f.m[c] = struct{}{}
	}
	f.mu.Unlock()
	if closing { // accepted as the listener closed: it cannot be served
		closeNow(c)
	}
}

// shutdown closes every fresh connection, and those accepted from now on.
// The server calls it once its shutdown has begun (RegisterOnShutdown):
// a connection still new then can no longer be answered.
func (f *freshConns) shutdown() {
	f.mu.Lock()
	f.closing = true
	old := make([]net.Conn, 0, len(f.m))
	for c := range f.m {
		old = append(old, c)
	}
	clear(f.m)
	f.mu.Unlock()
	for _, c := range old {
		closeNow(c)
	}
}
