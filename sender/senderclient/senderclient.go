// Package senderclient is a Go client for the minipush sender's HTTP API
// (its OpenAPI document: GET /openapi.json). A Client is a value: make one
// per sender with New and functional options, share it between
// goroutines. Every call takes a context; errors from the API are *Error,
// carrying the status, the problems (which field broke which rule) and the
// reason.
//
// Calls the sender could not take now — 429 (the key is over its request
// rate) and 503 (storage unavailable; nothing was stored) — are retried by
// the retry policy, after the answer's Retry-After.
package senderclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one sender.
type Client struct {
	base  *url.URL
	key   string
	hc    *http.Client
	retry RetryPolicy
	agent string
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as Authorization: Bearer on every /v1/ call.
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// WithHTTPClient sends the calls through hc (default: a client with a 30 s
// timeout). Give one with a transport for TLS settings, proxies or tests.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetry sets the retry policy (default DefaultRetry; NoRetry turns
// retries off).
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// RetryPolicy says how calls answered 429 or 503 are tried again. Both
// answers mean the sender did not take the call (the rate limit refused it;
// storage could not store it), so retrying is safe for every call. The wait
// is the answer's Retry-After, or Backoff doubled per attempt without one,
// capped by MaxWait; a context that ends first ends the wait.
type RetryPolicy struct {
	// Attempts is the number of tries in all (1: no retry).
	Attempts int
	// Backoff is the first wait when the answer has no Retry-After.
	Backoff time.Duration
	// MaxWait caps each wait; a Retry-After longer than it is not waited
	// for and the answer is returned as an error.
	MaxWait time.Duration
}

// Retry policies.
var (
	DefaultRetry = RetryPolicy{Attempts: 4, Backoff: 200 * time.Millisecond, MaxWait: 10 * time.Second}
	NoRetry      = RetryPolicy{Attempts: 1}
)

// New returns a client for the sender at baseURL ("http://127.0.0.1:9200").
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("senderclient: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("senderclient: base URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, hc: &http.Client{Timeout: 30 * time.Second}, retry: DefaultRetry, agent: "minipush-senderclient"}
	for _, o := range opts {
		o(c)
	}
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// BaseURL is the sender's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Problem is one thing wrong with a request: the field (a JSON path such as
// "data.thing1", or a parameter), the rule it broke and a message.
type Problem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Error is an answer of 400 or more.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the answer's "error".
	Message string
	// Problems lists the fields at fault (422, and 400 where a field is).
	Problems []Problem
	// Reason is the answer's reason from the sender's vocabulary, where it
	// gives one ("" otherwise).
	Reason string
	// RetryAfter is the answer's Retry-After (429, 503), or 0.
	RetryAfter time.Duration
	// CSV is the report of a refused CSV upload (422): what was read
	// before it was refused, its bad rows with their lines.
	CSV *AudienceReport
	// Method and Path say which call failed.
	Method, Path string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Message != "" {
		b.WriteString(" ")
		b.WriteString(e.Message)
	}
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "; %s: %s", p.Field, p.Message)
	}
	return b.String()
}

// Problem returns the problem naming field, if any.
func (e *Error) Problem(field string) (Problem, bool) {
	for _, p := range e.Problems {
		if p.Field == field {
			return p, true
		}
	}
	return Problem{}, false
}

// StatusCode is err's HTTP status when it is an *Error, else 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// call is one API call: body (nil: none) is sent as JSON, a 2xx answer is
// decoded into out (nil: discarded). It returns the answer's status.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, header http.Header, body, out any) (int, error) {
	payload, err := marshal(body)
	if err != nil {
		return 0, err
	}
	for attempt := 1; ; attempt++ {
		status, raw, hdr, err := c.roundTrip(ctx, method, path, query, header, payload)
		if err != nil {
			return 0, err
		}
		if status < 400 {
			if out != nil && status != http.StatusNoContent {
				if err := decodeAnswer(raw, out); err != nil {
					return status, fmt.Errorf("senderclient: %s %s: answer %d: %w", method, path, status, err)
				}
			}
			return status, nil
		}
		apiErr := newError(method, path, status, raw, hdr)
		wait, retry := c.backoff(attempt, apiErr)
		if !retry {
			return status, apiErr
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return status, fmt.Errorf("%w (while waiting to retry: %w)", apiErr, ctx.Err())
		case <-t.C:
		}
	}
}

// backoff says whether to retry after the attempt-th answer, and when.
func (c *Client) backoff(attempt int, e *Error) (time.Duration, bool) {
	if attempt >= c.retry.Attempts || (e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	wait := e.RetryAfter
	if wait == 0 {
		wait = c.retry.Backoff << (attempt - 1)
	}
	if c.retry.MaxWait > 0 && wait > c.retry.MaxWait {
		if e.RetryAfter > 0 {
			return 0, false // the sender asks for longer than the caller will wait
		}
		wait = c.retry.MaxWait
	}
	return wait, true
}

func (c *Client) roundTrip(ctx context.Context, method, path string, query url.Values, header http.Header, payload []byte) (int, []byte, http.Header, error) {
	req, err := c.newRequest(ctx, method, path, query, header, payload)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("senderclient: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("senderclient: %s %s: read answer: %w", method, path, err)
	}
	return resp.StatusCode, raw, resp.Header, nil
}

// newRequest builds one call's request.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, header http.Header, payload []byte) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	if strings.Contains(path, "%") {
		// Escaped path segments (a group name with a slash) stay escaped.
		u.RawPath = c.base.EscapedPath() + path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	u.RawQuery = query.Encode()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("senderclient: %s %s: %w", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	return req, nil
}

// marshal encodes a request body (nil: none).
func marshal(body any) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("senderclient: encode the request: %w", err)
	}
	return b, nil
}

func decodeAnswer(raw []byte, out any) error {
	if s, ok := out.(*string); ok {
		*s = string(raw)
		return nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = raw
		return nil
	}
	return json.Unmarshal(raw, out)
}

// newError reads an error answer; a body that is not the API's error shape
// (a proxy's page) becomes the message, clipped.
func newError(method, path string, status int, raw []byte, hdr http.Header) *Error {
	e := &Error{StatusCode: status, Method: method, Path: path, RetryAfter: retryAfter(hdr.Get("Retry-After"), time.Now())}
	var body struct {
		Error    string          `json:"error"`
		Reason   string          `json:"reason"`
		Problems []Problem       `json:"problems"`
		CSV      *AudienceReport `json:"csv"`
	}
	if err := json.Unmarshal(raw, &body); err == nil && body.Error != "" {
		e.Message, e.Reason, e.Problems, e.CSV = body.Error, body.Reason, body.Problems, body.CSV
		return e
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Message = msg
	return e
}

// retryAfter reads Retry-After: seconds, or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
