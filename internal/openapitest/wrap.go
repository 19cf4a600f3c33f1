package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
)

// Wrap returns h with every exchange in scope checked against the document
// once h has answered. The request body is read ahead (up to
// MaxValidatedBody) and handed to h unchanged; the answer is passed through
// as it is written, streaming and flushing included.
func (c *Checker) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.inScope(r) {
			h.ServeHTTP(w, r)
			return
		}
		var body []byte
		whole := true
		if r.Body != nil && r.Body != http.NoBody {
			b, ok, rest, err := readUpTo(r.Body)
			body, whole = b, ok && err == nil
			r.Body = readCloser{rest, r.Body}
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		rec.snapshot(http.StatusOK)
		c.checkLater(exchange{req: r.Clone(context.WithoutCancel(r.Context())), body: body, bodyOK: whole,
			status: rec.status, header: rec.header, answer: rec.buf.Bytes(), answerOK: !rec.over})
	})
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// recorder passes an answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	header http.Header
	buf    bytes.Buffer
	over   bool // the answer was longer than what is kept
}

func (r *recorder) snapshot(status int) {
	if r.status == 0 {
		r.status, r.header = status, r.ResponseWriter.Header().Clone()
	}
}

func (r *recorder) WriteHeader(status int) {
	// 1xx answers (103 Early Hints) are not the final answer.
	if status >= 200 {
		r.snapshot(status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.snapshot(http.StatusOK)
	if room := MaxValidatedBody - r.buf.Len(); len(b) > room {
		r.over = true
		r.buf.Write(b[:max(room, 0)])
	} else {
		r.buf.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Flush and Unwrap keep streaming answers and http.ResponseController
// (deadline extensions) working through the wrapper.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		r.snapshot(http.StatusOK)
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands over the connection (nothing is checked afterwards).
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("openapitest: the ResponseWriter cannot be hijacked")
}

// Transport returns a RoundTripper (rt, or http.DefaultTransport when nil)
// that checks every exchange in scope against the document: for tests that
// drive a server they do not build themselves.
func (c *Checker) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper{c, rt}
}

type roundTripper struct {
	c  *Checker
	rt http.RoundTripper
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.c.inScope(req) {
		return t.rt.RoundTrip(req)
	}
	var body []byte
	whole := true
	sent := req
	if req.Body != nil && req.Body != http.NoBody {
		b, ok, rest, err := readUpTo(req.Body)
		if err != nil {
			req.Body.Close()
			return nil, err
		}
		body, whole = b, ok
		sent = req.Clone(req.Context())
		sent.Body = readCloser{rest, req.Body}
	}
	resp, err := t.rt.RoundTrip(sent)
	if err != nil {
		return resp, err
	}
	answer, answerOK, rest, err := readUpTo(resp.Body)
	resp.Body = readCloser{rest, resp.Body}
	if err != nil {
		// A connection cut mid-answer is the test's to see, not a
		// contract mismatch.
		return resp, nil
	}
	t.c.checkLater(exchange{req: req.Clone(context.WithoutCancel(req.Context())), body: body, bodyOK: whole,
		status: resp.StatusCode, header: resp.Header.Clone(), answer: answer, answerOK: answerOK})
	return resp, nil
}
