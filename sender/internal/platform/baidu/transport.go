package baidu

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// Content types of the requests: forms for the token and send APIs
// ("实际请求使用form 不是json"), JSON for syncCheckText.
const (
	contentForm = "application/x-www-form-urlencoded"
	contentJSON = "application/json"
)

// oauthAnswers are the statuses of the token endpoint's answers: it
// answers its errors with HTTP 400 (or 401) and a JSON body to read.
func oauthAnswers(status int) bool {
	return success(status) || status == http.StatusBadRequest || status == http.StatusUnauthorized
}

// tokenURL is the URL of path with the access token in the query (the
// FAQ: a token in the form body answers "Invalid parameter"). call keeps
// that URL out of errors.
func (c *Client) tokenURL(path, token string) string {
	return c.base + path + "?" + url.Values{"access_token": {token}}.Encode()
}

func malformed(path, what string) *platform.Error { return call.Malformed(Platform, path, what) }

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

func (c *Client) decodeAnswer(path string, b []byte) (answer, *platform.Error) {
	return call.Decode[answer](c.api, path, b)
}

// gateway reports a gateway error: a non-zero error_code. An error_code of
// 0 (or null) is none, as in the official SDK.
func (a answer) gateway() (GatewayCode, bool) {
	n, ok := call.Number(a.ErrorCode)
	return GatewayCode(n), ok && n != 0
}
