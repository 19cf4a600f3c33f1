package kuaishou

import (
	"context"
	"net/url"
	"time"

	"github.com/minipush/minipush/sender/internal/platform/call"
)

// pathToken is the app access-token API (docs/platforms/kuaishou.md).
const pathToken = "/oauth2/access_token"

// maxTokenLife: "access_token 48小时内有效". The docs' sample expires_in
// values (23435 in one, 3600000 in the field table) disagree with that
// sentence; a longer expires_in is cut to 48 h, and a missing or
// unreadable one is taken as 48 h.
const (
	maxTokenLife    = 48 * time.Hour
	maxTokenSeconds = int64(maxTokenLife / time.Second)
)

// fetchToken is the broker's FetchFunc: a form POST with app_id,
// app_secret and grant_type=client_credentials (plural, unlike Douyin).
// The doc also shows a GET with the parameters in the query; POST keeps the
// secret out of the URL. A refetch leaves earlier tokens valid
// ("新老token同时有效"), so fetching never hurts another holder.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"app_id": {c.cfg.AppID}, "app_secret": {c.cfg.Secret}, "grant_type": {"client_credentials"}}
	b, perr := c.post(ctx, pathToken, form, "")
	if perr != nil {
		return "", 0, perr
	}
	return c.parseToken(b)
}

// parseToken reads {"result":1,"access_token","expires_in","token_type"}
// or {"result":N,"error","error_msg"}.
func (c *Client) parseToken(b []byte) (string, time.Duration, error) {
	a, perr := c.decodeAnswer(pathToken, b)
	if perr != nil {
		return "", 0, perr
	}
	result, ok := call.Number(a.Result)
	switch {
	case !ok:
		return "", 0, malformed(pathToken, "no result")
	case Result(result) != ResultOK:
		e := c.classify(tokenRules, Result(result), a.errText())
		e.Message = "access token: " + e.Message
		return "", 0, e
	case a.AccessToken == "":
		return "", 0, malformed(pathToken, "no access_token")
	}
	life := maxTokenLife
	if n, ok := call.Number(a.ExpiresIn); ok && n > 0 && n < maxTokenSeconds {
		life = time.Duration(n) * time.Second
	}
	return a.AccessToken, life, nil
}
