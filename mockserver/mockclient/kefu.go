package mockclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// OpenKefuSession records that a user wrote to the app's customer service
// (Trigger "message", the default) or entered the session ("enter"), which
// opens the window in which the app may reply.
func (c *Client) OpenKefuSession(ctx context.Context, s mockapi.KefuSession) (mockapi.KefuWindow, error) {
	var out mockapi.KefuWindow
	err := c.do(ctx, http.MethodPost, "/_mock/kefu/sessions", nil, s, &out)
	return out, err
}

// KefuSessions lists an app's customer-service windows (one user's when
// openID is set).
func (c *Client) KefuSessions(ctx context.Context, platform, appID, openID string) ([]mockapi.KefuWindow, error) {
	q := url.Values{"platform": {platform}, "app_id": {appID}}
	if openID != "" {
		q.Set("openid", openID)
	}
	var out mockapi.KefuWindows
	err := c.do(ctx, http.MethodGet, "/_mock/kefu/sessions", q, nil, &out)
	return out.Sessions, err
}
