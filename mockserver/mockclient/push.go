package mockclient

import (
	"context"
	"encoding/json"
	"net/http"
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
	q := MessageFilter{Platform: f.Platform, AppID: f.AppID, OpenID: f.OpenID, Wait: f.Wait, Min: f.Min,
		Offset: f.Offset, Limit: f.Limit}.query()
	for k, v := range map[string]string{"event": f.Event, "outcome": f.Outcome, "id": f.ID} {
		if v != "" {
			q.Set(k, v)
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

// AnswerPopup is a user answering a subscribe popup: grants change, and
// WeChat and Douyin push the answer to the app's push URL.
func (c *Client) AnswerPopup(ctx context.Context, p mockapi.Popup) (mockapi.UserActionResult, error) {
	var out mockapi.UserActionResult
	err := c.do(ctx, http.MethodPost, "/_mock/popups", nil, p, &out)
	return out, err
}

// PushEvent pushes an event written with the platform's own field names
// (event must marshal to a JSON object: a map, a struct, or json.RawMessage
// to keep the fields' order) and applies its domain effect.
func (c *Client) PushEvent(ctx context.Context, platform, appID string, event any) (mockapi.UserActionResult, error) {
	raw, err := json.Marshal(event)
	if err != nil {
		return mockapi.UserActionResult{}, err
	}
	var out mockapi.UserActionResult
	err = c.do(ctx, http.MethodPost, "/_mock/events", nil, mockapi.EventPush{Platform: platform, AppID: appID, Event: raw}, &out)
	return out, err
}
