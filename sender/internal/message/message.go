// Package message holds the sender's domain values: a message to one user,
// its delivery attempts and status, the platform's delivery receipt,
// broadcasts and groups, and the events platforms push to the sender.
// Storage backends, the API, the dispatcher and the event receiver all
// speak these types.
package message

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/sender/internal/reason"
)

// Status is where a message is in its life.
type Status string

// Statuses. queued → sending → delivered | retrying → … | failed; rejected is
// a message refused before any send (e.g. the platform's content check);
// cancelled is a queued, scheduled or retrying message an operator
// cancelled (POST /v1/messages/{id}/cancel).
const (
	StatusQueued    Status = "queued"
	StatusSending   Status = "sending"
	StatusDelivered Status = "delivered"
	StatusRetrying  Status = "retrying"
	StatusFailed    Status = "failed"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status, for validation and counts.
var Statuses = []Status{StatusQueued, StatusSending, StatusDelivered, StatusRetrying, StatusFailed, StatusRejected,
	StatusCancelled}

// Cancellable are the statuses an operator may cancel: waiting messages,
// none in flight (a send under way cannot be called back).
var Cancellable = []Status{StatusQueued, StatusRetrying}

// Redrivable are the dead letters an operator may put back in the queue.
var Redrivable = []Status{StatusFailed, StatusRejected, StatusCancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

// Final reports whether no more sends will happen on their own.
func (s Status) Final() bool {
	return s == StatusDelivered || s == StatusFailed || s == StatusRejected || s == StatusCancelled
}

// Message is one message to one recipient.
type Message struct {
	ID         string            `json:"id"`
	App        string            `json:"app"`
	Platform   string            `json:"platform"`
	To         string            `json:"to"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// SendAt is when the caller asked the message to be sent (send_at;
	// zero: at once).
	SendAt         time.Time `json:"send_at,omitzero"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	// APIKey names the API key that sent the message (its name, never the
	// key): its result webhook, if it has one, hears of the outcome.
	APIKey string `json:"api_key,omitempty"`
	// Fingerprint identifies the request that carried IdempotencyKey
	// (storage.Idempotency); written with the key, never shown.
	Fingerprint string `json:"-"`
	BroadcastID string `json:"broadcast_id,omitempty"`
	Status      Status `json:"status"`
	// Retries counts attempts that spent the retry budget (retryable
	// failures); throttled and token attempts do not.
	Retries int `json:"retries"`
	// NextAttemptAt is when the message may be sent (send_at, or a backoff).
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// PlatformMsgID is the platform's id for a delivered message.
	PlatformMsgID string `json:"platform_msgid,omitempty"`
	// LastCode and LastError describe the last failed attempt.
	LastCode  string `json:"last_code,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Reason says why a message ended without being delivered, or why its
	// last attempt failed, in the sender's vocabulary (package reason);
	// empty while nothing went wrong.
	Reason reason.Reason `json:"reason,omitempty"`
	// HeldReason says why the sender, not the caller, put the message's
	// send off to NextAttemptAt at admission: quiet_hours (the user's
	// night) or frequency_cap (the period's cap is reached, on_exceed
	// hold). It stays as the message's history (docs/campaigns.md).
	HeldReason HeldReason `json:"held_reason,omitempty"`
	// DuplicateOf is the first message of a duplicate (status rejected,
	// reason duplicate): the one the dedup window holds.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Admission is what storage checks and counts atomically as it stores
	// the message (campaign rules); never stored or shown.
	Admission *Admission `json:"-"`
	// Receipt is the platform's asynchronous report on a delivered
	// message (WeChat's subscribe_msg_sent_event), when one arrived.
	Receipt   *Receipt  `json:"receipt,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Attempts is filled only when a single message is read.
	Attempts []Attempt `json:"attempts,omitempty"`
	// Lease is set on the messages Claim returns: the claim the worker
	// holds. Zero elsewhere.
	Lease Lease `json:"-"`
}

// ReasonNotSubscribed: the user holds no subscription for the template —
// the consent ledger knew it before sending (status rejected, no platform
// call), or the platform answered its not-subscribed code (status failed,
// with that code). The whole vocabulary is in package reason.
const ReasonNotSubscribed = reason.NotSubscribed

// HeldReason says why the sender held a message at admission.
type HeldReason string

// Held reasons.
const (
	HeldQuietHours   HeldReason = "quiet_hours"
	HeldFrequencyCap HeldReason = "frequency_cap"
)

// Admission is a message's campaign rules as storage applies them in the
// write that stores the message (Store.Enqueue), atomically with every
// other admission of the app — under concurrency, across restarts and,
// on Redis, across instances (docs/campaigns.md). Package campaign builds
// it from the app's configuration and the message's own settings.
type Admission struct {
	// At is the admission's clock: dedup entries and counters whose Until
	// is not after it have expired.
	At time.Time
	// DedupKey, when set, is the message's dedup identity (user, template,
	// dedup key). A live entry for it whose message still exists makes
	// the message a duplicate: stored rejected, reason duplicate,
	// DuplicateOf that message; nothing is counted. Otherwise, once the
	// message is admitted, the entry is set to it until DedupUntil.
	DedupKey   string
	DedupUntil time.Time
	// Slots are when the message may go, in order of preference, each with
	// the counters (frequency caps) that must all have room; the first
	// slot with room is taken and its counters are incremented. None with
	// room: the message is stored rejected, reason frequency_cap. No slots:
	// no caps, the message goes at its NextAttemptAt.
	Slots []Slot
}

// Slot is one time a message may go and the counters it counts in.
type Slot struct {
	// Due becomes the message's NextAttemptAt, Held its HeldReason.
	Due  time.Time
	Held HeldReason
	// Counters are the frequency-cap periods the send falls in.
	Counters []Counter
}

// Counter is one period's frequency-cap count of one user.
type Counter struct {
	// Key names the count within the app (user, period, category).
	Key   string
	Limit int
	// Until is the period's end: the count expires then.
	Until time.Time
}

// ReceiptStatus is what the platform reported of a delivered message.
type ReceiptStatus string

// Receipt statuses.
const (
	ReceiptDelivered ReceiptStatus = "delivered" // WeChat ErrorCode 0
	ReceiptFailed    ReceiptStatus = "failed"    // any other ErrorCode
)

// Receipt is the platform's asynchronous delivery report of a message it
// accepted (docs/events.md).
type Receipt struct {
	Status ReceiptStatus `json:"status"`
	// ErrorCode is the platform's code as it sent it ("0" when delivered).
	ErrorCode string `json:"error_code"`
	// ErrorStatus is the platform's text ("success", or why it failed).
	ErrorStatus string `json:"error_status,omitempty"`
	// At is when the sender received the report.
	At time.Time `json:"at"`
}

// Event is a push a platform sent the sender (WeChat message push, Douyin
// webhook): verified, then stored durably before it is acknowledged, and
// processed after (docs/events.md). The stored event is the unit of work:
// one that is stored but not processed when the sender stops is processed
// after the restart.
type Event struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Platform string `json:"platform"`
	// Key identifies the push across the platform's re-sends: a second
	// push with the same App and Key is a duplicate and is not stored.
	Key string `json:"key"`
	// Name is the event's name (subscribe_msg_popup_event,
	// user_subscribe_action, …), or the message type of a user message.
	Name string `json:"name"`
	User string `json:"user,omitempty"`
	// Payload is the event as the receiver decoded it (JSON of
	// events.Payload): what processing reads.
	Payload    []byte    `json:"payload"`
	ReceivedAt time.Time `json:"received_at"`
	// ProcessedAt is zero while the event waits to be processed.
	ProcessedAt time.Time `json:"processed_at,omitzero"`
	// Result says what processing made of it.
	Result string `json:"result,omitempty"`
}

// Lease is a worker's claim on a message (docs/delivery.md).
type Lease struct {
	// Fence identifies the claim: it grows with every claim of the
	// message, so an outcome recorded under an older claim — a worker
	// whose lease ran out while another took the message over — is
	// refused instead of overwriting the new owner's.
	Fence int64
	// Until is the deadline the store granted: after it the message may
	// be claimed again. A worker must have recorded its outcome by then,
	// so its send has to end earlier.
	Until time.Time
}

// Outcome classifies an attempt.
type Outcome string

// Outcomes.
const (
	OutcomeDelivered Outcome = "delivered"
	OutcomePermanent Outcome = "permanent" // refused for good: no retry
	OutcomeRetryable Outcome = "retryable" // system busy, 5xx, timeout, connection error
	OutcomeThrottled Outcome = "throttled" // quota/rate limit: the whole app backs off
	OutcomeToken     Outcome = "token"     // token invalid or expired after one refresh
	OutcomeRejected  Outcome = "rejected"  // the platform's content check judged it risky
	// OutcomeCredentials: the platform refused the app itself — a wrong
	// secret or key, an unknown app id, an IP not whitelisted, a
	// capability not granted. No retry can fix it: the message fails at
	// once and the app is marked unhealthy until its credentials work.
	OutcomeCredentials Outcome = "credentials"
	// OutcomeOK: a call made on the message's behalf that is not the send
	// itself (a token refresh) succeeded.
	OutcomeOK Outcome = "ok"
)

// AttemptKind says what an attempt called.
type AttemptKind string

// Attempt kinds.
const (
	// KindSend: the platform's send API.
	KindSend AttemptKind = "send"
	// KindTokenRefresh: the platform's token API, called because the
	// message's send needed a (new) access token.
	KindTokenRefresh AttemptKind = "token_refresh"
)

// Attempt is one platform call made for a message: a send, or a token
// refresh the send needed.
type Attempt struct {
	At time.Time `json:"at"`
	// Kind is what was called (send when empty).
	Kind    AttemptKind `json:"kind"`
	Outcome Outcome     `json:"outcome"`
	Code    string      `json:"code,omitempty"`    // the platform's code ("0", "43101", "40004/USER_TEMPLATE_ILLEGAL")
	Message string      `json:"message,omitempty"` // the platform's message or the transport error
	// Reason is the failure's meaning in the sender's vocabulary.
	Reason    reason.Reason `json:"reason,omitempty"`
	LatencyMS float64       `json:"latency_ms"`
}

// Broadcast is one message to many recipients, fanned out durably into
// one Message per recipient: a list's in the transaction that stores the
// broadcast, a group's afterwards, in bounded chunks (docs/delivery.md).
type Broadcast struct {
	ID         string            `json:"id"`
	App        string            `json:"app"`
	Platform   string            `json:"platform,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// SendAt is when the broadcast's messages are due (zero: at once).
	SendAt time.Time `json:"send_at,omitzero"`
	// Recipients is how many messages the broadcast makes: the list's
	// distinct recipients, or the group's members when it was accepted.
	Recipients int `json:"recipients"`
	// FannedOut is how many of them exist so far; a group broadcast's
	// fan-out is complete when it reaches Recipients.
	FannedOut      int    `json:"fanned_out"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// APIKey names the API key that sent the broadcast; its messages carry
	// it (message.APIKey).
	APIKey string `json:"api_key,omitempty"`
	// Fingerprint identifies the request that carried IdempotencyKey.
	Fingerprint string `json:"-"`
	// Dedup is the broadcast's own dedup settings (the request's dedup
	// field), applied to each message as it is made — a group's at its
	// fan-out (docs/campaigns.md); nil: the app's window alone. Kept for
	// the fan-out, not shown.
	Dedup     *BroadcastDedup `json:"-"`
	CreatedAt time.Time       `json:"created_at"`
}

// BroadcastDedup is a broadcast's dedup key and window (0: the app's).
type BroadcastDedup struct {
	Key    string   `json:"key,omitempty"`
	Window Duration `json:"window,omitempty"`
}

// Pause is an app's sends held back because the platform throttled it:
// until the platform's window ends (a daily quota: its midnight) or, for a
// transient throttle, for the sender's throttle backoff. Pauses are stored
// (they survive restarts) and an operator may end one early
// (POST /v1/apps/{name}/resume).
type Pause struct {
	App   string    `json:"app"`
	Until time.Time `json:"until"`
	// Reason is quota_exceeded, rate_limited, …
	Reason reason.Reason `json:"reason"`
	// Code and Message are the platform's answer that caused it.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Since is when the pause began.
	Since time.Time `json:"since"`
}

// Group is a named list of recipients of one app. Its members are read
// page by page; Size counts them.
type Group struct {
	App       string    `json:"app"`
	Name      string    `json:"name"`
	Size      int       `json:"size"`
	UpdatedAt time.Time `json:"updated_at"`
	// CSV is the report of the CSV upload that wrote the group (a CSV
	// audience, docs/campaigns.md): absent for a group written as JSON.
	CSV *AudienceReport `json:"csv,omitempty"`
}

// Member is one recipient of a group with its own keyword values: a row
// of a CSV audience. A broadcast to the group sends each member the
// broadcast's data with the member's Data over it (the member's value
// wins for a keyword both give).
type Member struct {
	To   string
	Data map[string]string
}

// MergeData is a member's message data: base with own over it (a new
// map; base is shared by every member of a broadcast).
func MergeData(base, own map[string]string) map[string]string {
	if len(own) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(own))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// AudienceReport is what reading a CSV audience found: every data row is
// counted, each bad one is refused with its line, field and reason (the
// first MaxRowErrors listed), the good ones are kept.
type AudienceReport struct {
	// Rows is the data rows read (the header and blank lines not counted).
	Rows int `json:"rows"`
	// Accepted rows became members (a recipient given twice counts once
	// in the group's size, here each time).
	Accepted int `json:"accepted"`
	// Rejected rows were refused; Errors lists the first of them.
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors"`
}

// MaxRowErrors is the most bad rows a report lists (Rejected counts all).
const MaxRowErrors = 1000

// RowError is one bad row of a CSV audience.
type RowError struct {
	// Line is the row's line in the file (the header is line 1).
	Line int `json:"line"`
	// Field is the column at fault ("to", a keyword, or "" for the
	// row's shape).
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Schedule is a recurring broadcast (issue 16, docs/campaigns.md): at each
// time its cron expression names, in its time zone, it makes a broadcast
// of its template to its target (a list or a group).
type Schedule struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Platform string `json:"platform,omitempty"`
	Cron     string `json:"cron"`
	TimeZone string `json:"time_zone"`
	// The target: To (a list) or Group (a stored group or CSV audience).
	To         []string          `json:"to,omitempty"`
	Group      string            `json:"group,omitempty"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	// CatchUp is what a run missed while no sender ran becomes: "last"
	// (the latest missed run is made, if it is at most CatchUpWithin
	// late) or "none" (missed runs are skipped).
	CatchUp       string   `json:"catch_up"`
	CatchUpWithin Duration `json:"catch_up_within"`
	Paused        bool     `json:"paused"`
	// Urgent runs pass the app's quiet hours (dedup and frequency caps
	// still apply to each message of a run, docs/campaigns.md).
	Urgent    bool      `json:"urgent,omitempty"`
	APIKey    string    `json:"api_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// LastRunAt is the scheduled time of the latest run claimed (made,
	// skipped or pending); the next run is the first cron time after it
	// (after CreatedAt before any).
	LastRunAt time.Time `json:"last_run_at,omitzero"`
	// NextRunAt is computed when the schedule is read (not stored).
	NextRunAt time.Time `json:"next_run_at,omitzero"`
	// Runs are the latest runs, newest first (at most MaxScheduleRuns).
	Runs []ScheduleRun `json:"runs"`
}

// MaxScheduleRuns is how many runs a schedule keeps in its history.
const MaxScheduleRuns = 50

// Run outcomes.
const (
	RunPending = "pending" // claimed, its broadcast not confirmed yet
	RunCreated = "created" // its broadcast exists
	RunSkipped = "skipped" // missed (downtime) and not caught up
	RunFailed  = "failed"  // the broadcast was refused (e.g. the group is gone)
)

// ScheduleRun is one run of a schedule.
type ScheduleRun struct {
	// At is the cron time the run is for: the claim's key with the
	// schedule's id.
	At time.Time `json:"scheduled_at"`
	// RanAt is when it was claimed.
	RanAt       time.Time `json:"ran_at"`
	Outcome     string    `json:"outcome"`
	BroadcastID string    `json:"broadcast_id,omitempty"`
	// Missed counts the earlier cron times skipped with this run (a
	// downtime's missed runs are recorded once).
	Missed int    `json:"missed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Duration is a time.Duration written as Go's duration text ("1h30m").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

var idSeq atomic.Uint32

// NewID returns a unique, time-ordered id: 8 bytes of Unix milliseconds and
// sequence, then 6 random bytes, hex (28 chars). Sorting ids sorts by
// creation time within one process.
func NewID(prefix string, now time.Time) string {
	var b [14]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16|uint64(idSeq.Add(1)&0xffff))
	_, _ = rand.Read(b[8:])
	return prefix + hex.EncodeToString(b[:])
}

// WebhookStatus is where a result-webhook delivery is (docs/webhooks.md).
type WebhookStatus string

// Webhook delivery statuses.
const (
	// WebhookPending: waiting for its first or next attempt.
	WebhookPending WebhookStatus = "pending"
	// WebhookSucceeded: the receiver answered 2xx.
	WebhookSucceeded WebhookStatus = "succeeded"
	// WebhookFailed: the retry window ended without a 2xx; an operator may
	// redeliver it.
	WebhookFailed WebhookStatus = "failed"
)

// WebhookStatuses lists every webhook delivery status.
var WebhookStatuses = []WebhookStatus{WebhookPending, WebhookSucceeded, WebhookFailed}

// Valid reports whether s is a known webhook delivery status.
func (s WebhookStatus) Valid() bool {
	return s == WebhookPending || s == WebhookSucceeded || s == WebhookFailed
}

// WebhookEvent says what happened to a message that its result webhook
// hears of.
type WebhookEvent string

// Webhook events: a message reached a final status, or the platform's
// delivery receipt for it arrived.
const (
	WebhookDelivered WebhookEvent = "message.delivered"
	WebhookFailedEv  WebhookEvent = "message.failed"
	WebhookRejected  WebhookEvent = "message.rejected"
	WebhookCancelled WebhookEvent = "message.cancelled"
	WebhookReceipt   WebhookEvent = "message.receipt"
)

// WebhookDelivery is one event of one message for its result webhook: an
// outbox entry written by storage in the same step as the change it
// reports, then delivered at least once (docs/webhooks.md). Its ID is the
// event's id the receiver de-duplicates by: the message's id, a dot and
// the event's number for that message ("msg_….2").
type WebhookDelivery struct {
	ID        string       `json:"id"`
	MessageID string       `json:"message_id"`
	App       string       `json:"app"`
	APIKey    string       `json:"api_key,omitempty"`
	Event     WebhookEvent `json:"event"`
	// The message as it was when the event happened.
	MessageStatus Status        `json:"message_status"`
	Reason        reason.Reason `json:"reason,omitempty"`
	Code          string        `json:"code,omitempty"`
	Status        WebhookStatus `json:"status"`
	// AttemptCount is how many attempts were made (Attempts holds them
	// when the delivery is read).
	AttemptCount  int       `json:"attempt_count"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// WindowAt is when its retry window began: when it was created, or
	// redelivered by an operator.
	WindowAt  time.Time        `json:"-"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	Attempts  []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one POST of a webhook delivery.
type WebhookAttempt struct {
	// N is the attempt's number: 1, 2, …
	N  int       `json:"n"`
	At time.Time `json:"at"`
	// StatusCode is the receiver's HTTP status (0: no answer).
	StatusCode int `json:"status_code"`
	// Error says why the attempt failed (a transport error, a timeout, a
	// non-2xx status); empty when it succeeded.
	Error     string  `json:"error,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}
