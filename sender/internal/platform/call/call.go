// Package call makes a platform client's HTTP calls: it sends one request,
// reads the answer (bounded), and turns every failure on the way — a request
// that cannot be built, a dropped or timed-out connection, a non-2xx status,
// an unreadable or oversized body — into a classified *platform.Error whose
// text carries no credential.
//
// What a platform answers inside a readable body (its codes, its shapes) is
// not read here: that stays in the platform's own package.
package call

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Codes of the failures that are not the platform's.
const (
	CodeTimeout   = "timeout"   // the call ran out of time
	CodeNetwork   = "network"   // refused, dropped or unbuildable
	CodeMalformed = "malformed" // an answer the client cannot read, or a request it cannot encode
)

// MaxAnswer bounds an answer body. The platforms' answers are a few hundred
// bytes; a larger one is not theirs (an error page, a runaway proxy).
const MaxAnswer = 1 << 20

// DefaultTimeout bounds one call when the client is given no *http.Client.
const DefaultTimeout = 10 * time.Second

// Client makes one platform client's calls. Safe for concurrent use.
type Client struct {
	platform string
	http     *http.Client
	scrub    Scrubber
}

// New returns a Client whose errors name platformName and pass through s.
// hc nil means a client with DefaultTimeout.
func New(platformName string, hc *http.Client, s Scrubber) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{platform: platformName, http: hc, scrub: s}
}

// Scrub removes the client's secret, the given tokens and credential
// fields from text bound for an error.
func (c *Client) Scrub(text string, tokens ...string) string { return c.scrub.Scrub(text, tokens...) }

// Request is one call.
type Request struct {
	Method string // GET or POST; "" is POST
	URL    string // the whole URL, query included
	// Name is the call in errors: its path, or the platform's method name.
	// Never the URL, whose query may hold a token or a secret.
	Name        string
	ContentType string // of Body; none when ""
	Accept      string // "" is application/json
	Header      http.Header
	Body        []byte
	// Token is the access token the call carries (in the URL, a header or
	// the body), scrubbed from errors like the secret.
	Token string
	// Answers reports the statuses whose body is the platform's answer; nil
	// means 2xx. Any other status is a classified HTTP error, unless
	// AnyStatus.
	Answers func(status int) bool
	// AnyStatus returns the answer whatever its status, for APIs that send
	// their errors with their own HTTP status and a body to read. A body
	// that cannot be read under a status Answers does not accept is still
	// that status's error.
	AnyStatus bool
}

func (r *Request) answers(status int) bool {
	if r.Answers == nil {
		return success(status)
	}
	return r.Answers(status)
}

// Answer is a received answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (a *Answer) OK() bool { return success(a.Status) }

// StatusError classifies the answer's status for platformName, with the
// answer's Retry-After hint.
func (a *Answer) StatusError(platformName string) *platform.Error {
	return StatusError(platformName, a.Status, a.Header)
}

func success(status int) bool { return status >= 200 && status <= 299 }

// Do makes the call: see Request for which answers it returns.
func (c *Client) Do(ctx context.Context, r Request) (*Answer, *platform.Error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		// NewRequest errors quote the URL: never pass them on.
		return nil, &platform.Error{Platform: c.platform, Code: CodeNetwork, Class: message.OutcomeRetryable,
			Reason: reason.Network, Message: "build request to " + r.Name}
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	accept := r.Accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(r.Name, err, r.Token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	a := &Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if err != nil || len(b) > MaxAnswer {
		// What the status says beats what went wrong with the body.
		switch {
		case !r.answers(a.Status):
			return nil, a.StatusError(c.platform)
		case err != nil:
			return nil, c.transportError(r.Name, err, r.Token)
		}
		return nil, Malformed(c.platform, r.Name, "answer larger than 1 MiB")
	}
	if !r.AnyStatus && !r.answers(a.Status) {
		return nil, a.StatusError(c.platform)
	}
	return a, nil
}

// PostJSON posts v as JSON (see JSON) with r's Content-Type, else
// application/json.
func (c *Client) PostJSON(ctx context.Context, r Request, v any) (*Answer, *platform.Error) {
	b, err := JSON(v)
	if err != nil {
		return nil, &platform.Error{Platform: c.platform, Code: CodeMalformed, Class: message.OutcomePermanent,
			Reason: reason.InvalidRequest, Message: "encode request to " + r.Name + ": " + c.Scrub(err.Error(), r.Token)}
	}
	r.Body = b
	if r.ContentType == "" {
		r.ContentType = "application/json"
	}
	return c.Do(ctx, r)
}

// PostForm posts form with r's Content-Type, else
// application/x-www-form-urlencoded.
func (c *Client) PostForm(ctx context.Context, r Request, form url.Values) (*Answer, *platform.Error) {
	r.Body = []byte(form.Encode())
	if r.ContentType == "" {
		r.ContentType = "application/x-www-form-urlencoded"
	}
	return c.Do(ctx, r)
}

// Decode unmarshals the body of c's answer to the call name. The error
// names a byte or a Go type, never the body.
func Decode[T any](c *Client, name string, b []byte) (T, *platform.Error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		var zero T
		return zero, Malformed(c.platform, name, err.Error())
	}
	return v, nil
}

// transportError classifies a failed round trip (retryable) and strips the
// request URL: *url.Error prints it, and its query may carry a token or a
// secret.
func (c *Client) transportError(name string, err error, token string) *platform.Error {
	code := CodeNetwork
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		code = CodeTimeout
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &platform.Error{Platform: c.platform, Code: code, Class: message.OutcomeRetryable, Reason: reason.Network,
		Message: name + ": " + c.Scrub(err.Error(), token)}
}

// Malformed is the error of an answer the client cannot read: retryable,
// since a proxy's page or a garbled answer is not the platform's last word.
func Malformed(platformName, name, what string) *platform.Error {
	return &platform.Error{Platform: platformName, Code: CodeMalformed, Class: message.OutcomeRetryable,
		Reason: reason.PlatformUnavailable, Message: name + ": malformed answer: " + what}
}

// StatusError classifies a non-2xx status (see platform.HTTPStatusError)
// and keeps a Retry-After given in seconds as the hint.
func StatusError(platformName string, status int, h http.Header) *platform.Error {
	e := platform.HTTPStatusError(platformName, status)
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// JSON encodes v the way the platforms' SDKs do: Chinese text, "&" and "<"
// (in page queries and values) as they are, not HTML-escaped. The text ends
// in a newline, as json.Encoder writes it.
func JSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// JSONText is JSON without the newline: a JSON value carried as text inside
// a form field or another JSON document.
func JSONText(v any) (string, error) {
	b, err := JSON(v)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(b, []byte("\n"))), nil
}

// Number reads an int64 an answer wrote as a JSON number or as a string of
// digits (platforms and their SDKs disagree on such types).
func Number(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = strings.TrimSpace(uq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Text reads a JSON string; anything else is "".
func Text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
