package mockclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// SetPush changes an app's push settings (nil removes them). Saving runs
// the URL-verification handshake; its outcome is in the answer's Verify.
func (c *Client) SetPush(ctx context.Context, platform, appID string, p *mockapi.PushConfig) (mockapi.PushSettingsResult, error) {
	var out mockapi.PushSettingsResult
	err := c.do(ctx, http.MethodPut, "/_mock/apps/push", nil, mockapi.PushSettings{Platform: platform, AppID: appID, Push: p}, &out)
	return out, err
}

// VerifyPush runs the handshake of an app's push settings now.
func (c *Client) VerifyPush(ctx context.Context, platform, appID string) (mockapi.VerifyResult, error) {
	var out mockapi.VerifyResult
	err := c.do(ctx, http.MethodPost, "/_mock/pushes/verify", nil, mockapi.PushTarget{Platform: platform, AppID: appID}, &out)
	return out, err
}

// PushFilter selects push attempts. Wait blocks until Min attempts match
// (default 1) or the wait ends.
type PushFilter struct {
	Platform, AppID, Event, OpenID string
	// Outcome is one of the mockapi.Push… outcomes ("delivered", …).
	Outcome string
	// ID selects the attempts of one push.
	ID            string
	Wait          time.Duration
	Min           int
	Offset, Limit int
}

// Pushes reads the push journal.
func (c *Client) Pushes(ctx context.Context, f PushFilter) (mockapi.Pushes, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("platform", f.Platform)
	set("app_id", f.AppID)
	set("event", f.Event)
	set("openid", f.OpenID)
	set("outcome", f.Outcome)
	set("id", f.ID)
	if f.Wait > 0 {
		q.Set("wait", f.Wait.String())
	}
	for k, v := range map[string]int{"min": f.Min, "offset": f.Offset, "limit": f.Limit} {
		if v > 0 {
			q.Set(k, strconv.Itoa(v))
		}
	}
	var out mockapi.Pushes
	err := c.do(ctx, http.MethodGet, "/_mock/pushes", q, nil, &out)
	return out, err
}

// ClearPushes empties the push journal.
func (c *Client) ClearPushes(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/pushes", nil, nil, nil)
}
