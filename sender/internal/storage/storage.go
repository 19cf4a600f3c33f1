// Package storage defines what the sender needs from durable storage. The
// API, the dispatcher and the token broker consume this interface; each
// backend lives in its own package: storage/sqlite (the embedded default)
// and storage/redis (several sender instances on one Redis:
// docs/redis.md). Both pass the conformance suite in storage/storagetest.
package storage

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Errors.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the operation does not apply to the record's state (e.g.
	// redriving a message that has not failed).
	ErrConflict = errors.New("conflict")
	// ErrLeaseLost: Record was called under a claim that is no longer the
	// message's current one (its lease ran out and the message was claimed
	// again, or its outcome is already recorded). The outcome is refused:
	// the current owner's stands. It is also an ErrConflict.
	ErrLeaseLost = fmt.Errorf("lease lost: %w", ErrConflict)
	// ErrUnavailable: storage cannot do it now — the disk is full, an I/O
	// error, the database is locked or damaged. Nothing was written, and
	// trying again later may succeed. The API answers 503 with
	// Retry-After; the dispatcher keeps an outcome it could not write.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrIdempotencyMismatch: the idempotency key was already used, within
	// the key window, for a request with a different fingerprint (IETF
	// Idempotency-Key draft: 422). Nothing was stored.
	ErrIdempotencyMismatch = errors.New("idempotency key already used for a different request")
)

// Idempotency is a request's idempotency key (IETF draft
// "The Idempotency-Key HTTP Header Field") and the fingerprint of the
// request that carried it: a hash of the request's canonical form, so that
// the same key with another request is told apart from a retry. Keys are
// scoped per app and per kind of request (messages, broadcasts, group
// writes), and kept until Sweep expires them. An empty fingerprint (a key
// recorded before fingerprints were) matches any.
type Idempotency struct {
	Key         string
	Fingerprint string
}

