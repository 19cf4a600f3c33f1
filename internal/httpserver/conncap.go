package httpserver

import (
	"container/list"
	"net"
	"net/http"
	"sync"
)

// connCap tracks open connections through http.Server.ConnState and keeps
// them at or under max by closing the oldest idle ones.
//
// A LimitListener that stops accepting at the cap is not enough: the
// connections holding the slots are idle keep-alive (or never-used) ones,
// and while they hold them every new client — a health check, a caller
// with real work — waits in the kernel's accept queue. Closing the idle
// connection that has waited longest costs its client one reconnect at
// most and lets the new one in.
type connCap struct {
	max int

	mu      sync.Mutex
	conns   map[net.Conn]*list.Element // nil element: a request in progress
	idle    *list.List                 // of net.Conn, oldest first
	evicted uint64
	refused uint64
}

func newConnCap(max int) *connCap {
	return &connCap{max: max, conns: map[net.Conn]*list.Element{}, idle: list.New()}
}

// track is the server's ConnState hook. net/http calls it with StateNew
// from the accept loop before serving the connection, so a connection
// closed here never reads a byte.
func (c *connCap) track(conn net.Conn, state http.ConnState) {
	var victims []net.Conn
	c.mu.Lock()
	switch state {
	case http.StateNew:
		// A new connection counts as idle until its first request: a
		// client that connects and sends nothing holds a slot like an
		// idle keep-alive connection does.
		c.conns[conn] = c.idle.PushBack(conn)
		for len(c.conns) > c.max {
			victim := c.oldestIdle(conn)
			if victim == nil {
				// Every other connection is busy: refuse this one.
				c.remove(conn)
				c.refused++
				victims = append(victims, conn)
				break
			}
			c.remove(victim)
			c.evicted++
			victims = append(victims, victim)
		}
	case http.StateActive:
		if e, ok := c.conns[conn]; ok && e != nil {
			c.idle.Remove(e)
			c.conns[conn] = nil
		}
	case http.StateIdle:
		if e, ok := c.conns[conn]; ok && e == nil {
			c.conns[conn] = c.idle.PushBack(conn)
		}
	case http.StateHijacked, http.StateClosed:
		c.remove(conn)
	}
	c.mu.Unlock()
	// Closing may take a system call per connection: not under the lock.
	for _, v := range victims {
		closeNow(v)
	}
}

// oldestIdle is the idle connection that has waited longest, other than
// except (the connection being admitted); nil when there is none.
func (c *connCap) oldestIdle(except net.Conn) net.Conn {
	for e := c.idle.Front(); e != nil; e = e.Next() {
		if conn := e.Value.(net.Conn); conn != except {
			return conn
		}
	}
	return nil
}

// remove forgets conn. Evicted connections are forgotten when evicted, so
// their later StateClosed finds nothing to do.
func (c *connCap) remove(conn net.Conn) {
	if e, ok := c.conns[conn]; ok {
		if e != nil {
			c.idle.Remove(e)
		}
		delete(c.conns, conn)
	}
}

func (c *connCap) stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Open: len(c.conns), Idle: c.idle.Len(), Evicted: c.evicted, Refused: c.refused}
}
