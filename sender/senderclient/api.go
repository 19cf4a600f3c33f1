package senderclient

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Message statuses.
const (
	StatusQueued    = "queued"
	StatusSending   = "sending"
	StatusDelivered = "delivered"
	StatusRetrying  = "retrying"
	StatusFailed    = "failed"
	StatusRejected  = "rejected"
	// StatusCancelled: an operator cancelled the message before it was
	// sent (Cancel, CancelMessages).
	StatusCancelled = "cancelled"
)

// Reasons: why a message was not (yet) delivered, the same on every
// platform (Message.Reason, Attempt.Reason, Error.Reason, App.PauseReason).
// A caller branches on these, not on the platforms' codes.
const (
	ReasonNotSubscribed       = "not_subscribed"
	ReasonInvalidRecipient    = "invalid_recipient"
	ReasonInvalidTemplate     = "invalid_template"
	ReasonInvalidData         = "invalid_data"
	ReasonInvalidRequest      = "invalid_request"
	ReasonRiskyContent        = "risky_content"
	ReasonNotPermitted        = "not_permitted"
	ReasonQuotaExceeded       = "quota_exceeded"
	ReasonRateLimited         = "rate_limited"
	ReasonTokenInvalid        = "token_invalid"
	ReasonCredentialsInvalid  = "credentials_invalid"
	ReasonSignatureInvalid    = "signature_invalid"
	ReasonPlatformUnavailable = "platform_unavailable"
	ReasonPlatformError       = "platform_error"
	ReasonNetwork             = "network"
	ReasonCancelled           = "cancelled"
	ReasonAppNotConfigured    = "app_not_configured"
	// ReasonDuplicate: the app's (or the message's) dedup window already
	// holds a message of the user, template and dedup key: DuplicateOf
	// names it (docs/campaigns.md).
	ReasonDuplicate = "duplicate"
	// ReasonFrequencyCap: the user reached the app's frequency cap for the
	// period.
	ReasonFrequencyCap = "frequency_cap"
)

// Held reasons: why the sender put a message off at admission
// (Message.HeldReason).
const (
	HeldQuietHours   = "quiet_hours"
	HeldFrequencyCap = "frequency_cap"
)

// Dedup is a message's own dedup setting (docs/campaigns.md): a later
// message of the same user, template and Key within Window ends rejected,
// ReasonDuplicate. Not an idempotency key: a retry with one answers the
// first message itself.
type Dedup struct {
	// Key tells messages of one user and template apart (an order id).
	Key string `json:"key,omitempty"`
	// Window replaces the app's campaigns.dedup.window (a Go duration,
	// "24h"); required when the app has none.
	Window string `json:"window,omitempty"`
}

// Attempt kinds.
const (
	KindSend         = "send"
	KindTokenRefresh = "token_refresh"
)

// MessageRequest is a message to send (POST /v1/messages).
type MessageRequest struct {
	// App is the name of a configured app.
	App string `json:"app"`
	// To is the recipient: the platform's openid / user id.
	To         string            `json:"to"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// IdempotencyKey makes a resend of the same message answer the first
	// one instead of sending twice.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// SendAt delays delivery (at most 365 days ahead).
	SendAt *time.Time `json:"send_at,omitempty"`
	// Urgent passes the app's quiet hours.
	Urgent bool   `json:"urgent,omitempty"`
	Dedup  *Dedup `json:"dedup,omitempty"`
}

// Accepted is the answer to a send or a redrive: the message as stored.
type Accepted struct {
	Message
	// Duplicate is true when the idempotency key named an earlier message
	// (the sender answered 200 with it, and sent nothing new).
	Duplicate bool `json:"-"`
}

// Attempt is one platform call made for a message: a send (KindSend), or
// a token refresh the send needed (KindTokenRefresh).
type Attempt struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Outcome   string    `json:"outcome"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
}

