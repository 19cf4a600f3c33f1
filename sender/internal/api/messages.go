package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
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
}

type acceptedAnswer struct {
	ID     string         `json:"id"`
	Status message.Status `json:"status"`
}

// POST /v1/messages → 202 {"id","status":"queued"} once committed; the same
// idempotency key for the same app → 200 with the first message.
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
	app, ps := a.checkContent(req.App, req.TemplateID, req.Data, req.Page)
	// Recipients are trimmed as in broadcasts: " o_user" is o_user, not a
	// permanent 40003 after a network call.
	req.To = strings.TrimSpace(req.To)
	if req.To == "" {
		ps = append([]Problem{{"to", "required", "to is required: the recipient's openid / user id"}}, ps...)
	}
	ps = append(ps, checkIdent("to", req.To, maxRecipientBytes)...)
	ps = append(ps, checkIdent("idempotency_key", req.IdempotencyKey, maxIdempotencyKeyBytes)...)
	ps = append(ps, checkSendAt(req.SendAt, a.now())...)
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
		Status: message.StatusQueued, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now}
	if m.IdempotencyKey != "" {
		m.Fingerprint = fingerprint(struct {
			App, To, TemplateID string
			Data                map[string]string
			Page, SendAt        string
		}{app.Name, req.To, req.TemplateID, req.Data, req.Page, canonicalTime(req.SendAt)})
	}
	out, dup, err := a.store.Enqueue(r.Context(), []message.Message{m})
	if err != nil {
		a.storeError(w, err, "message")
		return
	}
	if dup[0] {
		writeJSON(w, http.StatusOK, acceptedAnswer{ID: out[0].ID, Status: out[0].Status})
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(app.Name, 1)
	}
	if a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	writeJSON(w, http.StatusAccepted, acceptedAnswer{ID: out[0].ID, Status: message.StatusQueued})
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

// GET /v1/messages?status=failed&app=…&broadcast=…&receipt=…&limit=&cursor=
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "status", "app", "broadcast", "receipt", "limit", "cursor")
	f := storage.Filter{App: q["app"], Status: message.Status(q["status"]), BroadcastID: q["broadcast"], Cursor: q["cursor"]}
	if f.Status != "" && !f.Status.Valid() {
		ps = append(ps, Problem{"status", "invalid", "status must be one of queued, sending, delivered, retrying, failed, rejected"})
	}
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
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			ps = append(ps, Problem{"limit", "range", "limit must be an integer 1..1000"})
		}
		f.Limit = n
	}
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	msgs, next, err := a.store.List(r.Context(), f)
	if errors.Is(err, storage.ErrNotFound) && f.Cursor != "" {
		// The only thing List can fail to find is the cursor.
		writeBadParams(w, []Problem{{"cursor", "invalid", "cursor must be a next_cursor from a previous page"}})
		return
	}
	if err != nil {
		a.storeError(w, err, "messages")
		return
	}
	if msgs == nil {
		msgs = []message.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "next_cursor": next})
}

// POST /v1/messages/{id}/retry redrives a dead letter (failed or rejected).
func (a *API) retryMessage(w http.ResponseWriter, r *http.Request) {
	id, ps := pathID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	m, err := a.store.Redrive(r.Context(), id, a.now())
	if err != nil {
		a.storeError(w, err, "message")
		return
	}
	if a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	writeJSON(w, http.StatusAccepted, acceptedAnswer{ID: m.ID, Status: m.Status})
}
