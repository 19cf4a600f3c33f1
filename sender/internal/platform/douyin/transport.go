package douyin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
)

// maxAnswer bounds an answer body; Douyin's are a few hundred bytes.
const maxAnswer = 1 << 20

// Error codes the client gives failures that are not the platform's.
const (
	codeTimeout   = "timeout"
	codeNetwork   = "network"
	codeMalformed = "malformed"
)

// response is a received HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) ok() bool { return r.status >= 200 && r.status <= 299 }

// httpError is the error of a non-2xx answer, with the Retry-After hint.
func (r *response) httpError() *platform.Error {
	e := platform.HTTPStatusError(Platform, r.status)
	if s := r.header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// post sends body as JSON to base+path with the extra header (the token
// headers) and returns the answer, whatever its status. token is the token
// the call carries (if any), so it can be scrubbed from errors as well as
// the secret.
func (c *Client) post(ctx context.Context, base, path string, header http.Header, body any, token string) (*response, *platform.Error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Chinese keyword names and "&" in page queries go as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, &platform.Error{Platform: Platform, Code: codeMalformed, Class: message.OutcomePermanent,
			Message: "encode request to " + path + ": " + c.scrub(err.Error(), token)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, &buf)
	if err != nil {
		// NewRequest errors quote the URL: never pass them on.
		return nil, &platform.Error{Platform: Platform, Code: codeNetwork, Class: message.OutcomeRetryable,
			Message: "build request to " + path}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(path, err, token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	r := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if err != nil {
		if !r.ok() {
			return nil, r.httpError()
		}
		return nil, c.transportError(path, err, token)
	}
	if len(b) > maxAnswer {
		if !r.ok() {
			return nil, r.httpError()
		}
		return nil, malformed(path, "answer larger than 1 MiB")
	}
	return r, nil
}

// postOK is post for the APIs that answer every business error with HTTP
// 200: any other status is an HTTP error.
func (c *Client) postOK(ctx context.Context, base, path string, header http.Header, body any, token string) ([]byte, *platform.Error) {
	r, perr := c.post(ctx, base, path, header, body, token)
	if perr != nil {
		return nil, perr
	}
	if !r.ok() {
		return nil, r.httpError()
	}
	return r.body, nil
}

// transportError classifies a failed round trip (retryable) and strips the
// request URL that *url.Error prints (it holds no credential on Douyin, whose
// tokens travel in headers and bodies, but a proxy's URL might).
func (c *Client) transportError(path string, err error, token string) *platform.Error {
	code := codeNetwork
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		code = codeTimeout
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &platform.Error{Platform: Platform, Code: code, Class: message.OutcomeRetryable,
		Message: path + ": " + c.scrub(err.Error(), token)}
}

func malformed(path, what string) *platform.Error {
	return &platform.Error{Platform: Platform, Code: codeMalformed, Class: message.OutcomeRetryable,
		Message: path + ": malformed answer: " + what}
}

// secretFields matches credentials written as a query parameter, a header
// or a JSON field in text that came back from the platform or a proxy
// ("access_token=…", "access-token: …", "\"client_secret\":\"…\"").
var secretFields = regexp.MustCompile(`(?i)(access[_-]token|client[_-]secret|secret|x-token)("?\s*[:=]\s*"?)[^&\s"',;}]*`)

// scrub removes the secret, the given tokens and credential fields from
// text bound for an error.
func (c *Client) scrub(s string, token ...string) string {
	if c.cfg.Secret != "" {
		s = strings.ReplaceAll(s, c.cfg.Secret, "REDACTED")
	}
	for _, t := range token {
		if t != "" {
			s = strings.ReplaceAll(s, t, "REDACTED")
		}
	}
	return secretFields.ReplaceAllString(s, "${1}${2}REDACTED")
}

// errNo reads an err_no / error_code: a JSON integer. ok is false when it
// is absent or anything else (a float, a string, out of int64 range).
func errNo(raw json.RawMessage) (Code, bool) {
	n, ok := integer(raw)
	return Code(n), ok
}

// integer reads a JSON integer (not a float, not a string).
func integer(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return n, err == nil
}

// text reads a JSON string, or the literal of a number or boolean; "" for
// anything else.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "true" || t == "false" {
		return t
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return t
	}
	return ""
}

// decode unmarshals an answer. The error says where the answer went wrong
// but quotes nothing of it (json's type errors quote numbers).
func decode(path string, b []byte, v any) *platform.Error {
	err := json.Unmarshal(b, v)
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return malformed(path, "not JSON (byte "+strconv.FormatInt(se.Offset, 10)+")")
	case errors.As(err, &te) && te.Field != "":
		return malformed(path, te.Field+" has the wrong type")
	case errors.As(err, &te):
		return malformed(path, "not a JSON object")
	}
	return malformed(path, "undecodable JSON")
}
