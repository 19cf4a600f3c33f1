package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// maxListRecipients bounds the list of one broadcast request: its messages
// are written in one transaction, which must stay short (docs/delivery.md).
// Larger audiences go in a group, whose members are written and fanned out
// in bounded chunks.
const maxListRecipients = 10_000

type broadcastRequest struct {
	App        string            `json:"app"`
	To         []string          `json:"to"`
	Group      string            `json:"group"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page"`
	SendAt     *time.Time        `json:"send_at"`
	// IdempotencyKey (or the Idempotency-Key header): a retried broadcast
	// is not fanned out twice.
	IdempotencyKey string `json:"idempotency_key"`
	// Urgent passes the app's quiet hours; Dedup sets the messages' own
	// dedup key and window (list broadcasts; docs/campaigns.md).
	Urgent bool          `json:"urgent"`
	Dedup  *dedupRequest `json:"dedup"`
}

// POST /v1/broadcasts {"app","to":[…] | "group","template_id","data",…} →
// 202 with the broadcast (flat: id, recipients, fanned_out, send_at, …). A list's messages are committed with the
// broadcast; a group's are created in the background in bounded chunks
// (GET /v1/broadcasts/{id} shows fanned_out growing to recipients).
func (a *API) postBroadcast(w http.ResponseWriter, r *http.Request) {
	if csvBody(r) {
		a.postBroadcastCSV(w, r)
		return
	}
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	bulk(w, r)
	var req broadcastRequest
	if !decode(w, r, maxBroadcastBody, &req) {
		return
	}
	app, ps := a.checkContent(r.Context(), req.App, req.TemplateID, req.Data, req.Page)
	switch {
	case len(req.To) > 0 && req.Group != "":
		ps = append(ps, Problem{"to", "exclusive", "give to or group, not both"})
	case len(req.To) == 0 && req.Group == "":
		ps = append(ps, Problem{"to", "required", "to (a list of recipients) or group is required"})
	}
	ps = append(ps, checkIdent("group", req.Group, maxGroupNameBytes)...)
	ps = append(ps, checkList("to", req.To)...)
	ps = append(ps, checkSendAt(req.SendAt, a.now())...)
	copts, cps := a.campaignOptions(app.Name, req.Urgent, req.Dedup)
	ps = append(ps, cps...)
	key, ok := idempotencyKey(w, r, req.IdempotencyKey)
	if !ok {
		return
	}
	ps = append(ps, checkIdent("idempotency_key", key, maxIdempotencyKeyBytes)...)
	var recipients []string
	if len(req.To) > 0 {
		recipients = dedupe(req.To)
		switch {
		case len(recipients) == 0:
			ps = append(ps, Problem{"to", "required", "the broadcast has no recipients"})
		case len(recipients) > maxListRecipients:
			ps = append(ps, Problem{"to", "too_many", fmt.Sprintf("to lists %d recipients, more than the %d a broadcast "+
				"request may list: put larger audiences in a group (PUT /v1/groups/{name}) and broadcast to it",
				len(recipients), maxListRecipients)})
		}
	}
	if len(ps) > 0 {
		ps = capProblems(ps)
		a.rejected(app.Name, ps)
		writeProblems(w, ps)
		return
	}
	now := a.now()
	b := message.Broadcast{ID: message.NewID("bc_", now), App: app.Name, Platform: app.Platform, Group: req.Group,
		TemplateID: req.TemplateID, Data: req.Data, Page: req.Page, CreatedAt: now, IdempotencyKey: key, APIKey: keyName(r)}
	if req.SendAt != nil && req.SendAt.After(now) {
		b.SendAt = *req.SendAt
	}
	if key != "" {
		b.Fingerprint = fingerprint(struct {
			App        string
			To         []string
			Group      string
			TemplateID string
			Data       map[string]string
			Page       string
			SendAt     string
		}{app.Name, recipients, req.Group, req.TemplateID, req.Data, req.Page, canonicalTime(req.SendAt)})
	}
	if req.Group != "" {
		// Dedup and frequency caps apply to each member at the fan-out
		// (storage.FanOutAdmit), with the request's dedup key and window.
		b.Dedup = broadcastDedup(copts)
		// Quiet hours hold a group broadcast as a whole: its fan-out
		// makes its messages due at the window's end, and the app's rate
		// paces them (docs/campaigns.md).
		due := now
		if !b.SendAt.IsZero() {
			due = b.SendAt
		}
		if end, held := a.campaigns[app.Name].QuietEnd(due, b.ID); held && !req.Urgent {
			b.SendAt = end
		}
		a.broadcastGroup(w, r, b)
		return
	}
	due := b.SendAt
	if due.IsZero() {
		due = now
	}
	msgs := make([]message.Message, len(recipients))
	rules := a.campaigns[app.Name]
	for i, to := range recipients {
		msgs[i] = message.Message{ID: message.NewID("msg_", now), App: app.Name, Platform: app.Platform, To: to,
			TemplateID: req.TemplateID, Data: req.Data, Page: req.Page, BroadcastID: b.ID,
			Status: message.StatusQueued, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now, SendAt: b.SendAt, APIKey: b.APIKey}
		rules.Apply(&msgs[i], copts, now)
	}
	stored, dup, err := a.store.CreateBroadcast(r.Context(), b, msgs)
	if err != nil {
		a.storeError(w, err, "broadcast")
		return
	}
	if dup {
		writeJSON(w, http.StatusOK, stored)
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(app.Name, stored.Recipients)
	}
	a.campaignCounted(app.Name, msgs) // those held by quiet hours
	if a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	writeJSON(w, http.StatusAccepted, stored)
}

// broadcastGroup accepts a broadcast to a group: one record, fanned out
// afterwards. The store looks the group up in the transaction that claims
// the idempotency key, so a retry is answered as the first request was
// even after the group changed or went.
func (a *API) broadcastGroup(w http.ResponseWriter, r *http.Request, b message.Broadcast) {
	stored, dup, err := a.store.CreateBroadcast(r.Context(), b, nil)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// The route exists; what is missing is a resource the body
		// names. A 404 would read as "no such endpoint".
		ps := []Problem{{"group", "not_found", fmt.Sprintf("app %q has no group %q", b.App, b.Group)}}
		a.rejected(b.App, ps)
		writeProblems(w, ps)
		return
	case errors.Is(err, storage.ErrConflict):
		ps := []Problem{{"group", "empty", fmt.Sprintf("group %q of app %q has no members", b.Group, b.App)}}
		a.rejected(b.App, ps)
		writeProblems(w, ps)
		return
	case err != nil:
		a.storeError(w, err, "broadcast")
		return
	case dup:
		writeJSON(w, http.StatusOK, stored)
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(b.App, stored.Recipients)
	}
	if a.hooks.FanOut != nil {
		a.hooks.FanOut()
	}
	writeJSON(w, http.StatusAccepted, stored)
}

// dedupe drops empty and repeated recipients, keeping the first order.
func dedupe(in []string) []string {
	seen := make(map[string]struct{}, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

// GET /v1/broadcasts/{id} → the broadcast (flat) with its messages'
// counts per status, its state and the schedule whose run made it (the
// list's item, broadcastlist.go).
func (a *API) getBroadcast(w http.ResponseWriter, r *http.Request) {
	id, ps := pathID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	b, counts, err := a.store.Broadcast(r.Context(), id)
	if err != nil {
		a.storeError(w, err, "broadcast")
		return
	}
	writeJSON(w, http.StatusOK, newBroadcastItem(b, counts, a.now()))
}
