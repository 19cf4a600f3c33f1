package wechat

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Every error answer carries a rid, and openapi/rid/get tells what call it
// came from: when, how long it took, its URL parameters, body and answer,
// the caller's address (getRidInfo page). The mock keeps the last ridLimit
// of them, with bodies cut at ridBodyLimit bytes.
const (
	ridLimit     = 4096
	ridBodyLimit = 2048
	// ridLife: "rid 过期，仅支持持续7天内的rid" (WxJava's 76004 text).
	ridLife = 7 * 24 * time.Hour
)

// secretBodies are the endpoints whose request body carries a secret: the
// rid record leaves it out (secrets never appear in an answer).
var secretBodies = map[string]bool{EndpointStableToken: true, EndpointClearQuotaV2: true}

// secretParams are URL parameters whose values rid records hide.
var secretParams = []string{"access_token", "secret", "appsecret"}

type ridRecord struct {
	rid      string
	appID    string
	at       time.Time // mock clock
	cost     time.Duration
	query    string
	body     string
	response string
	clientIP string
}

// ridLog is bounded: the oldest records are forgotten first.
type ridLog struct {
	mu    sync.Mutex
	byRID map[string]*ridRecord
	order []string // ring of rids, oldest at next once full
	next  int
}

func (l *ridLog) reset() {
	l.mu.Lock()
	l.byRID, l.order, l.next = nil, nil, 0
	l.mu.Unlock()
}

func (l *ridLog) add(rec *ridRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byRID == nil {
		l.byRID = map[string]*ridRecord{}
	}
	if len(l.order) < ridLimit {
		l.order = append(l.order, rec.rid)
	} else {
		delete(l.byRID, l.order[l.next])
		l.order[l.next] = rec.rid
		l.next = (l.next + 1) % ridLimit
	}
	l.byRID[rec.rid] = rec
}

func (l *ridLog) get(rid string) (ridRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.byRID[rid]
	if !ok {
		return ridRecord{}, false
	}
	return *rec, true
}

// tracedWriter notes the rid an answer carries (set by failMsg) and keeps
// the answer's first bytes for the rid record.
type tracedWriter struct {
	http.ResponseWriter
	rid      string
	response []byte
	// body is the request body as the handler read it (keepBody, below).
	body []byte
}

// keepBody lets the rid record show the request body: the JSON readers
// hand over what they read (no copy, and nothing on calls that succeed).
func keepBody(w http.ResponseWriter, body []byte) {
	if tw, ok := w.(*tracedWriter); ok {
		tw.body = body
	}
}

func (w *tracedWriter) Write(b []byte) (int, error) {
	if w.rid != "" && len(w.response) < ridBodyLimit {
		w.response = append(w.response, b[:min(len(b), ridBodyLimit-len(w.response))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Hijack lets a drop fault close the connection.
func (w *tracedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	return h.Hijack()
}

// traced wraps a handler so that an answer with a rid is remembered for
// openapi/rid/get. File uploads leave the body out (their handlers do not
// hand it over), as do endpoints whose body carries a secret.
func (e *Emulator) traced(endpoint string, fn platform.HandlerFunc) platform.HandlerFunc {
	showBody := !secretBodies[endpoint]
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		start := time.Now()
		tw := &tracedWriter{ResponseWriter: w}
		fn(tw, r, c)
		if tw.rid == "" {
			return
		}
		rec := &ridRecord{rid: tw.rid, appID: c.AppID, at: e.env.Clock.Now(), cost: time.Since(start),
			query: redactQuery(r.URL.RawQuery), response: strings.TrimRight(string(tw.response), "\n"), clientIP: clientIP(r)}
		if b := tw.body[:min(len(tw.body), ridBodyLimit)]; showBody && utf8.Valid(b) {
			rec.body = string(b)
		}
		e.rids.add(rec)
	}
}

// redactQuery hides the values of secret parameters.
func redactQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	for _, p := range secretParams {
		if _, ok := q[p]; ok {
			q.Set(p, "***")
		}
	}
	return q.Encode()
}
