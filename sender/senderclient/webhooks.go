package senderclient

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Result webhooks (docs/webhooks.md): the sender POSTs a message's outcome
// to the URL configured for its app or API key. This file reads their
// delivery log and verifies a POST on the receiving side.

// Webhook events (WebhookPayload.Type, the Minipush-Event header).
const (
	EventDelivered = "message.delivered"
	EventFailed    = "message.failed"
	EventRejected  = "message.rejected"
	EventCancelled = "message.cancelled"
	EventReceipt   = "message.receipt"
)

// Webhook delivery statuses.
const (
	WebhookPending   = "pending"
	WebhookSucceeded = "succeeded"
	WebhookFailed    = "failed"
)

// Headers of a webhook POST.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed with the webhook's secret>".
	HeaderSignature = "Minipush-Signature"
	// HeaderEventID is the event's id: the same on every attempt.
	HeaderEventID = "Minipush-Event-Id"
	HeaderEvent   = "Minipush-Event"
	HeaderAttempt = "Minipush-Attempt"
)

// DefaultWebhookTolerance is how far a POST's signed timestamp may be from
// the receiver's clock for VerifyWebhook: a captured POST cannot be
// replayed later, and clocks a few minutes apart still agree.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookPayload is the body of a webhook POST.
type WebhookPayload struct {
	// ID is the event's id; a receiver drops a repeat by it (delivery is
	// at least once).
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// Attempt is the POST's number, 1 for the first.
	Attempt int `json:"attempt"`
	// Message is as Message reads it, with the status, reason and code it
	// had when the event happened.
	Message         Message `json:"message"`
	MessageAttempts int     `json:"message_attempts"`
}

// ErrWebhookSignature is every VerifyWebhook refusal.
var ErrWebhookSignature = errors.New("webhook signature")

// VerifyWebhook checks a webhook POST: header is its Minipush-Signature,
// body its raw body (read before any decoding), secret the webhook's
// secret. The timestamp must be within tolerance of now (0:
// DefaultWebhookTolerance); the comparison takes constant time. Errors
// wrap ErrWebhookSignature.
func VerifyWebhook(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	var (
		ts   int64
		tsOK bool
		sigs [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%w: bad timestamp", ErrWebhookSignature)
			}
			ts, tsOK = n, true
		case "v1":
			b, err := hex.DecodeString(v)
			if err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if !tsOK || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrWebhookSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s from now, more than %s", ErrWebhookSignature, d.Round(time.Second), tolerance)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: does not match", ErrWebhookSignature)
}

// WebhookAttempt is one POST of a delivery.
type WebhookAttempt struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
	LatencyMS  float64   `json:"latency_ms"`
}

// WebhookDelivery is one event of a message and its POSTs.
type WebhookDelivery struct {
	ID            string           `json:"id"`
	MessageID     string           `json:"message_id"`
	App           string           `json:"app"`
	APIKey        string           `json:"api_key,omitempty"`
	Event         string           `json:"event"`
	MessageStatus string           `json:"message_status"`
	Reason        string           `json:"reason,omitempty"`
	Code          string           `json:"code,omitempty"`
	Status        string           `json:"status"`
	AttemptCount  int              `json:"attempt_count"`
	NextAttemptAt *time.Time       `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	Attempts      []WebhookAttempt `json:"attempts"`
}

// WebhookFilter selects deliveries for WebhookDeliveries.
type WebhookFilter struct {
	MessageID string
	Status    string
	Limit     int
	Cursor    string
}

// WebhookDeliveryPage is a page of deliveries.
type WebhookDeliveryPage struct {
	Items      []WebhookDelivery `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

// WebhookDeliveries reads a page of the delivery log, newest first (GET
// /v1/webhooks/deliveries).
func (c *Client) WebhookDeliveries(ctx context.Context, f WebhookFilter) (WebhookDeliveryPage, error) {
	q := url.Values{}
	set(q, "message_id", f.MessageID)
	set(q, "status", f.Status)
	set(q, "cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var p WebhookDeliveryPage
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks/deliveries", q, nil, nil, &p)
	return p, err
}

// WebhookDelivery reads one delivery with its attempts (GET
// /v1/webhooks/deliveries/{id}).
func (c *Client) WebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error) {
	var d WebhookDelivery
	_, err := c.call(ctx, http.MethodGet, "/v1/webhooks/deliveries/"+url.PathEscape(id), nil, nil, nil, &d)
	return d, err
}

// RedeliverWebhook makes a failed delivery pending again with a fresh
// retry window (POST /v1/webhooks/deliveries/{id}/redeliver; the key needs
// the admin scope). Other statuses answer 409.
func (c *Client) RedeliverWebhook(ctx context.Context, id string) (WebhookDelivery, error) {
	var d WebhookDelivery
	_, err := c.call(ctx, http.MethodPost, "/v1/webhooks/deliveries/"+url.PathEscape(id)+"/redeliver", nil, nil, nil, &d)
	return d, err
}