// Store is the sender's durable state. Every method is safe for concurrent
// use. A method returning nil means the change is committed durably.
type Store interface {
	// Enqueue stores new messages atomically (all or none). A message with
	// an IdempotencyKey already used for the same App is not stored again:
	// the first message is returned in its place (dup[i] true) — unless the
	// two Fingerprints differ, which fails the call with
	// ErrIdempotencyMismatch. Both the new and the existing messages come
	// back in order.
	Enqueue(ctx context.Context, msgs []message.Message) (out []message.Message, dup []bool, err error)
	// CreateBroadcast stores broadcast b and returns it as stored.
	//
	// To a list: msgs are its messages, stored with b in one transaction,
	// all or none; Recipients defaults to len(msgs).
	//
	// To a group (b.Group set, no msgs): the broadcast goes to the
	// group's members as they are at this call — later changes to the
	// group do not affect it. Recipients is the group's size; the
	// messages are created afterwards by FanOut. ErrNotFound when b.App
	// has no such group, ErrConflict when it has no members.
	//
	// With b.IdempotencyKey already used for a broadcast of b.App, nothing
	// is stored: the first broadcast comes back with dup true (or
	// ErrIdempotencyMismatch when b.Fingerprint differs from its).
	// msgs carry no idempotency keys of their own. A message with an
	// Admission (campaign rules) is updated in msgs to what its admission
	// made of it (Status, Reason, DuplicateOf, NextAttemptAt, HeldReason)
	// when the broadcast is stored.
	CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (stored message.Broadcast, dup bool, err error)
	// FanOut creates up to limit messages of group broadcasts whose
	// fan-out is unfinished, oldest broadcast first, in one durable step:
	// the messages and the progress commit together, so a crash between
	// steps neither loses nor repeats a recipient. It returns how many
	// messages it created and whether fan-out work remains. Bounded steps
	// keep a million-member broadcast from holding the store for seconds
	// (docs/delivery.md).
	FanOut(ctx context.Context, limit int) (n int, more bool, err error)
	// Get reads one message with its attempts.
	Get(ctx context.Context, id string) (message.Message, error)
	// List pages through messages, newest first.
	List(ctx context.Context, f Filter) (msgs []message.Message, next string, err error)
	// Broadcast reads a broadcast and its messages' counts per status.
	Broadcast(ctx context.Context, id string) (message.Broadcast, map[message.Status]int, error)
	// Redrive puts a dead letter (failed, rejected or cancelled) back in
	// the queue at now with a fresh retry budget and no reason;
	// ErrConflict for other statuses.
	Redrive(ctx context.Context, id string, now time.Time) (message.Message, error)
	// Cancel ends a waiting message (queued — scheduled ones included — or
	// retrying) as cancelled, reason cancelled, at now; ErrConflict for
	// other statuses (one being sent cannot be called back).
	Cancel(ctx context.Context, id string, now time.Time) (message.Message, error)
	// CancelMatching cancels, as Cancel does, up to limit waiting messages
	// sel selects, and returns how many. Call it again while it returns
	// limit: each call is one bounded write.
	CancelMatching(ctx context.Context, sel Selection, now time.Time, limit int) (int, error)
	// RedriveMatching redrives, as Redrive does, up to limit dead letters
	// sel selects, and returns how many (call it again while it returns
	// limit).
	RedriveMatching(ctx context.Context, sel Selection, now time.Time, limit int) (int, error)
	// Counts returns the number of messages per status (queue depth). It
	// is read on every /metrics scrape, so it must be cheap at any size:
	// backends keep the counts as messages change, never count rows.
	Counts(ctx context.Context) (map[message.Status]int, error)
	// AppCounts returns the number of app's messages per status, every
	// status present. An operator's read (GET /v1/apps), not a probe's: it
	// may count the app's messages.
	AppCounts(ctx context.Context, app string) (map[message.Status]int, error)

	// App pauses: an app the platform throttled sends nothing until its
	// pause ends or an operator resumes it; pauses survive restarts.

	// PauseApp stores p as app p.App's pause, unless the app is already
	// paused until later (a longer window stands).
	PauseApp(ctx context.Context, p message.Pause) error
	// Pauses lists the stored pauses, those that ended included (the
	// caller compares Until with its clock).
	Pauses(ctx context.Context) ([]message.Pause, error)
	// ResumeApp ends app's pause at now: the pause is removed and every
	// message the pause held (Update.Held) is due at now again. It
	// returns how many messages it made due.
	ResumeApp(ctx context.Context, app string, now time.Time) (int, error)

	// Claim leases up to limit messages that are due — queued or retrying
	// with NextAttemptAt <= now, or sending with an expired lease (a worker
	// died) — marks them sending until now+lease and returns them, oldest
	// due first. Each returned message carries its Lease: a Fence greater
	// than any earlier claim of that message, and Until = now+lease.
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.Message, error)
	// Record stores the outcome of a claimed message: the attempt (may be
	// nil when no send happened, e.g. a rate-limit delay) and the new
	// state. fence is the Lease.Fence of the claim the outcome belongs to:
	// unless the message is still sending under that very claim, nothing
	// is written and the error is ErrLeaseLost (ErrNotFound for an unknown
	// id). An expired lease not yet claimed again still accepts its
	// outcome.
	Record(ctx context.Context, id string, fence int64, a *message.Attempt, u Update) error

	// Groups: named recipient lists per app.
	//
	// PutGroup creates app's group name, or replaces its members, with
	// members as they come — a backend writes them in bounded chunks, so
	// a million members never make one large write — and switches the
	// group over at once when the last is written: until then readers and
	// new broadcasts see the previous members. A member given twice counts
	// once. An error yielded by members (or ctx ending) leaves the group
	// as it was, and PutGroup returns it wrapped.
	//
	// key is the request's idempotency key ("" for none), fingerprint
	// its fingerprint, called once members are exhausted (a streamed
	// request's hash is known only then). A key already used for a group
	// write of app changes nothing: the first write's group comes back
	// with dup true (or ErrIdempotencyMismatch).
	PutGroup(ctx context.Context, app, name string, members iter.Seq2[string, error], key string, fingerprint func() string) (g message.Group, dup bool, err error)
	// Group reads a group and a page of its members, in ascending order:
	// at most limit (0: none, only the group), starting after the member
	// after ("" from the start). next is the after of the next page, ""
	// on the last. ErrNotFound when there is no such group.
	Group(ctx context.Context, app, name, after string, limit int) (g message.Group, members []string, next string, err error)
	// Groups lists app's groups (without members) by name, at most PageSize(limit)
	// after the group named after ("" from the start); next is the after
	// of the next page, "" on the last.
	Groups(ctx context.Context, app, after string, limit int) (gs []message.Group, next string, err error)
	// DeleteGroup deletes a group; ErrNotFound when there is none.
	// Broadcasts already made to it still reach its members. With idem's
	// key already used for a group write of app, nothing changes and dup
	// is true (or ErrIdempotencyMismatch).
	DeleteGroup(ctx context.Context, app, name string, idem Idempotency) (dup bool, err error)
	// Sweep removes up to limit records nothing needs any more — the
	// idempotency keys recorded before keysBefore (they expire), the
	// members of replaced and deleted groups once no broadcast to them is
	// still fanning out — and returns how many it removed: 0 when there
	// is nothing left to sweep.
	Sweep(ctx context.Context, keysBefore time.Time, limit int) (int, error)

	// Tokens: platform access tokens cached across restarts (WeChat caps
	// token calls per day, so a restart must not refetch).
	Token(ctx context.Context, key string) (token string, expires time.Time, err error)
	PutToken(ctx context.Context, key, token string, expires time.Time) error
	DeleteToken(ctx context.Context, key, token string) error

	// Writable reports at once, from memory, whether storage takes
	// writes: nil while its writes commit (while none is made, a probe
	// write of its own every few seconds stands in), else the failure,
	// wrapping ErrUnavailable. After a failure it stays so until writes
	// have committed and none has failed for a moment. Readiness probes
	// call it, so it must never wait on storage.
	Writable() error

	// Platform events: pushes the platforms send the sender, stored before
	// they are acknowledged and processed after (docs/events.md).

	// PutEvent stores a verified push. When an event with the same App and
	// Key is stored already (the platform re-sent it), nothing is written
	// and the stored one comes back with dup true. An event without an ID
	// gets one ("evt_…").
	PutEvent(ctx context.Context, e message.Event) (stored message.Event, dup bool, err error)
	// PendingEvents returns up to limit events not processed yet, oldest
	// first.
	PendingEvents(ctx context.Context, limit int) ([]message.Event, error)
	// CompleteEvent applies a processed event's effects — consent changes
	// and receipts — and marks it processed, all or nothing. An event
	// processed already is refused with ErrConflict and its effects are
	// not applied again; an unknown id is ErrNotFound.
	CompleteEvent(ctx context.Context, id string, fx EventEffects, at time.Time) error
	// Event reads one stored event.
	Event(ctx context.Context, id string) (message.Event, error)
	// PruneEvents deletes processed events received before before (their
	// keys no longer catch re-sends) and reports how many: at most
	// PruneBatch a call, so one call never holds storage long; call it
	// again while it returns PruneBatch.
	PruneEvents(ctx context.Context, before time.Time) (int, error)

	// Consent ledger (package consent).

	// Consent reads one entry: zero but for its key when unknown.
	Consent(ctx context.Context, k consent.Key) (consent.Entry, error)
	// ApplyConsent reads one entry, applies c (consent.Change.Apply) and
	// writes it when it changed, atomically: concurrent changes of one
	// entry are applied one after the other.
	ApplyConsent(ctx context.Context, k consent.Key, c consent.Change, at time.Time) (before, after consent.Entry, err error)
	// Consents lists an app's entries (one user's when user is not
	// empty), by user then template, after the entry of user and template
	// after.User, after.TemplateID (zero: from the start), at most
	// PageSize(limit); next is the after of the next page, zero on the
	// last.
	Consents(ctx context.Context, app, user string, after consent.Key, limit int) (es []consent.Entry, next consent.Key, err error)

	// Result webhooks (docs/webhooks.md): an outbox of events, written
	// by the very step that changes a message — Record, Cancel,
	// CancelMatching to a final status, CompleteEvent attaching a receipt
	// to a delivered message — when the message is in the webhook scope,
	// so a crash can neither lose nor invent one. Event ids are the
	// message's id, a dot and the event's number for that message.

	// SetWebhookScope says which messages have a result webhook from now
	// on: those of an app in scope.Apps and those sent with an API key in
	// scope.APIKeys. The sender sets it from its config at start.
	SetWebhookScope(ctx context.Context, scope WebhookScope) error
	// ClaimWebhooks leases up to limit pending deliveries due at now,
	// oldest due first: each becomes due again at now+lease (a sender
	// that dies mid-delivery leaves it to be retried), its attempt count
	// is not changed. Attempts are not filled.
	ClaimWebhooks(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.WebhookDelivery, error)
	// RecordWebhook stores an attempt of delivery id (a.N is set by the
	// store: the next number) and its new state: succeeded, failed, or
	// pending again at next. ErrNotFound for an unknown id.
	RecordWebhook(ctx context.Context, id string, a message.WebhookAttempt, st message.WebhookStatus, next time.Time) error
	// WebhookDelivery reads one delivery with its attempts.
	WebhookDelivery(ctx context.Context, id string) (message.WebhookDelivery, error)
	// WebhookDeliveries pages through deliveries, newest first, with
	// their attempts.
	WebhookDeliveries(ctx context.Context, f WebhookFilter) (ds []message.WebhookDelivery, next string, err error)
	// RedeliverWebhook makes a failed delivery pending at now with a fresh
	// retry window (its attempts stay); ErrConflict for other statuses.
	RedeliverWebhook(ctx context.Context, id string, now time.Time) (message.WebhookDelivery, error)
	// WebhookCounts returns the number of pending and of failed
	// deliveries (the outbox's depth and its dead letters; succeeded ones
	// are not counted). It is read on /metrics scrapes.
	WebhookCounts(ctx context.Context) (map[message.WebhookStatus]int, error)

	Close() error
}

