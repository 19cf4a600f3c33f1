package wechat

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

// maxAnswer bounds an answer body; WeChat's are a few hundred bytes.
const maxAnswer = 1 << 20

// Error codes the client gives failures that are not the platform's.
const (
	codeTimeout   = "timeout"
	codeNetwork   = "network"
	codeMalformed = "malformed"
)

// call makes one HTTP call and returns the body of a 2xx answer. token is
// the access token in the query (if any), so it can be scrubbed from
// errors as well as the secret.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, token string) ([]byte, *platform.Error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Chinese text and "&" in page queries go as they are, like the SDKs.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, &platform.Error{Platform: Platform, Code: codeMalformed, Class: message.OutcomePermanent,
				Message: "encode request to " + path + ": " + c.scrub(err.Error(), token)}
		}
		rd = &buf
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		// NewRequest errors quote the URL: never pass them on.
		return nil, &platform.Error{Platform: Platform, Code: codeNetwork, Class: message.OutcomeRetryable,
			Message: "build request to " + path}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(path, err, token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := platform.HTTPStatusError(Platform, resp.StatusCode)
		if e.Message == "" { // a status with no standard text (e.g. 493)
			e.Message = "HTTP status " + strconv.Itoa(resp.StatusCode)
		}
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
// request URL: *url.Error prints it, and its query carries the token (or,
// for GET /cgi-bin/token, the secret).
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

// secretParams matches credentials in any URL-ish text that slipped through.
var secretParams = regexp.MustCompile(`(?i)(access_token|secret)=[^&\s"']*`)

// scrub removes the secret, the given token and credential query
// parameters from text bound for an error.
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

// answer is the union of the answer fields the client reads.
type answer struct {
	ErrCode     *int64          `json:"errcode"`
	ErrMsg      string          `json:"errmsg"`
	MsgID       json.RawMessage `json:"msgid"`
	AccessToken string          `json:"access_token"`
	ExpiresIn   int64           `json:"expires_in"`
	Result      *struct {
		Suggest string          `json:"suggest"`
		Label   json.RawMessage `json:"label"`
	} `json:"result"`
}

func decodeAnswer(path string, b []byte) (answer, *platform.Error) {
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		// The JSON error names a byte or a Go type, never the body.
		return answer{}, malformed(path, err.Error())
	}
	return a, nil
}

// numberText reads an int64 written as a JSON number or a string of digits
// (msgid, label); "" when it is neither. Never through float64: msgids
// exceed 2^53.
func numberText(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = uq
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
