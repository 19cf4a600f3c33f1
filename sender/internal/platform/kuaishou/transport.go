package kuaishou

import (
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

// maxAnswer bounds an answer body; Kuaishou's are a few hundred bytes.
const maxAnswer = 1 << 20

// Error codes the client gives failures that are not the platform's.
const (
	codeTimeout   = "timeout"
	codeNetwork   = "network"
	codeMalformed = "malformed"
)

// post sends form as application/x-www-form-urlencoded (the documented
// encoding of both APIs) and returns the body of a 2xx answer. Every
// parameter travels in the body, none in the URL. token is the access token
// in the form (if any), so it can be scrubbed from errors as well as the
// secret.
func (c *Client) post(ctx context.Context, path string, form url.Values, token string) ([]byte, *platform.Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		// NewRequest errors quote the URL: never pass them on.
		return nil, &platform.Error{Platform: Platform, Code: codeNetwork, Class: message.OutcomeRetryable,
			Message: "build request to " + path}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(path, err, token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := platform.HTTPStatusError(Platform, resp.StatusCode)
		if s := resp.Header.Get("Retry-After"); s != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
				e.RetryAfter = time.Duration(n) * time.Second
			}
		}
		return nil, e
	}
	if err != nil {
		return nil, c.transportError(path, err, token)
	}
	if len(b) > maxAnswer {
		return nil, malformed(path, "answer larger than 1 MiB")
	}
	return b, nil
}

// transportError classifies a failed round trip (retryable) and strips the
// request URL that *url.Error prints.
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

// secretParams matches credentials in any URL-ish text that slipped
// through (app_secret=, access_token=).
var secretParams = regexp.MustCompile(`(?i)(access_token|secret)=[^&\s"']*`)

// scrub removes the secret, the given token and credential parameters from
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
	return secretParams.ReplaceAllString(s, "${1}=REDACTED")
}

// answer is the union of the answer fields the client reads. Numbers are
// read leniently (JSON number or digits in a string): the docs show
// numbers, but a field typed differently must not turn a delivered message
// into a failure.
type answer struct {
	Result      json.RawMessage `json:"result"`
	Error       json.RawMessage `json:"error"`
	ErrorMsg    json.RawMessage `json:"error_msg"`
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

func decodeAnswer(path string, b []byte) (answer, *platform.Error) {
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		// The JSON error names a byte or a Go type, never the body.
		return answer{}, malformed(path, err.Error())
	}
	return a, nil
}

// errText is the answer's error text: error_msg, else the short error name.
func (a answer) errText() string {
	if s := text(a.ErrorMsg); s != "" {
		return s
	}
	return text(a.Error)
}

// number reads an int64 written as a JSON number or a string of digits.
func number(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = strings.TrimSpace(uq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// text reads a JSON string; anything else is "".
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