// WebhookScope selects the messages that have a result webhook.
type WebhookScope struct {
	Apps    []string
	APIKeys []string
}

// WebhookFilter selects deliveries for WebhookDeliveries.
type WebhookFilter struct {
	MessageID string
	Status    message.WebhookStatus
	Limit     int    // default 100, max 1000
	Cursor    string // from a previous page's next
}

// Retainer is a Store that deletes old history (retention, issue 15).
// The bulk runner prunes through it when the store implements it.
type Retainer interface {
	// PruneMessages deletes up to limit messages of a final status
	// (delivered, failed, rejected or cancelled) whose last change (UpdatedAt) is
	// before before, with their attempts and receipts, oldest first, in
	// one durable step that yields to short writes; it returns how many it
	// deleted (0: none left). Their webhook deliveries go with them. Status counts follow. Any other status is an
	// error: queued, sending and retrying messages are never pruned.
	PruneMessages(ctx context.Context, status message.Status, before time.Time, limit int) (int, error)
}

// PruneBatch is the most events one PruneEvents call deletes.
const PruneBatch = 5000

// EventEffects are what processing a platform event changes.
type EventEffects struct {
	// Result says what processing made of the event (kept with it).
	Result string
	// Consent changes, applied in order.
	Consent []ConsentChange
	// Receipts attach to the messages with these platform msgids.
	Receipts []ReceiptUpdate
}

