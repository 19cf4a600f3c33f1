// Package mockclient is a typed client for the mock's control API
// (/_mock/…), for tests, scripts and the load generator.
package mockclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Client talks to one mock. The zero HTTP client means http.DefaultClient.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Token is sent as Authorization: Bearer on every call when the mock
	// guards its control API (-control-token); empty sends none.
	Token string
}

// Option configures New.
type Option func(*Client)

// WithToken sends Authorization: Bearer token, for a mock started with
// -control-token (MINIPUSH_MOCK_CONTROL_TOKEN).
func WithToken(token string) Option { return func(c *Client) { c.Token = token } }

// WithHTTPClient sets the HTTP client calls use.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.HTTP = hc } }

// New returns a client for the mock at baseURL (e.g. http://127.0.0.1:9100).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{BaseURL: strings.TrimRight(baseURL, "/")}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is a non-2xx answer of the control API.
type Error struct {
	Status  int
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("mock control API: %d: %s (field %s)", e.Status, e.Message, e.Field)
	}
	return fmt.Sprintf("mock control API: %d: %s", e.Status, e.Message)
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("mock control API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var body mockapi.Error
		if json.Unmarshal(b, &body) != nil || body.Error == "" {
			body.Error = strings.TrimSpace(string(b))
		}
		return &Error{Status: resp.StatusCode, Message: body.Error, Field: body.Field}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s %s answer: %w", method, path, err)
		}
	}
	return nil
}

// Reset returns the mock to its seed.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/_mock/reset", nil, nil, nil)
}

// AddApp registers an app; the answer carries platform-specific fields.
func (c *Client) AddApp(ctx context.Context, a mockapi.App) (map[string]any, error) {
	var out map[string]any
	err := c.do(ctx, http.MethodPost, "/_mock/apps", nil, a, &out)
	return out, err
}

// Apps lists the registered apps (never their secrets).
func (c *Client) Apps(ctx context.Context) ([]mockapi.AppInfo, error) {
	var out struct {
		Apps []mockapi.AppInfo `json:"apps"`
	}
	err := c.do(ctx, http.MethodGet, "/_mock/apps", nil, nil, &out)
	return out.Apps, err
}

// AddUser registers an openid for an app.
func (c *Client) AddUser(ctx context.Context, u mockapi.User) error {
	return c.do(ctx, http.MethodPost, "/_mock/users", nil, u, nil)
}

// AddTemplate registers a private template.
func (c *Client) AddTemplate(ctx context.Context, t mockapi.Template) error {
	return c.do(ctx, http.MethodPost, "/_mock/templates", nil, t, nil)
}

// Templates lists an app's private templates.
func (c *Client) Templates(ctx context.Context, platform, appID string) ([]mockapi.Template, error) {
	var out struct {
		Templates []mockapi.Template `json:"templates"`
	}
	q := url.Values{"platform": {platform}, "app_id": {appID}}
	err := c.do(ctx, http.MethodGet, "/_mock/templates", q, nil, &out)
	return out.Templates, err
}

// Grant gives a user send credits for a template.
func (c *Client) Grant(ctx context.Context, g mockapi.Grant) (mockapi.GrantState, error) {
	var out mockapi.GrantState
	err := c.do(ctx, http.MethodPost, "/_mock/grants", nil, g, &out)
	return out, err
}

// Grants lists an app's grants (one user's when openID is set).
func (c *Client) Grants(ctx context.Context, platform, appID, openID string) ([]mockapi.GrantState, error) {
	var out struct {
		Grants []mockapi.GrantState `json:"grants"`
	}
	q := url.Values{"platform": {platform}, "app_id": {appID}}
	if openID != "" {
		q.Set("openid", openID)
	}
	err := c.do(ctx, http.MethodGet, "/_mock/grants", q, nil, &out)
	return out.Grants, err
}

// Revoke removes a user's grant for a template, as when the user turns the
// subscription off in settings.
func (c *Client) Revoke(ctx context.Context, platform, appID, openID, templateID string) error {
	q := url.Values{"platform": {platform}, "app_id": {appID}, "openid": {openID}, "template_id": {templateID}}
	return c.do(ctx, http.MethodDelete, "/_mock/grants", q, nil, nil)
}

// MessageFilter selects inbox messages. Wait blocks until Min messages
// match (default 1) or the wait ends.
type MessageFilter struct {
	Platform, AppID, OpenID, TemplateID string
	// Kind selects one kind of message (mockapi.KindSubscribe, …).
	Kind          string
	Wait          time.Duration
	Min           int
	Offset, Limit int
}

