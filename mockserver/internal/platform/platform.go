// Package platform is what every platform emulation shares: the world it
// reads (store, clock, content rules, quotas), where it writes (inbox,
// journal, pushes to developers' servers), fault injection, and the
// per-call record that the journal keeps.
package platform

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/redact"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Env is the shared state of one mock server.
type Env struct {
	Store   *store.Store
	Clock   *clock.Clock
	Faults  *faults.Set
	Content *content.Rules
	Quota   *quota.Counter
	Inbox   *ring.Ring[mockapi.Message]
	Journal *ring.Ring[mockapi.Request]
	Log     *slog.Logger
	// CaptureLimit bounds the bytes of each call's request body and answer
	// the journal keeps (secrets masked); 0 keeps neither.
	CaptureLimit int
	// Push delivers what the platform pushes to developers' servers.
	Push *push.Engine

	msgSeq    atomic.Uint64
	delivered atomic.Uint64
	lastQuery atomic.Pointer[queryMask]
}

// msgIDBase makes message ids look like the platforms' int64 ids, which
// exceed 2^53 (so clients that decode them as float64 lose precision, as
// they would in production).
const msgIDBase = 1_700_000_000_000_000_000

// NextMsgID returns a new unique platform message id.
func (e *Env) NextMsgID() int64 { return msgIDBase + int64(e.msgSeq.Add(1)) }

// Deliver puts an accepted message in the inbox (of kind subscribe unless
// it says otherwise).
// The id is assigned under the inbox's lock, so concurrent sends never
// share one.
func (e *Env) Deliver(m mockapi.Message) {
	if m.Kind == "" {
		m.Kind = mockapi.KindSubscribe
	}
	e.delivered.Add(1)
	e.Inbox.AppendStamped(m, stampMessage)
}

// stampMessage gives an inbox message its id from its place ("m1", …).
func stampMessage(m *mockapi.Message, seq uint64) { m.ID = "m" + strconv.FormatUint(seq+1, 10) }

// Delivered counts messages accepted since the last reset.
func (e *Env) Delivered() uint64 { return e.delivered.Load() }

// ResetCounters zeroes the counters (reset returns everything to the seed).
func (e *Env) ResetCounters() { e.delivered.Store(0) }

// Call is the journal record of one platform call, filled in by the
// handler as it learns who is calling and what it answers.
type Call struct {
	Platform string
	Endpoint string
	AppID    string
	OpenID   string
	ErrCode  int
	Fault    string

	// w and r are the call's own writer and request, for lifting the
	// answer's write deadline (see Fault).
	w http.ResponseWriter
	r *http.Request
}

type callWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
	answer   capture
}

func (w *callWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *callWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.answer.add(b)
	return w.ResponseWriter.Write(b)
}

// Hijack lets a drop fault close the connection.
func (w *callWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	w.hijacked = true
	return h.Hijack()
}

// HandlerFunc is a platform endpoint handler.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, c *Call)

// callState is what Handle keeps of one call: one allocation for the
// writer, the body's capture and the journal's record.
type callState struct {
	cw   callWriter
	body capture
	cb   captureBody
	c    Call
}

// Handle wraps a platform endpoint so every call lands in the journal.
func (e *Env) Handle(platformName, endpoint string, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &callState{}
		st.cw = callWriter{ResponseWriter: w, answer: capture{limit: e.CaptureLimit}}
		st.body = capture{limit: e.CaptureLimit, hint: int(min(max(r.ContentLength, 0), int64(e.CaptureLimit)))}
		if r.Body != nil && r.Body != http.NoBody {
			st.cb = captureBody{ReadCloser: r.Body, c: &st.body}
			r.Body = &st.cb
		}
		c, cw := &st.c, &st.cw
		*c = Call{Platform: platformName, Endpoint: endpoint, w: w, r: r}
		h(cw, r, c)
		switch {
		case cw.hijacked:
			cw.status = 0 // dropped: the client got no answer at all
		case cw.status == 0:
			cw.status = http.StatusOK
		}
		// One reading of the clock for both: the record's time is the mock
		// clock's Now (real time plus its offset), the latency real time.
		end := time.Now()
		rec := mockapi.Request{
			Time: end.Add(e.Clock.Offset()), Platform: c.Platform, Endpoint: c.Endpoint, Method: r.Method,
			Path: r.URL.Path, AppID: c.AppID, OpenID: c.OpenID, Status: cw.status, ErrCode: c.ErrCode,
			Fault: c.Fault, LatencyMS: float64(end.Sub(start).Microseconds()) / 1000,
			Query: e.maskedQuery(r.URL.RawQuery), BodyBytes: st.body.n, AnswerBytes: cw.answer.n,
		}
		rec.Body, rec.BodyTruncated = st.body.text()
		rec.Answer, rec.AnswerTruncated = cw.answer.text()
		e.Journal.AppendStamped(rec, stampRequest)
	})
}

// maskedQuery is redact.Query(raw), remembering the last answer: a load
// test sends the same access token in every call's query, and masking it
// makes a new string each time.
func (e *Env) maskedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	if last := e.lastQuery.Load(); last != nil && last.raw == raw {
		return last.masked
	}
	m := redact.Query(raw)
	e.lastQuery.Store(&queryMask{raw: raw, masked: m})
	return m
}

type queryMask struct{ raw, masked string }

