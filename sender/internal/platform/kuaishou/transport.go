package kuaishou

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// post sends form as application/x-www-form-urlencoded (the documented
// encoding of both APIs) and returns the body of a 2xx answer. Every
// parameter travels in the body, none in the URL. token is the access token
// in the form (if any), so it can be scrubbed from errors as well as the
// secret.
func (c *Client) post(ctx context.Context, path string, form url.Values, token string) ([]byte, *platform.Error) {
	a, perr := c.api.PostForm(ctx, call.Request{URL: c.base + path, Name: path, Token: token}, form)
	if perr != nil {
		return nil, perr
	}
	return a.Body, nil
}

func malformed(path, what string) *platform.Error { return call.Malformed(Platform, path, what) }

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

func (c *Client) decodeAnswer(path string, b []byte) (answer, *platform.Error) {
	return call.Decode[answer](c.api, path, b)
}

// errText is the answer's error text: error_msg, else the short error name.
func (a answer) errText() string {
	if s := call.Text(a.ErrorMsg); s != "" {
		return s
	}
	return call.Text(a.Error)
}
