package wechat

import (
	"context"
	"net/url"
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
)

// Token endpoints (docs/platforms/wechat.md).
const (
	pathToken       = "/cgi-bin/token"
	pathStableToken = "/cgi-bin/stable_token"
)

type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// fetchToken is the broker's FetchFunc. It never force-refreshes the stable
// token: a forced refresh kills the token every other holder is using, is
// limited to 20 a day, and after a 40001 the normal mode already returns
// the platform's current token.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	var (
		b    []byte
		perr *platform.Error
		path = pathStableToken
	)
	if c.cfg.LegacyToken {
		path = pathToken
		q := url.Values{"grant_type": {"client_credential"}, "appid": {c.cfg.AppID}, "secret": {c.cfg.Secret}}
		b, perr = c.get(ctx, path, q)
	} else {
		req := stableTokenRequest{GrantType: "client_credential", AppID: c.cfg.AppID, Secret: c.cfg.Secret}
		b, perr = c.post(ctx, path, nil, req, "")
	}
	if perr != nil {
		return "", 0, perr
	}
	return c.parseToken(path, b)
}

// parseToken reads {"access_token","expires_in"} or {"errcode","errmsg"}.
func (c *Client) parseToken(path string, b []byte) (string, time.Duration, error) {
	a, perr := c.decodeAnswer(path, b)
	if perr != nil {
		return "", 0, perr
	}
	if a.ErrCode != nil && *a.ErrCode != 0 {
		e := c.classify(tokenRules, Code(*a.ErrCode), a.ErrMsg)
		e.Message = "access token: " + e.Message
		return "", 0, e
	}
	switch {
	case a.AccessToken == "":
		return "", 0, malformed(path, "no access_token")
	case a.ExpiresIn <= 0:
		return "", 0, malformed(path, "no expires_in")
	}
	return a.AccessToken, time.Duration(a.ExpiresIn) * time.Second, nil
}