// stampRequest numbers a journal record (1, 2, … since the last reset).
func stampRequest(rec *mockapi.Request, seq uint64) { rec.Seq = seq + 1 }

// latencyWriteGrace is the time left to answer after an injected latency.
const latencyWriteGrace = 30 * time.Second

// capture keeps the first limit bytes written to it and counts them all.
type capture struct {
	buf   []byte
	n     int64
	limit int
	hint  int // the expected size, when known
}

func (c *capture) add(p []byte) {
	c.n += int64(len(p))
	room := c.limit - len(c.buf)
	if room <= 0 || len(p) == 0 {
		return
	}
	if len(p) > room {
		p = p[:room]
	}
	if c.buf == nil {
		// Sized for what is known: the body's Content-Length, else this
		// first write (an answer is mostly one write); append grows it.
		c.buf = make([]byte, 0, min(c.limit, max(len(p), c.hint)))
	}
	c.buf = append(c.buf, p...)
}

// adopt is add(b) for a capture that has seen nothing yet, sharing b's
// bytes instead of copying them when b fits the limit (b is never written
// again; the capture's slice is capped, so a later add copies). A longer b
// is copied up to the limit: a record sharing it would keep the whole
// body alive in the journal for the sake of its first limit bytes.
func (c *capture) adopt(b []byte) {
	if len(b) > c.limit {
		c.add(b)
		return
	}
	c.n += int64(len(b))
	if len(b) > 0 {
		c.buf = b[:len(b):len(b)]
	}
}

// text is the capture with secrets masked, as valid UTF-8 (binary bodies
// are bounded by the limit and shown with replacement characters), and
// whether it was cut at the limit.
func (c *capture) text() (string, bool) {
	if len(c.buf) == 0 {
		return "", false
	}
	masked := redact.Text(c.buf)
	// The capture's buffer (or the masked copy) is never written again: the
	// text shares its bytes instead of copying them.
	text := unsafe.String(&masked[0], len(masked))
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	return text, c.n > int64(len(c.buf))
}

// captureBody records what a handler reads of a request body.
type captureBody struct {
	io.ReadCloser
	c *capture
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.add(p[:n])
	return n, err
}

// Fault matches c against the injected faults. A latency is served here
// (cut short if the client goes away). It returns the action when it
// replaces the platform's answer; the emulation then answers with it
// (ErrCode in the platform's own error shape) or calls Abort.
func (e *Env) Fault(ctx context.Context, c *Call) (faults.Action, bool) {
	a, ok := e.Faults.Match(faults.Call{Platform: c.Platform, Endpoint: c.Endpoint, AppID: c.AppID, OpenID: c.OpenID})
	if !ok {
		return a, false
	}
	c.Fault = a.ID
	if a.Latency > 0 {
		// An injected latency is the platform being slow, not the mock:
		// the server's write timeout must not turn it into a dropped
		// connection, so the answer gets the latency on top of it.
		if c.w != nil {
			httpserver.ExtendWriteDeadline(c.w, c.r, a.Latency+latencyWriteGrace)
		}
		t := time.NewTimer(a.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return a, a.Terminal()
}

// Abort serves a non-errcode fault action: a dropped connection or a bare
// HTTP status. It reports whether it handled the action.
func Abort(w http.ResponseWriter, a faults.Action) bool {
	switch {
	case a.Drop:
		if h, ok := w.(http.Hijacker); ok {
			if conn, _, err := h.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		// HTTP/2 or a test recorder: abort the handler the net/http way.
		panic(http.ErrAbortHandler)
	case a.HTTPStatus != 0:
		body := http.StatusText(a.HTTPStatus)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.HTTPStatus)
		_, _ = w.Write([]byte("<html><body><h1>" + strconv.Itoa(a.HTTPStatus) + " " + body + "</h1></body></html>"))
		return true
	}
	return false
}

// Take applies the app's quota for endpoint; on refusal it returns the limit
// that was reached.
func (e *Env) Take(app *store.App, endpoint string) (quota.Limit, bool) {
	if !quota.Limited(app.Limits, endpoint) {
		// No limit (most endpoints): no key to build, no clock to read.
		return quota.Limit{}, true
	}
	return e.Quota.Take(app.Platform+"/"+app.AppID, app.Limits, endpoint, e.Clock.Now())
}

// ReadBody is io.ReadAll(http.MaxBytesReader(w, r.Body, limit)) with the
// buffer sized from the request's Content-Length (ReadAllSized). The
// journal's capture of the body shares the bytes returned: the caller must
// not write to them.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if cb, ok := r.Body.(*captureBody); ok && cb.c.n == 0 {
		// The whole body in one buffer: the capture takes the bytes read
		// instead of copying each read.
		body, err := ReadAllSized(http.MaxBytesReader(w, cb.ReadCloser, limit), r.ContentLength, limit)
		cb.c.adopt(body)
		return body, err
	}
	return ReadAllSized(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
}

// ReadAllSized is io.ReadAll(rd) with a first buffer for size bytes when
// 0 < size < limit (a request's Content-Length within its body limit): one
// allocation where ReadAll's doubling from 512 bytes makes several for a
// typical send.
func ReadAllSized(rd io.Reader, size, limit int64) ([]byte, error) {
	c := int64(512)
	if size > 0 && size < limit {
		c = size + 1 // room to see EOF without growing
	}
	b := make([]byte, 0, c)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the growth
		}
	}
}
