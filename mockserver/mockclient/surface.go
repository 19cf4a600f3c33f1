package mockclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Activities lists an app's updatable-message activities with what each
// card shows now.
func (c *Client) Activities(ctx context.Context, platform, appID string) ([]mockapi.Activity, error) {
	var out mockapi.Activities
	err := c.do(ctx, http.MethodGet, "/_mock/activities", url.Values{"platform": {platform}, "app_id": {appID}}, nil, &out)
	return out.Activities, err
}

// Media lists an app's uploaded temporary media.
func (c *Client) Media(ctx context.Context, platform, appID string) ([]mockapi.MediaFile, error) {
	var out mockapi.MediaFiles
	err := c.do(ctx, http.MethodGet, "/_mock/media", url.Values{"platform": {platform}, "app_id": {appID}}, nil, &out)
	return out.Media, err
}

// MediaChecks lists an app's asynchronous media checks and the delay
// before their verdicts are pushed.
func (c *Client) MediaChecks(ctx context.Context, platform, appID string) (mockapi.MediaChecks, error) {
	var out mockapi.MediaChecks
	err := c.do(ctx, http.MethodGet, "/_mock/media-checks", url.Values{"platform": {platform}, "app_id": {appID}}, nil, &out)
	return out, err
}

// SetMediaCheckDelay sets the wait between an asynchronous media check and
// its verdict's push (until reset).
func (c *Client) SetMediaCheckDelay(ctx context.Context, platform string, d time.Duration) error {
	return c.do(ctx, http.MethodPut, "/_mock/media-checks/settings", nil,
		mockapi.MediaCheckSettings{Platform: platform, Delay: mockapi.Duration(d)}, nil)
}