// Message is the sender's record of a message.
type Message struct {
	ID         string            `json:"id"`
	App        string            `json:"app"`
	Platform   string            `json:"platform"`
	To         string            `json:"to"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// SendAt is when the caller asked the message to be sent.
	SendAt         time.Time `json:"send_at,omitzero"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	// APIKey is the name of the API key that sent the message.
	APIKey        string    `json:"api_key,omitempty"`
	BroadcastID   string    `json:"broadcast_id,omitempty"`
	Status        string    `json:"status"`
	Retries       int       `json:"retries"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	PlatformMsgID string    `json:"platform_msgid,omitempty"`
	LastCode      string    `json:"last_code,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	// LastCode and LastError are the platform's raw code and message of
	// the last failed attempt; Reason is its meaning in the sender's
	// vocabulary (Reason… constants), "" while nothing went wrong.
	Reason string `json:"reason,omitempty"`
	// HeldReason says why the sender put the send off to NextAttemptAt
	// (HeldQuietHours, HeldFrequencyCap); DuplicateOf is the first message
	// of a duplicate (ReasonDuplicate).
	HeldReason  string `json:"held_reason,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Receipt is the platform's asynchronous report on a delivered
	// message, when one arrived.
	Receipt   *Receipt  `json:"receipt,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Attempts is filled by Message, not by Messages.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Receipt is a platform's report on a delivered message (WeChat's
// subscribe_msg_sent_event).
type Receipt struct {
	Status      string    `json:"status"`
	ErrorCode   string    `json:"error_code"`
	ErrorStatus string    `json:"error_status,omitempty"`
	At          time.Time `json:"at"`
}

// Final reports whether the message will not change on its own.
func (m Message) Final() bool {
	return m.Status == StatusDelivered || m.Status == StatusFailed || m.Status == StatusRejected ||
		m.Status == StatusCancelled
}

// Sends are the message's attempts that called the platform's send API
// (token refreshes left out).
func (m Message) Sends() []Attempt {
	var out []Attempt
	for _, a := range m.Attempts {
		if a.Kind == KindSend || a.Kind == "" {
			out = append(out, a)
		}
	}
	return out
}

// MessageFilter selects messages (GET /v1/messages). Zero fields do not
// filter.
type MessageFilter struct {
	Status    string
	App       string
	Broadcast string
	// Reason and To match the message's reason and recipient exactly;
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound when it was
	// accepted. The sender checks them on at most 20000 messages per
	// request: a page may hold fewer than Limit, even none, with a
	// NextCursor to continue from (AllMessages follows it).
	Reason                 string
	To                     string
	CreatedFrom, CreatedTo time.Time
	// Limit is the page size (1–1000; 0: the sender's default).
	Limit int
	// Cursor continues after a page's NextCursor.
	Cursor string
}

// MessagePage is one page of messages, newest first.
type MessagePage struct {
	Items      []Message `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

// BroadcastRequest is one message for many recipients: To (at most 10,000)
// or Group.
type BroadcastRequest struct {
	App        string            `json:"app"`
	To         []string          `json:"to,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// IdempotencyKey makes a retried broadcast answer the first one
	// instead of fanning out twice.
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	SendAt         *time.Time `json:"send_at,omitempty"`
	// Urgent passes the app's quiet hours; Dedup is each message's own
	// dedup (a group's members are checked as they are fanned out).
	Urgent bool   `json:"urgent,omitempty"`
	Dedup  *Dedup `json:"dedup,omitempty"`
}

// BroadcastAccepted is the answer to a broadcast: the broadcast as
// stored.
type BroadcastAccepted struct {
	Broadcast
	// Duplicate is true when the idempotency key named an earlier
	// broadcast (answered 200, nothing sent again).
	Duplicate bool `json:"-"`
}

// Broadcast is the sender's record of a broadcast.
type Broadcast struct {
	ID         string            `json:"id"`
	App        string            `json:"app"`
	Platform   string            `json:"platform,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	SendAt     time.Time         `json:"send_at,omitzero"`
	Recipients int               `json:"recipients"`
	// FannedOut counts the messages made so far; a group broadcast is
	// fanned out when it reaches Recipients.
	FannedOut      int       `json:"fanned_out"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	APIKey         string    `json:"api_key,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// CSV is the report of the CSV audience a BroadcastCSV uploaded.
	CSV *AudienceReport `json:"csv,omitempty"`
}

// BroadcastState is a broadcast with its messages' counts per status, its
// state (one of the Broadcast… states) and the schedule whose run made it
// ("" for none).
type BroadcastState struct {
	Broadcast
	Counts   map[string]int `json:"counts"`
	State    string         `json:"state"`
	Schedule string         `json:"schedule,omitempty"`
}

// Group is a named recipient list of an app.
type Group struct {
	App  string `json:"app"`
	Name string `json:"name"`
	// Size is how many members it has.
	Size      int       `json:"size"`
	UpdatedAt time.Time `json:"updated_at"`
	// CSV is the report of the CSV upload that wrote the group (nil for a
	// JSON one).
	CSV *AudienceReport `json:"csv,omitempty"`
}

// GroupList is one page of an app's groups, by name.
type GroupList struct {
	Items      []Group `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

// GroupPage is a group and one page of its members, ascending.
type GroupPage struct {
	App        string          `json:"app"`
	Name       string          `json:"name"`
	Size       int             `json:"size"`
	UpdatedAt  time.Time       `json:"updated_at"`
	CSV        *AudienceReport `json:"csv,omitempty"`
	Members    []string        `json:"members"`
	NextCursor string          `json:"next_cursor"`
}

// Readiness is the answer of /readyz.
type Readiness struct {
	// Ready is true on a 200 answer.
	Ready  bool              `json:"-"`
	Status string            `json:"status"`
	Error  string            `json:"error,omitempty"`
	Checks map[string]string `json:"checks,omitempty"`
	Apps   map[string]struct {
		Healthy bool      `json:"healthy"`
		Reason  string    `json:"reason,omitempty"`
		Since   time.Time `json:"since,omitzero"`
	} `json:"apps,omitempty"`
}

// Selection picks an app's messages for the bulk actions (CancelMessages,
// RetryMessages); every field given must match.
type Selection struct {
	App string `json:"app"`
	// Status narrows the statuses the action applies to (cancel: queued,
	// retrying; retry: failed, rejected, cancelled).
	Status      []string   `json:"status,omitempty"`
	Broadcast   string     `json:"broadcast,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Code        string     `json:"code,omitempty"`
	CreatedFrom *time.Time `json:"created_from,omitempty"`
	CreatedTo   *time.Time `json:"created_to,omitempty"`
}

// App is a configured app as the sender sees it: paused or not (and why),
// its token, health, rate and queue.
type App struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	AppID    string `json:"app_id"`
	// PausedUntil is nil while the app is not paused; PauseReason is
	// ReasonQuotaExceeded (a quota window, until the platform's midnight)
	// or ReasonRateLimited (a transient throttle), with the platform's
	// code that caused it.
	PausedUntil  *time.Time `json:"paused_until"`
	PauseReason  *string    `json:"pause_reason"`
	PauseCode    string     `json:"pause_code,omitempty"`
	PauseMessage string     `json:"pause_message,omitempty"`
	PausedSince  *time.Time `json:"paused_since,omitempty"`
	// TokenValidUntil is nil while no access token is held.
	TokenValidUntil  *time.Time `json:"token_valid_until"`
	TokenRefreshedAt *time.Time `json:"token_refreshed_at,omitempty"`
	TokenFailures    int        `json:"token_failures"`
	TokenError       string     `json:"token_error,omitempty"`
	Healthy          bool       `json:"healthy"`
	HealthReason     string     `json:"health_reason,omitempty"`
	HealthSince      *time.Time `json:"health_since,omitempty"`
	Rate             struct {
		PerSecond       float64 `json:"per_second"`
		Burst           int     `json:"burst"`
		PerUserInterval string  `json:"per_user_interval"`
	} `json:"rate"`
	// Queue counts the app's messages per status.
	Queue        map[string]int `json:"queue"`
	Consent      string         `json:"consent"`
	Events       bool           `json:"events"`
	ContentCheck bool           `json:"content_check"`
	DefaultPage  string         `json:"default_page,omitempty"`
	// Campaigns are the app's campaign rules; nil when it has none.
	Campaigns *Campaigns `json:"campaigns,omitempty"`
	// Templates says where the app's templates come from, for the checks
	// before the 202.
	Templates AppTemplates `json:"templates"`
}

// Campaigns are an app's campaign rules (docs/campaigns.md).
type Campaigns struct {
	TimeZone    string `json:"time_zone"`
	DedupWindow string `json:"dedup_window,omitempty"`
	QuietHours  *struct {
		Start string `json:"start"`
		End   string `json:"end"`
		Ramp  string `json:"ramp"`
	} `json:"quiet_hours,omitempty"`
	FrequencyCaps []struct {
		Period   string `json:"period"`
		Limit    int    `json:"limit"`
		Category string `json:"category,omitempty"`
	} `json:"frequency_caps"`
	OnExceed   string            `json:"on_exceed"`
	Categories map[string]string `json:"categories,omitempty"`
}

// AppTemplates: Source "platform" (a list fetched), "config" (declared
// only) or "none" (only the value rules apply); Count known; Listed when
// the sender fetches the platform's list; FetchedAt and the last fetch's
// Error.
type AppTemplates struct {
	Source    string     `json:"source"`
	Count     int        `json:"count"`
	Listed    bool       `json:"listed"`
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// Paused reports whether the app is paused.
func (a App) Paused() bool { return a.PausedUntil != nil }

// Send hands a message to the sender: committed to storage when it returns
// without an error (POST /v1/messages).
func (c *Client) Send(ctx context.Context, m MessageRequest) (Accepted, error) {
	var a Accepted
	status, err := c.call(ctx, http.MethodPost, "/v1/messages", nil, nil, m, &a)
	a.Duplicate = status == http.StatusOK
	return a, err
}

// SendRequest is the HTTP request Send would make, for tools that send it
// themselves (a load generator's own pacing).
func (c *Client) SendRequest(ctx context.Context, m MessageRequest) (*http.Request, error) {
	return c.jsonRequest(ctx, http.MethodPost, "/v1/messages", m)
}

// BroadcastRequest is the HTTP request Broadcast would make.
func (c *Client) BroadcastRequest(ctx context.Context, b BroadcastRequest) (*http.Request, error) {
	return c.jsonRequest(ctx, http.MethodPost, "/v1/broadcasts", b)
}

func (c *Client) jsonRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	payload, err := marshal(body)
	if err != nil {
		return nil, err
	}
	return c.newRequest(ctx, method, path, nil, nil, payload)
}

// Message reads a message with every attempt (GET /v1/messages/{id}).
func (c *Client) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	_, err := c.call(ctx, http.MethodGet, "/v1/messages/"+url.PathEscape(id), nil, nil, nil, &m)
	return m, err
}

// Messages reads one page of messages, newest first (GET /v1/messages).
func (c *Client) Messages(ctx context.Context, f MessageFilter) (MessagePage, error) {
	q := url.Values{}
	set(q, "status", f.Status)
	set(q, "app", f.App)
	set(q, "broadcast", f.Broadcast)
	set(q, "reason", f.Reason)
	set(q, "to", f.To)
	setPage(q, f.CreatedFrom, f.CreatedTo, f.Cursor, f.Limit)
	var p MessagePage
	_, err := c.call(ctx, http.MethodGet, "/v1/messages", q, nil, nil, &p)
	return p, err
}

// AllMessages yields every message f selects, page after page; it stops at
// the first error, which it yields.
func (c *Client) AllMessages(ctx context.Context, f MessageFilter) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for {
			p, err := c.Messages(ctx, f)
			if err != nil {
				yield(Message{}, err)
				return
			}
			for _, m := range p.Items {
				if !yield(m, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			f.Cursor = p.NextCursor
		}
	}
}

// Retry redrives a dead letter (failed, rejected or cancelled): POST
// /v1/messages/{id}/retry. Other statuses answer 409.
func (c *Client) Retry(ctx context.Context, id string) (Accepted, error) {
	var a Accepted
	_, err := c.call(ctx, http.MethodPost, "/v1/messages/"+url.PathEscape(id)+"/retry", nil, nil, nil, &a)
	return a, err
}

// Cancel cancels a waiting message (queued, scheduled or retrying): POST
// /v1/messages/{id}/cancel. Other statuses answer 409.
func (c *Client) Cancel(ctx context.Context, id string) (Message, error) {
	var m Message
	_, err := c.call(ctx, http.MethodPost, "/v1/messages/"+url.PathEscape(id)+"/cancel", nil, nil, nil, &m)
	return m, err
}

// CancelMessages cancels every waiting message sel selects and returns how
// many (POST /v1/messages/cancel; the key needs the admin scope).
func (c *Client) CancelMessages(ctx context.Context, sel Selection) (int, error) {
	return c.bulk(ctx, "/v1/messages/cancel", sel)
}

// RetryMessages redrives every dead letter sel selects and returns how
// many (POST /v1/messages/retry; the key needs the admin scope).
func (c *Client) RetryMessages(ctx context.Context, sel Selection) (int, error) {
	return c.bulk(ctx, "/v1/messages/retry", sel)
}

func (c *Client) bulk(ctx context.Context, path string, sel Selection) (int, error) {
	var n struct {
		Count int `json:"count"`
	}
	_, err := c.call(ctx, http.MethodPost, path, nil, nil, sel, &n)
	return n.Count, err
}

// Apps reads every configured app (GET /v1/apps).
func (c *Client) Apps(ctx context.Context) ([]App, error) {
	var p struct {
		Items []App `json:"items"`
	}
	_, err := c.call(ctx, http.MethodGet, "/v1/apps", nil, nil, nil, &p)
	return p.Items, err
}

// App reads one app: its pause, token, health and queue (GET
// /v1/apps/{name}).
func (c *Client) App(ctx context.Context, name string) (App, error) {
	var a App
	_, err := c.call(ctx, http.MethodGet, "/v1/apps/"+url.PathEscape(name), nil, nil, nil, &a)
	return a, err
}

// ResumeApp ends the app's pause now; the messages it held are due at
// once (POST /v1/apps/{name}/resume; the key needs the admin scope).
func (c *Client) ResumeApp(ctx context.Context, name string) (App, error) {
	var a App
	_, err := c.call(ctx, http.MethodPost, "/v1/apps/"+url.PathEscape(name)+"/resume", nil, nil, nil, &a)
	return a, err
}

// Broadcast sends one message to many recipients (POST /v1/broadcasts).
func (c *Client) Broadcast(ctx context.Context, b BroadcastRequest) (BroadcastAccepted, error) {
	var a BroadcastAccepted
	status, err := c.call(ctx, http.MethodPost, "/v1/broadcasts", nil, nil, b, &a)
	a.Duplicate = status == http.StatusOK
	return a, err
}

// BroadcastState reads a broadcast and its counts (GET /v1/broadcasts/{id}).
func (c *Client) BroadcastState(ctx context.Context, id string) (BroadcastState, error) {
	var s BroadcastState
	_, err := c.call(ctx, http.MethodGet, "/v1/broadcasts/"+url.PathEscape(id), nil, nil, nil, &s)
	return s, err
}

// PutGroup replaces a group's members (PUT /v1/groups/{name}) and answers
// the group.
func (c *Client) PutGroup(ctx context.Context, app, name string, members []string) (Group, error) {
	var g Group
	body := struct {
		App     string   `json:"app"`
		Members []string `json:"members"`
	}{app, members}
	_, err := c.call(ctx, http.MethodPut, "/v1/groups/"+url.PathEscape(name), nil, nil, body, &g)
	return g, err
}

// Groups reads a page of an app's groups, by name (GET /v1/groups); p's
// Limit is 1–1000 (0: the sender's default).
func (c *Client) Groups(ctx context.Context, app string, p GroupPageRequest) (GroupList, error) {
	q := url.Values{"app": {app}}
	set(q, "cursor", p.Cursor)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var l GroupList
	_, err := c.call(ctx, http.MethodGet, "/v1/groups", q, nil, nil, &l)
	return l, err
}

// GroupPageRequest selects a page of a group's members, or of groups.
type GroupPageRequest struct {
	// Limit is the page size (1–10,000; 0: the sender's default).
	Limit  int
	Cursor string
}

// Group reads a group and a page of its members (GET /v1/groups/{name}).
func (c *Client) Group(ctx context.Context, app, name string, p GroupPageRequest) (GroupPage, error) {
	q := url.Values{"app": {app}}
	set(q, "cursor", p.Cursor)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var g GroupPage
	_, err := c.call(ctx, http.MethodGet, "/v1/groups/"+url.PathEscape(name), q, nil, nil, &g)
	return g, err
}

// DeleteGroup deletes a group (DELETE /v1/groups/{name}).
func (c *Client) DeleteGroup(ctx context.Context, app, name string) error {
	_, err := c.call(ctx, http.MethodDelete, "/v1/groups/"+url.PathEscape(name), url.Values{"app": {app}}, nil, nil, nil)
	return err
}

// Consent is one entry of an app's consent ledger: what the platforms'
// events and answers taught the sender about a user's subscription to a
// template.
type Consent struct {
	App        string `json:"app"`
	User       string `json:"user"`
	TemplateID string `json:"template_id"`
	// Credits is the one-time sends left, as far as the ledger knows.
	Credits  int  `json:"credits"`
	LongTerm bool `json:"long_term"`
	// Rejected: the user said no and has not accepted since.
	Rejected  bool      `json:"rejected"`
	Source    string    `json:"source"`
	Accepts   int       `json:"accepts"`
	Rejects   int       `json:"rejects"`
	UpdatedAt time.Time `json:"updated_at"`
	// Allows: the ledger lets a message through (in enforce mode).
	Allows  bool   `json:"allows"`
	Verdict string `json:"verdict"`
}

// Consents is a page of an app's consent ledger, by user then template.
// The app's mode (observe, enforce) and whether it receives events are on
// the App.
type Consents struct {
	Items      []Consent `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

// ConsentFilter selects a page of an app's ledger: one user's when User is
// not "".
type ConsentFilter struct {
	App, User string
	// Limit is 1–1000 (0: the sender's default); Cursor continues after a
	// page's NextCursor.
	Limit  int
	Cursor string
}

// Consents reads a page of an app's consent ledger (GET /v1/consents).
func (c *Client) Consents(ctx context.Context, f ConsentFilter) (Consents, error) {
	q := url.Values{"app": {f.App}}
	set(q, "user", f.User)
	set(q, "cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out Consents
	_, err := c.call(ctx, http.MethodGet, "/v1/consents", q, nil, nil, &out)
	return out, err
}

// Health calls /healthz: nil when the sender answers.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodGet, "/healthz", nil, nil, nil, nil)
	return err
}

// Ready reads /readyz. A sender that is not ready answers 503 with its
// checks: that is a Readiness with Ready false, not an error.
func (c *Client) Ready(ctx context.Context) (Readiness, error) {
	var r Readiness
	status, raw, _, err := c.roundTrip(ctx, http.MethodGet, "/readyz", nil, nil, nil)
	if err != nil {
		return r, err
	}
	if status != http.StatusOK && status != http.StatusServiceUnavailable {
		return r, newError(http.MethodGet, "/readyz", status, raw, http.Header{})
	}
	if err := decodeAnswer(raw, &r); err != nil {
		return r, err
	}
	r.Ready = status == http.StatusOK
	return r, nil
}

// Metrics reads /metrics (Prometheus text).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	var s string
	_, err := c.call(ctx, http.MethodGet, "/metrics", nil, nil, nil, &s)
	return s, err
}

// OpenAPI reads the sender's OpenAPI document (GET /openapi.json).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var b []byte
	_, err := c.call(ctx, http.MethodGet, "/openapi.json", nil, nil, nil, &b)
	return b, err
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// setPage sets a list's time range, cursor and page size, those given.
func setPage(q url.Values, from, to time.Time, cursor string, limit int) {
	if !from.IsZero() {
		q.Set("created_from", from.Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("created_to", to.Format(time.RFC3339Nano))
	}
	set(q, "cursor", cursor)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
}
