package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

type messageRequest struct {
	App            string            `json:"app"`
	To             string            `json:"to"`
	TemplateID     string            `json:"template_id"`
	Data           map[string]string `json:"data"`
	Page           string            `json:"page"`
	IdempotencyKey string            `json:"idempotency_key"`
	SendAt         *time.Time        `json:"send_at"`
	// Urgent passes the app's quiet hours; Dedup sets the message's own
	// dedup key and window (docs/campaigns.md).
	Urgent bool          `json:"urgent"`
	Dedup  *dedupRequest `json:"dedup"`
}

// POST /v1/messages → 202 with the message (flat: id, status queued,
// send_at as asked, …) once committed; the same idempotency key for the
// same app → 200 with the first message.
func (a *API) postMessage(w http.ResponseWriter, r *http.Request) {
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	var req messageRequest
	if !decode(w, r, maxMessageBody, &req) {
		return
	}
	key, ok := idempotencyKey(w, r, req.IdempotencyKey)
	if !ok {
		return
	}
	req.IdempotencyKey = key
	app, ps := a.checkContent(r.Context(), req.App, req.TemplateID, req.Data, req.Page)
	// Recipients are trimmed as in broadcasts: " o_user" is o_user, not a
	// permanent 40003 after a network call.
	req.To = strings.TrimSpace(req.To)
	if req.To == "" {
		ps = append([]Problem{{"to", "required", "to is required: the recipient's openid / user id"}}, ps...)
	}
	ps = append(ps, checkIdent("to", req.To, maxRecipientBytes)...)
	ps = append(ps, checkIdent("idempotency_key", req.IdempotencyKey, maxIdempotencyKeyBytes)...)
	ps = append(ps, checkSendAt(req.SendAt, a.now())...)
	copts, cps := a.campaignOptions(app.Name, req.Urgent, req.Dedup)
	ps = append(ps, cps...)
	if len(ps) > 0 {
		a.rejected(app.Name, ps)
		writeProblems(w, ps)
		return
	}
	now := a.now()
	due := now
	if req.SendAt != nil && req.SendAt.After(now) {
		due = *req.SendAt
	}
	m := message.Message{ID: message.NewID("msg_", now), App: app.Name, Platform: app.Platform, To: req.To,
		TemplateID: req.TemplateID, Data: req.Data, Page: req.Page, IdempotencyKey: req.IdempotencyKey,
		Status: message.StatusQueued, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now, APIKey: keyName(r)}
	if req.SendAt != nil {
		m.SendAt = req.SendAt.UTC()
	}
	if m.IdempotencyKey != "" {
		m.Fingerprint = fingerprint(struct {
			App, To, TemplateID string
			Data                map[string]string
			Page, SendAt        string
		}{app.Name, req.To, req.TemplateID, req.Data, req.Page, canonicalTime(req.SendAt)})
	}
	a.campaigns[app.Name].Apply(&m, copts, now)
	out, dup, err := a.store.Enqueue(r.Context(), []message.Message{m})
	if err != nil {
		a.storeError(w, err, "message")
		return
	}
	if dup[0] {
		writeMessage(w, http.StatusOK, &out[0])
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(app.Name, 1)
	}
	a.campaignCounted(app.Name, out)
	if a.hooks.Queued != nil && out[0].Status == message.StatusQueued {
		a.hooks.Queued()
	}
	writeMessage(w, http.StatusAccepted, &out[0])
}

// keyName is the name of the API key the request came with ("" outside
// auth).
func keyName(r *http.Request) string {
	k, _ := callerKey(r)
	return k.Name
}

// rejected counts refused messages per rule. app is a configured app's
// name or "" (unknown or missing): a caller-chosen name must not become a
// metrics label, or any client could grow the series without bound.
func (a *API) rejected(app string, ps []Problem) {
	if a.hooks.Rejected == nil {
		return
	}
	if _, ok := a.apps[app]; !ok {
		app = ""
	}
	for _, p := range ps {
		a.hooks.Rejected(app, p.Rule)
	}
}

