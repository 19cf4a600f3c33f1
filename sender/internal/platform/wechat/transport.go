package wechat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// contentJSON is the Content-Type of WeChat request bodies.
const contentJSON = "application/json; charset=utf-8"

// post sends body as JSON to path with query and returns the body of a 2xx
// answer. token is the access token in the query (if any), so it can be
// scrubbed from errors as well as the secret.
func (c *Client) post(ctx context.Context, path string, query url.Values, body any, token string) ([]byte, *platform.Error) {
	a, perr := c.api.PostJSON(ctx, call.Request{URL: c.url(path, query), Name: path, ContentType: contentJSON, Token: token}, body)
	if perr != nil {
		return nil, perr
	}
	return a.Body, nil
}

// postBody is post with the body already encoded as JSON.
func (c *Client) postBody(ctx context.Context, path string, query url.Values, body []byte, token string) ([]byte, *platform.Error) {
	a, perr := c.api.Do(ctx, call.Request{URL: c.url(path, query), Name: path, ContentType: contentJSON, Token: token, Body: body})
	if perr != nil {
		return nil, perr
	}
	return a.Body, nil
}

// get calls path with query and returns the body of a 2xx answer. The
// query of GET /cgi-bin/token holds the secret: call keeps the URL out of
// errors.
func (c *Client) get(ctx context.Context, path string, query url.Values) ([]byte, *platform.Error) {
	a, perr := c.api.Do(ctx, call.Request{Method: http.MethodGet, URL: c.url(path, query), Name: path})
	if perr != nil {
		return nil, perr
	}
	return a.Body, nil
}

func (c *Client) url(path string, query url.Values) string {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func malformed(path, what string) *platform.Error { return call.Malformed(Platform, path, what) }

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

func (c *Client) decodeAnswer(path string, b []byte) (answer, *platform.Error) {
	return call.Decode[answer](c.api, path, b)
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

// callGet is a GET of url carrying token (scrubbed from errors); name is
// the call's path.
func callGet(url, name, token string) call.Request {
	return call.Request{Method: http.MethodGet, URL: url, Name: name, Token: token}
}
