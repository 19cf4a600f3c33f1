package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// The result webhooks' delivery log (docs/webhooks.md#delivery-log).

// pathDeliveryID reads the {id} of a webhook delivery: a message id, a
// dot and a number.
func pathDeliveryID(r *http.Request) (string, []Problem) {
	id := mux.Vars(r)["id"]
	msg, n, ok := strings.Cut(id, ".")
	if len(id) > maxPathIDBytes || !ok || msg == "" || !isID(msg) {
		return "", []Problem{{"id", "invalid", "id must be a webhook delivery's id: a message id, a dot and a number"}}
	}
	if _, err := strconv.ParseUint(n, 10, 31); err != nil {
		return "", []Problem{{"id", "invalid", "id must be a webhook delivery's id: a message id, a dot and a number"}}
	}
	return id, nil
}

func webhookStatusNames() string {
	names := make([]string, len(message.WebhookStatuses))
	for i, s := range message.WebhookStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// GET /v1/webhooks/deliveries?message_id=&status=&limit=&cursor= →
// deliveries with their attempts, newest first.
func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "message_id", "status", "limit", "cursor")
	f := storage.WebhookFilter{MessageID: q["message_id"], Status: message.WebhookStatus(q["status"]), Cursor: q["cursor"]}
	if f.Status != "" && !f.Status.Valid() {
		ps = append(ps, Problem{"status", "invalid", "status must be one of " + webhookStatusNames()})
	}
	if id := f.MessageID; id != "" && !isID(id) {
		ps = append(ps, Problem{"message_id", "invalid", fmt.Sprintf("message_id must be up to %d letters, digits, '_' or '-'", maxPathIDBytes)})
	}
	f.Limit, ps = listLimit(q, ps)
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	ds, next, err := a.store.WebhookDeliveries(r.Context(), f)
	if badCursor(w, err, f.Cursor) {
		return
	}
	if err != nil {
		a.storeError(w, err, "webhook deliveries")
		return
	}
	writeJSON(w, http.StatusOK, page(ds, next))
}

// GET /v1/webhooks/deliveries/{id} → the delivery with its attempts.
func (a *API) getWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	id, ps := pathDeliveryID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	d, err := a.store.WebhookDelivery(r.Context(), id)
	if err != nil {
		a.storeError(w, err, "webhook delivery")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// POST /v1/webhooks/deliveries/{id}/redeliver → a failed delivery pending
// again, with a fresh retry window (admin); 409 unless it failed.
func (a *API) redeliverWebhook(w http.ResponseWriter, r *http.Request) {
	id, ps := pathDeliveryID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return
	}
	d, err := a.store.RedeliverWebhook(r.Context(), id, time.Now())
	if err != nil {
		a.storeError(w, err, "webhook delivery")
		return
	}
	if a.hooks.Redelivered != nil {
		a.hooks.Redelivered()
	}
	writeJSON(w, http.StatusOK, d)
}
