package platformtest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// Canned is an in-memory http.RoundTripper standing in for a platform: its
// token path answers a working token, every other path the answer last
// Set. A client built on Canned.Client runs its whole Send path — request,
// status classification, body parsing — with no socket, so a fuzzer can
// drive it a million times (a server and connection per input used up the
// machine's ephemeral ports in about 20 seconds).
type Canned struct {
	tokenPath, tokenAnswer string

	mu     sync.Mutex
	answer Answer
}

// NewCanned answers tokenPath with tokenAnswer and everything else with 200
// and an empty body until Set.
func NewCanned(tokenPath, tokenAnswer string) *Canned {
	return &Canned{tokenPath: tokenPath, tokenAnswer: tokenAnswer, answer: Answer{Status: http.StatusOK}}
}

// Set replaces the answer to every path but the token's.
func (c *Canned) Set(a Answer) {
	c.mu.Lock()
	c.answer = a
	c.mu.Unlock()
}

// Client is an HTTP client whose every call Canned answers.
func (c *Canned) Client() *http.Client { return &http.Client{Transport: c} }

// RoundTrip answers req.
func (c *Canned) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	a := Answer{Status: http.StatusOK, Body: []byte(c.tokenAnswer)}
	if req.URL.Path != c.tokenPath {
		c.mu.Lock()
		a = c.answer
		c.mu.Unlock()
	}
	h := a.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{Status: http.StatusText(a.Status), StatusCode: a.Status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(a.Body)), ContentLength: int64(len(a.Body)), Request: req}, nil
}
