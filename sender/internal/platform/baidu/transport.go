package baidu

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

// maxAnswer bounds an answer body; Baidu's are a few hundred bytes.
const maxAnswer = 1 << 20

// Content types of the requests: forms for the token and send APIs
// ("实际请求使用form 不是json"), JSON for syncCheckText.
const (
	contentForm = "application/x-www-form-urlencoded"
	contentJSON = "application/json"
)

// Error codes the client gives failures that are not the platform's.
const (
	codeTimeout   = "timeout"
	codeNetwork   = "network"
	codeMalformed = "malformed"
)

// request is one POST.
type request struct {
	path        string
	query       url.Values // the access token, if any
	contentType string
	body        string
	token       string // scrubbed from errors
	// oauth: the token endpoint, which answers its errors with HTTP 400 (or
	// 401) and a JSON body the caller must read.
	oauth bool
}

// call makes one POST and returns the status and body of a 2xx answer, or
// of a 400/401 when r.oauth. Other statuses are classified here.
func (c *Client) call(ctx context.Context, r request) (int, []byte, *platform.Error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(r.body))
	if err != nil {
		// NewRequest errors quote the URL, which holds the token: never
		// pass them on.
		return 0, nil, &platform.Error{Platform: Platform, Code: codeNetwork, Class: message.OutcomeRetryable,
			Message: "build request to " + r.path}
	}
	req.Header.Set("Content-Type", r.contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.transportError(r.path, err, r.token)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	oauthStatus := r.oauth && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized)
	if (resp.StatusCode < 200 || resp.StatusCode > 299) && !oauthStatus {
		return 0, nil, httpError(resp)
	}
	if err != nil {
		return 0, nil, c.transportError(r.path, err, r.token)
	}
	if len(b) > maxAnswer {
		return 0, nil, malformed(r.path, "answer larger than 1 MiB")
	}
	return resp.StatusCode, b, nil
}

// httpError classifies a non-2xx answer, honouring a Retry-After.
func httpError(resp *http.Response) *platform.Error {
	e := platform.HTTPStatusError(Platform, resp.StatusCode)
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// transportError classifies a failed round trip (retryable) and strips the
// request URL: *url.Error prints it, and its query carries the token.
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
// through (access_token=, client_secret=).
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

// answer is the union of Baidu's three answer shapes. Numbers are read
// leniently (a JSON number or digits in a string): the official SDK types
// msg_key as a string while the doc's examples show numbers.
type answer struct {
	// OAuth (token endpoint errors).
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
	// Gateway.
	ErrorCode json.RawMessage `json:"error_code"`
	ErrorMsg  json.RawMessage `json:"error_msg"`
	// Business.
	Errno json.RawMessage `json:"errno"`
	Msg   json.RawMessage `json:"msg"`
	Data  json.RawMessage `json:"data"`
	// Token.
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

// gateway reports a gateway error: a non-zero error_code. An error_code of
// 0 (or null) is none, as in the official SDK.
func (a answer) gateway() (GatewayCode, bool) {
	n, ok := number(a.ErrorCode)
	return GatewayCode(n), ok && n != 0
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