// GET /v1/messages/{id} → the message with every attempt.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) {
	id, ps := pathID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	m, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.storeError(w, err, "message")
		return
	}
	if m.Attempts == nil {
		m.Attempts = []message.Attempt{}
	}
	writeJSON(w, http.StatusOK, m)
}

// GET /v1/messages?status=failed&app=…&broadcast=…&receipt=…&reason=…&to=…
// &created_from=…&created_to=…&limit=&cursor=
//
// reason, to and the creation times are checked on the messages the other
// filters select, at most storage.ListExamined of them per request: a page
// may then hold fewer messages than limit, even none, with a next_cursor
// to continue from.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "status", "app", "broadcast", "receipt", "reason", "to", "created_from", "created_to", "limit", "cursor")
	f := storage.Filter{App: q["app"], Status: message.Status(q["status"]), BroadcastID: q["broadcast"], Cursor: q["cursor"],
		Reason: reason.Reason(q["reason"]), To: q["to"]}
	if f.Status != "" && !f.Status.Valid() {
		ps = append(ps, Problem{"status", "invalid", "status must be one of " + statusNames(message.Statuses)})
	}
	if f.Reason != "" && !f.Reason.Valid() {
		ps = append(ps, Problem{"reason", "invalid", fmt.Sprintf("reason %q is not in the vocabulary", f.Reason)})
	}
	ps = append(ps, checkIdent("to", f.To, maxRecipientBytes)...)
	ps = append(ps, createdRange(q, &f.CreatedFrom, &f.CreatedTo)...)
	switch f.Receipt = message.ReceiptStatus(q["receipt"]); f.Receipt {
	case "", message.ReceiptDelivered, message.ReceiptFailed:
	default:
		ps = append(ps, Problem{"receipt", "invalid", "receipt must be delivered or failed (the platform's delivery receipt)"})
	}
	if f.App != "" {
		if _, ok := a.apps[f.App]; !ok {
			ps = append(ps, Problem{"app", "unknown_app", "no app named " + strconv.Quote(f.App) + " is configured"})
		}
	}
	f.Limit, ps = listLimit(q, ps)
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	msgs, next, err := a.store.List(r.Context(), f)
	if badCursor(w, err, f.Cursor) {
		return
	}
	if err != nil {
		a.storeError(w, err, "messages")
		return
	}
	writeJSON(w, http.StatusOK, page(msgs, next))
}

// listPage is the shape of every list: {"items":[…],"next_cursor":"…"}
// ("" on the last page).
type listPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func page[T any](items []T, next string) listPage[T] {
	if items == nil {
		items = []T{}
	}
	return listPage[T]{Items: items, NextCursor: next}
}

// countAnswer is the shape of a bulk action's answer.
type countAnswer struct {
	Count int `json:"count"`
}

