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
}

// Accepted is the answer to a send or a redrive.
type Accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Duplicate is true when the idempotency key named an earlier message
	// (the sender answered 200 with it, and sent nothing new).
	Duplicate bool `json:"-"`
}

// Attempt is one try at delivering a message.
type Attempt struct {
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
}

// Message is the sender's record of a message.
type Message struct {
	ID             string            `json:"id"`
	App            string            `json:"app"`
	Platform       string            `json:"platform"`
	To             string            `json:"to"`
	TemplateID     string            `json:"template_id"`
	Data           map[string]string `json:"data"`
	Page           string            `json:"page,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	BroadcastID    string            `json:"broadcast_id,omitempty"`
	Status         string            `json:"status"`
	Retries        int               `json:"retries"`
	NextAttemptAt  time.Time         `json:"next_attempt_at,omitzero"`
	PlatformMsgID  string            `json:"platform_msgid,omitempty"`
	LastCode       string            `json:"last_code,omitempty"`
	LastError      string            `json:"last_error,omitempty"`
	// Reason says why the message ended without delivery, in the sender's
	// vocabulary (not_subscribed, …); "" otherwise.
	Reason string `json:"reason,omitempty"`
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
	return m.Status == StatusDelivered || m.Status == StatusFailed || m.Status == StatusRejected
}

// MessageFilter selects messages (GET /v1/messages). Zero fields do not
// filter.
type MessageFilter struct {
	Status    string
	App       string
	Broadcast string
	// Limit is the page size (1–1000; 0: the sender's default).
	Limit int
	// Cursor continues after a page's NextCursor.
	Cursor string
}

// MessagePage is one page of messages, newest first.
type MessagePage struct {
	Messages   []Message `json:"messages"`
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
}

// BroadcastAccepted is the answer to a broadcast.
type BroadcastAccepted struct {
	ID         string `json:"id"`
	Recipients int    `json:"recipients"`
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
	FannedOut int       `json:"fanned_out"`
	CreatedAt time.Time `json:"created_at"`
}

// BroadcastState is a broadcast and its messages' counts per status.
type BroadcastState struct {
	Broadcast Broadcast      `json:"broadcast"`
	Counts    map[string]int `json:"counts"`
}

// GroupPut is the answer to PutGroup.
type GroupPut struct {
	App  string `json:"app"`
	Name string `json:"name"`
	// Members is the group's size now.
	Members int `json:"members"`
}

// GroupPage is a group and one page of its members, ascending.
type GroupPage struct {
	App        string    `json:"app"`
	Name       string    `json:"name"`
	Size       int       `json:"size"`
	UpdatedAt  time.Time `json:"updated_at"`
	Members    []string  `json:"members"`
	NextCursor string    `json:"next_cursor"`
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
	set(q, "cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
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
			for _, m := range p.Messages {
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

// Retry redrives a dead letter (failed or rejected): POST
// /v1/messages/{id}/retry. Other statuses answer 409.
func (c *Client) Retry(ctx context.Context, id string) (Accepted, error) {
	var a Accepted
	_, err := c.call(ctx, http.MethodPost, "/v1/messages/"+url.PathEscape(id)+"/retry", nil, nil, nil, &a)
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

// PutGroup replaces a group's members (PUT /v1/groups/{name}).
func (c *Client) PutGroup(ctx context.Context, app, name string, members []string) (GroupPut, error) {
	var g GroupPut
	body := struct {
		App     string   `json:"app"`
		Members []string `json:"members"`
	}{app, members}
	_, err := c.call(ctx, http.MethodPut, "/v1/groups/"+url.PathEscape(name), nil, nil, body, &g)
	return g, err
}

// GroupPageRequest selects a page of a group's members.
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

// Consents is an app's consent ledger.
type Consents struct {
	App string `json:"app"`
	// Mode is observe or enforce.
	Mode string `json:"mode"`
	// Events: the app receives the platform's pushes.
	Events   bool      `json:"events"`
	Consents []Consent `json:"consents"`
}

// Consents reads an app's consent ledger, one user's when user is not ""
// (GET /v1/consents); limit 0 is the sender's default.
func (c *Client) Consents(ctx context.Context, app, user string, limit int) (Consents, error) {
	q := url.Values{"app": {app}}
	set(q, "user", user)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
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
