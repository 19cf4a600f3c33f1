// Package httpserver builds the HTTP servers of the mock and the sender
// with limits that keep one client — or twenty thousand — from holding a
// server: read, write and idle timeouts, a header size cap, and a cap on
// open connections that closes the oldest idle ones first, so a flood of
// idle keep-alive connections cannot stop /healthz from answering.
//
// Long-poll and Server-Sent-Events handlers are exempt from the write
// timeout by design: they call ExtendWriteDeadline with their own bound.
package httpserver

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"
)

// Limits bound what a client can hold of a server. Zero durations and
// sizes mean net/http's defaults (no timeout, 1 MiB of headers); zero
// MaxConns means no cap. Use Defaults, not the zero value.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers (Slowloris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a
	// trickled body is cut when it runs out.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its answer. Long-poll and SSE handlers extend it per request
	// (ExtendWriteDeadline).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that has had no request
	// for this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; more answers
	// 431 Request Header Fields Too Large.
	MaxHeaderBytes int
	// MaxConns caps open connections. Over it the oldest idle connection
	// (no request in progress) is closed to make room; when none is idle
	// the new connection is closed instead. It is lowered to fit the
	// process's open-file limit (see New).
	MaxConns int
}

// Defaults are the limits both servers start from (README "Limits").
func Defaults() Limits {
	return Limits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxConns:          4096,
	}
}

// Problem is one invalid limit: Setting is the Limits field name, for
// callers to translate into their own setting names.
type Problem struct {
	Setting string
	Message string
}

// Check reports every invalid limit.
func (l Limits) Check() []Problem {
	var ps []Problem
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReadHeaderTimeout", l.ReadHeaderTimeout}, {"ReadTimeout", l.ReadTimeout}, {"WriteTimeout", l.WriteTimeout}, {"IdleTimeout", l.IdleTimeout}} {
		if d.v < 0 {
			ps = append(ps, Problem{d.name, "must be >= 0 (0: no timeout)"})
		}
	}
	if l.MaxHeaderBytes < 0 || (l.MaxHeaderBytes > 0 && l.MaxHeaderBytes < minHeaderBytes) {
		ps = append(ps, Problem{"MaxHeaderBytes", fmt.Sprintf("must be at least %d (a request line and a few headers)", minHeaderBytes)})
	}
	if l.MaxConns < 0 || (l.MaxConns > 0 && l.MaxConns < minConns) {
		ps = append(ps, Problem{"MaxConns", fmt.Sprintf("must be 0 (no cap) or at least %d", minConns)})
	}
	if l.ReadTimeout > 0 && l.ReadHeaderTimeout > l.ReadTimeout {
		ps = append(ps, Problem{"ReadHeaderTimeout", "must not exceed ReadTimeout (which covers the headers too)"})
	}
	return ps
}

const (
	minHeaderBytes = 1 << 10
	minConns       = 8
	// fdReserve is the open files kept for everything but inbound
	// connections: the database and its WAL, outbound platform calls, logs.
	fdReserve = 256
)

// Server is an http.Server with Limits applied, whose Shutdown does not
// wait for connections on which no request has begun (see freshConns):
// they are closed as it begins. Set its
// other fields (BaseContext, ErrorLog, TLSConfig…) before serving, but
// not ConnState: the connection cap and Shutdown own it.
type Server struct {
	*http.Server
	conns *connCap
	fresh *freshConns
}

// Option configures New.
type Option func(*options)

type options struct{ log *slog.Logger }

// WithLogger receives the warning when MaxConns is lowered to fit the
// open-file limit.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// New returns a server for h with l applied. When the process may open
// fewer files than MaxConns plus a reserve for its own files, the cap is
// lowered to fit (and a warning logged): accepting past the file limit
// fails with EMFILE, and then no connection at all — /healthz included —
// gets in.
func New(h http.Handler, l Limits, opts ...Option) *Server {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	maxConns := l.MaxConns
	if lim, ok := openFileLimit(); ok && maxConns > 0 && uint64(maxConns)+fdReserve > lim {
		fit := max(minConns, int(lim)-fdReserve)
		if o.log != nil {
			o.log.Warn("connection cap lowered to fit the open-file limit",
				"max_conns", maxConns, "open_file_limit", lim, "reserved", fdReserve, "using", fit)
		}
		maxConns = fit
	}
	s := &Server{Server: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}}
	s.fresh = &freshConns{m: map[net.Conn]struct{}{}}
	if maxConns > 0 {
		s.conns = newConnCap(maxConns)
	}
	s.ConnState = s.track
	s.RegisterOnShutdown(s.fresh.shutdown)
	return s
}

// track is the server's ConnState hook. net/http calls it for a new
// connection from its accept loop, after Serve has set TLSConfig up.
func (s *Server) track(c net.Conn, st http.ConnState) {
	h2 := st == http.StateNew && s.TLSConfig != nil && slices.Contains(s.TLSConfig.NextProtos, "h2")
	s.fresh.track(c, st, h2)
	if s.conns != nil {
		s.conns.track(c, st)
	}
}

// MaxConns is the cap in force (after fitting the open-file limit); 0 when
// there is none.
func (s *Server) MaxConns() int {
	if s.conns == nil {
		return 0
	}
	return s.conns.max
}

// Stats counts the server's connections.
type Stats struct {
	Open    int    // open now
	Idle    int    // open with no request in progress
	Evicted uint64 // idle connections closed to make room
	Refused uint64 // new connections closed because none was idle
}

// Stats reports the connection counts (zero without a cap).
func (s *Server) Stats() Stats {
	if s.conns == nil {
		return Stats{}
	}
	return s.conns.stats()
}

// ExtendWriteDeadline lets a long-poll or Server-Sent-Events handler
// answer r for d from now, past the server's WriteTimeout. The handler
// bounds d itself (a capped ?wait=, a stream's maximum life). It never
// shortens the deadline the server set, and does nothing on a server
// without a WriteTimeout or a writer without deadlines
// (httptest.ResponseRecorder).
func ExtendWriteDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil || srv.WriteTimeout <= 0 {
		return
	}
	// An error means no deadline to extend (ErrNotSupported) or a
	// connection already gone, which the handler's next write reports.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(max(d, srv.WriteTimeout)))
}

// ExtendReadDeadline lets a handler that accepts a large body (a bulk
// upload, bounded by its own size limit) read r's body for d from now,
// past the server's ReadTimeout. Like ExtendWriteDeadline it never
// shortens the server's own deadline. Only authenticated handlers should
// call it: it is the slow-body cut it lifts.
func ExtendReadDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil || srv.ReadTimeout <= 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(max(d, srv.ReadTimeout)))
}

// closeNow closes a connection at once: a TLS connection's Close would
// first try to write close_notify, which blocks on a peer that does not
// read.
func closeNow(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	_ = c.Close()
}
