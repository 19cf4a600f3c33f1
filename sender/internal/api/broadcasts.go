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

// maxRecipients bounds one broadcast (one transaction of that many rows).
const maxRecipients = 1_000_000

type broadcastRequest struct {
	App        string            `json:"app"`
	To         []string          `json:"to"`
	Group      string            `json:"group"`
	TemplateID string            `json:"template_id"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page"`
	SendAt     *time.Time        `json:"send_at"`
}

// POST /v1/broadcasts {"app","to":[…] | "group","template_id","data",…} →
// 202 {"id","recipients"}; the fan-out is committed with the broadcast.
func (a *API) postBroadcast(w http.ResponseWriter, r *http.Request) {
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	bulk(w, r)
	var req broadcastRequest
	if !decode(w, r, maxBroadcastBody, &req) {
		return
	}
	app, ps := a.checkContent(req.App, req.TemplateID, req.Data, req.Page)
	switch {
	case len(req.To) > 0 && req.Group != "":
		ps = append(ps, Problem{"to", "exclusive", "give to or group, not both"})
	case len(req.To) == 0 && req.Group == "":
		ps = append(ps, Problem{"to", "required", "to (a list of recipients) or group is required"})
	}
	ps = append(ps, checkIdent("group", req.Group, maxGroupNameBytes)...)
	ps = append(ps, checkList("to", req.To)...)
	ps = append(ps, checkSendAt(req.SendAt, a.now())...)
	if len(ps) > 0 {
		ps = capProblems(ps)
		a.rejected(app.Name, ps)
		writeProblems(w, ps)
		return
	}
	recipients := req.To
	if req.Group != "" {
		members, err := a.store.Group(r.Context(), app.Name, req.Group)
		if errors.Is(err, storage.ErrNotFound) {
			// The route exists; what is missing is a resource the body
			// names. A 404 would read as "no such endpoint".
			ps := []Problem{{"group", "not_found", fmt.Sprintf("app %q has no group %q", app.Name, req.Group)}}
			a.rejected(app.Name, ps)
			writeProblems(w, ps)
			return
		}
		if err != nil {
			a.storeError(w, err, fmt.Sprintf("group %q of app %q", req.Group, app.Name))
			return
		}
		recipients = members
	}
	recipients = dedupe(recipients)
	switch {
	case len(recipients) == 0:
		writeProblems(w, []Problem{{"to", "required", "the broadcast has no recipients"}})
		return
	case len(recipients) > maxRecipients:
		writeProblems(w, []Problem{{"to", "too_many", fmt.Sprintf("at most %d recipients per broadcast", maxRecipients)}})
		return
	}
	now := a.now()
	due := now
	if req.SendAt != nil && req.SendAt.After(now) {
		due = *req.SendAt
	}
	b := message.Broadcast{ID: message.NewID("bc_", now), App: app.Name, Group: req.Group, TemplateID: req.TemplateID,
		Data: req.Data, Page: req.Page, Recipients: len(recipients), CreatedAt: now}
	msgs := make([]message.Message, len(recipients))
	for i, to := range recipients {
		msgs[i] = message.Message{ID: message.NewID("msg_", now), App: app.Name, Platform: app.Platform, To: to,
			TemplateID: req.TemplateID, Data: req.Data, Page: req.Page, BroadcastID: b.ID,
			Status: message.StatusQueued, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now}
	}
	// msgs is not used after the call: storage has its rows once it has
	// built its statements, and the GC may then free the messages (30 MB
	// for 100k recipients) while the transaction runs.
	n := len(msgs)
	if err := a.store.CreateBroadcast(r.Context(), b, msgs); err != nil {
		a.storeError(w, err, "broadcast")
		return
	}
	if a.hooks.Accepted != nil {
		a.hooks.Accepted(app.Name, n)
	}
	if a.hooks.Queued != nil {
		a.hooks.Queued()
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": b.ID, "recipients": n})
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

// GET /v1/broadcasts/{id} → the broadcast and its counts per status.
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
	c := map[message.Status]int{}
	for _, s := range message.Statuses {
		c[s] = counts[s]
	}
	writeJSON(w, http.StatusOK, map[string]any{"broadcast": b, "counts": c})
}