func statusNames(ss []message.Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// POST /v1/messages/{id}/retry redrives a dead letter (failed, rejected
// or cancelled) → 202 with the message.
func (a *API) retryMessage(w http.ResponseWriter, r *http.Request) {
	a.changeMessage(w, r, http.StatusAccepted, a.store.Redrive)
}

// POST /v1/messages/{id}/cancel cancels a waiting message (queued,
// scheduled or retrying) → 200 with the message, status cancelled; 409
// for any other status.
func (a *API) cancelMessage(w http.ResponseWriter, r *http.Request) {
	a.changeMessage(w, r, http.StatusOK, a.store.Cancel)
}

func (a *API) changeMessage(w http.ResponseWriter, r *http.Request, status int,
	change func(ctx context.Context, id string, now time.Time) (message.Message, error)) {
	id, ps := pathID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	m, err := change(r.Context(), id, a.now())
	if err != nil {
		a.storeError(w, err, "message")
		return
	}
	if m.Status == message.StatusQueued && a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	writeJSON(w, status, m)
}

// selectionRequest is the body of the bulk actions: which messages.
type selectionRequest struct {
	App string `json:"app"`
	// Status narrows the statuses the action applies to (cancel: queued,
	// retrying; retry: failed, rejected, cancelled).
	Status      []message.Status `json:"status"`
	Broadcast   string           `json:"broadcast"`
	Reason      reason.Reason    `json:"reason"`
	Code        string           `json:"code"`
	CreatedFrom *time.Time       `json:"created_from"`
	CreatedTo   *time.Time       `json:"created_to"`
}

// bulkStep is how many messages one storage step of a bulk action
// changes: a bounded write, like a fan-out step.
const bulkStep = 2000

// maxBulkDuration bounds one bulk action's request: the steps so far stay
// done, and the answer's count says how many.
const maxBulkDuration = 5 * time.Minute

// POST /v1/messages/cancel {app, status, reason, code, broadcast,
// created_from, created_to} → {"count"}: cancels every waiting message
// the filter selects.
func (a *API) cancelMatching(w http.ResponseWriter, r *http.Request) {
	a.bulkAction(w, r, message.Cancellable, a.store.CancelMatching)
}

// POST /v1/messages/retry {…the same filter} → {"count"}: redrives every
// dead letter the filter selects.
func (a *API) redriveMatching(w http.ResponseWriter, r *http.Request) {
	a.bulkAction(w, r, message.Redrivable, a.store.RedriveMatching)
}

func (a *API) bulkAction(w http.ResponseWriter, r *http.Request, allowed []message.Status,
	step func(ctx context.Context, sel storage.Selection, now time.Time, limit int) (int, error)) {
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	bulk(w, r)
	var req selectionRequest
	if !decode(w, r, maxMessageBody, &req) {
		return
	}
	var ps []Problem
	if _, ok := a.apps[req.App]; !ok {
		if req.App == "" {
			ps = append(ps, Problem{"app", "required", "app is required: a bulk action applies to one app's messages"})
		} else {
			ps = append(ps, Problem{"app", "unknown_app", fmt.Sprintf("no app named %q is configured", req.App)})
		}
	}
	for i, st := range req.Status {
		if !slices.Contains(allowed, st) {
			ps = append(ps, Problem{fmt.Sprintf("status[%d]", i), "invalid",
				fmt.Sprintf("status %q: this action applies to %s", st, statusNames(allowed))})
		}
	}
	if req.Reason != "" && !req.Reason.Valid() {
		ps = append(ps, Problem{"reason", "invalid", fmt.Sprintf("reason %q is not in the vocabulary", req.Reason)})
	}
	ps = append(ps, checkIdent("broadcast", req.Broadcast, maxPathIDBytes)...)
	ps = append(ps, checkIdent("code", req.Code, maxTemplateIDBytes)...)
	if req.CreatedFrom != nil && req.CreatedTo != nil && !req.CreatedTo.After(*req.CreatedFrom) {
		ps = append(ps, Problem{"created_to", "range", "created_to must be after created_from"})
	}
	if len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	sel := storage.Selection{App: req.App, Statuses: req.Status, BroadcastID: req.Broadcast, Reason: req.Reason, Code: req.Code}
	if req.CreatedFrom != nil {
		sel.CreatedFrom = *req.CreatedFrom
	}
	if req.CreatedTo != nil {
		sel.CreatedTo = *req.CreatedTo
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxBulkDuration)
	defer cancel()
	now, total := a.now(), 0
	for {
		n, err := step(ctx, sel, now, bulkStep)
		total += n
		if err != nil {
			if total > 0 {
				a.log.Warn("bulk action stopped part way", "app", req.App, "done", total, "err", err)
			}
			a.storeError(w, err, "messages")
			return
		}
		if n < bulkStep {
			break
		}
	}
	if total > 0 && a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	a.log.Info("bulk action", "path", r.URL.Path, "key", keyName(r), "app", req.App, "messages", total)
	writeJSON(w, http.StatusOK, countAnswer{Count: total})
}

// createdRange reads the created_from and created_to filters of a list
// (RFC 3339 times, to after from) into from and to.
func createdRange(q map[string]string, from, to *time.Time) []Problem {
	var ps []Problem
	for _, c := range []struct {
		name string
		t    *time.Time
	}{{"created_from", from}, {"created_to", to}} {
		if v := q[c.name]; v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				ps = append(ps, Problem{c.name, "invalid", c.name + " must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z (a + offset percent-encoded as %2B)"})
				continue
			}
			*c.t = t
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(*from) {
		ps = append(ps, Problem{"created_to", "range", "created_to must be after created_from"})
	}
	return ps
}