// ConsentChange is one change of the consent ledger.
type ConsentChange struct {
	Key    consent.Key
	Change consent.Change
}

// ReceiptUpdate is the platform's receipt for the message of App with
// PlatformMsgID. It is kept whether or not that message's outcome is
// written yet (the push may arrive first), and shows on the message from
// then on; a later receipt for the same msgid replaces it.
type ReceiptUpdate struct {
	App           string
	PlatformMsgID string
	Receipt       message.Receipt
}

// Update is a claimed message's new state.
type Update struct {
	Status        message.Status // delivered, failed, rejected, retrying or queued
	NextAttemptAt time.Time      // when retrying/queued
	PlatformMsgID string         // when delivered
	CountRetry    bool           // the attempt spends one retry
	LastCode      string
	LastError     string
	// Reason replaces the message's reason.
	Reason reason.Reason
	// Held marks a message put back because its app is paused: resuming
	// the app (ResumeApp) makes it due at once. Any other outcome clears
	// the mark.
	Held bool
	// Attempts are further attempts to record before the one Record is
	// given, in order: the token refreshes the send needed.
	Attempts []message.Attempt
}

// Selection picks messages for the bulk operations (CancelMatching,
// RedriveMatching). Zero fields select all; Statuses outside what the
// operation applies to select nothing.
type Selection struct {
	App         string
	Statuses    []message.Status
	BroadcastID string
	// Reason and Code match the message's reason and last code exactly.
	Reason reason.Reason
	Code   string
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound when the
	// messages were accepted.
	CreatedFrom, CreatedTo time.Time
}

// Filter selects messages for List.
type Filter struct {
	App         string
	Status      message.Status
	BroadcastID string
	// Receipt selects messages whose platform receipt has this status.
	Receipt message.ReceiptStatus
	// Reason matches the message's reason exactly, To its recipient
	// exactly; CreatedFrom (inclusive) and CreatedTo (exclusive) bound when
	// it was accepted — the same matches as Selection's. They are checked
	// on the rows the index walk above reads, at most ListExamined rows
	// per call: a page may then hold fewer than Limit messages, even none,
	// with a next cursor to continue from.
	Reason                 reason.Reason
	To                     string
	CreatedFrom, CreatedTo time.Time
	Limit                  int    // default 100, max 1000
	Cursor                 string // from a previous page's next
}

// ListExamined bounds the messages one List call reads to check the
// filters its index does not select, so that a sparse filter over a long
// history costs one bounded request per page, not a walk of the history.
const ListExamined = 20000

// Members yields ms in order, for PutGroup when the members are already in
// memory.
func Members(ms ...string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, m := range ms {
			if !yield(m, nil) {
				return
			}
		}
	}
}