func (f MessageFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("platform", f.Platform)
	set("app_id", f.AppID)
	set("openid", f.OpenID)
	set("template_id", f.TemplateID)
	set("kind", f.Kind)
	if f.Wait > 0 {
		q.Set("wait", f.Wait.String())
	}
	if f.Min > 0 {
		q.Set("min", strconv.Itoa(f.Min))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// Messages reads the inbox.
func (c *Client) Messages(ctx context.Context, f MessageFilter) (mockapi.Messages, error) {
	var out mockapi.Messages
	err := c.do(ctx, http.MethodGet, "/_mock/messages", f.query(), nil, &out)
	return out, err
}

// ClearMessages empties the inbox.
func (c *Client) ClearMessages(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/messages", nil, nil, nil)
}

// RequestFilter selects journal entries.
type RequestFilter struct {
	Platform, Endpoint, AppID, OpenID string
	ErrCode                           *int
	Wait                              time.Duration
	Min, Offset, Limit                int
}

// Requests reads the journal of platform calls.
func (c *Client) Requests(ctx context.Context, f RequestFilter) (mockapi.Requests, error) {
	q := MessageFilter{Platform: f.Platform, AppID: f.AppID, OpenID: f.OpenID, Wait: f.Wait, Min: f.Min,
		Offset: f.Offset, Limit: f.Limit}.query()
	if f.Endpoint != "" {
		q.Set("endpoint", f.Endpoint)
	}
	if f.ErrCode != nil {
		q.Set("errcode", strconv.Itoa(*f.ErrCode))
	}
	var out mockapi.Requests
	err := c.do(ctx, http.MethodGet, "/_mock/requests", q, nil, &out)
	return out, err
}

// ClearRequests empties the journal.
func (c *Client) ClearRequests(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/requests", nil, nil, nil)
}

// AddFault injects a fault and returns its id.
func (c *Client) AddFault(ctx context.Context, f mockapi.Fault) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/_mock/faults", nil, f, &out)
	return out.ID, err
}

// Faults lists active faults with their fired counts.
func (c *Client) Faults(ctx context.Context) ([]mockapi.Fault, error) {
	var out mockapi.Faults
	err := c.do(ctx, http.MethodGet, "/_mock/faults", nil, nil, &out)
	return out.Faults, err
}

// DeleteFault removes one fault.
func (c *Client) DeleteFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/_mock/faults/"+url.PathEscape(id), nil, nil, nil)
}

// ClearFaults removes every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_mock/faults", nil, nil, nil)
}

// Advance moves the mock clock forward.
func (c *Client) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	var out mockapi.Clock
	err := c.do(ctx, http.MethodPost, "/_mock/clock", nil, mockapi.ClockChange{Advance: mockapi.Duration(d)}, &out)
	return out.Now, err
}

// SetClock moves the mock clock to t (it keeps running from there).
func (c *Client) SetClock(ctx context.Context, t time.Time) (time.Time, error) {
	var out mockapi.Clock
	err := c.do(ctx, http.MethodPost, "/_mock/clock", nil, mockapi.ClockChange{Set: &t}, &out)
	return out.Now, err
}

// Now reads the mock clock.
func (c *Client) Now(ctx context.Context) (time.Time, error) {
	var out mockapi.Clock
	err := c.do(ctx, http.MethodGet, "/_mock/clock", nil, nil, &out)
	return out.Now, err
}

// SetContentRules replaces the content rules.
func (c *Client) SetContentRules(ctx context.Context, r mockapi.ContentRules) error {
	return c.do(ctx, http.MethodPut, "/_mock/content-rules", nil, r, nil)
}

// ContentRules reads the content rules in force.
func (c *Client) ContentRules(ctx context.Context) (mockapi.ContentRules, error) {
	var out mockapi.ContentRules
	err := c.do(ctx, http.MethodGet, "/_mock/content-rules", nil, nil, &out)
	return out, err
}

// SetQuota sets one call limit of an app.
func (c *Client) SetQuota(ctx context.Context, q mockapi.Quota) error {
	return c.do(ctx, http.MethodPut, "/_mock/quotas", nil, q, nil)
}

// Stats reads the mock's counters.
func (c *Client) Stats(ctx context.Context) (mockapi.Stats, error) {
	var out mockapi.Stats
	err := c.do(ctx, http.MethodGet, "/_mock/stats", nil, nil, &out)
	return out, err
}

// Ready reports whether /readyz answers 200.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}
