package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/senderclient"
)

// Actions: each is one API call made with the signed-in key.

// back is where a form asks to return to (a console path), else def.
func back(r *http.Request, def string) string {
	if b := r.PostForm.Get("back"); b != "" && safeNext(b) == b {
		return b
	}
	return def
}

func messagePath(id string) string { return Prefix + "/messages/" + url.PathEscape(id) }

// POST /console/messages/{id}/retry redrives a dead letter
// (POST /v1/messages/{id}/retry).
func (c *Console) postRetry(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	id := mux.Vars(r)["id"]
	if _, err := c.client(fromContext(r.Context())).Retry(r.Context(), id); err != nil {
		return "", "", err
	}
	return back(r, messagePath(id)), "redriven", nil
}

// POST /console/messages/{id}/cancel cancels a waiting message
// (POST /v1/messages/{id}/cancel).
func (c *Console) postCancel(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	id := mux.Vars(r)["id"]
	if _, err := c.client(fromContext(r.Context())).Cancel(r.Context(), id); err != nil {
		return "", "", err
	}
	return back(r, messagePath(id)), "cancelled", nil
}

// selection reads a bulk form: app, statuses, reason, code, created
// from/to — the API checks each and names what is wrong.
func selection(r *http.Request, allowed []string) (senderclient.Selection, error) {
	f := r.PostForm
	sel := senderclient.Selection{App: f.Get("app"), Reason: f.Get("reason"), Code: strings.TrimSpace(f.Get("code"))}
	for _, s := range f["status"] {
		if s != "" && slices.Contains(allowed, s) {
			sel.Status = append(sel.Status, s)
		}
	}
	if from, msg := parseTime("created_from", f.Get("created_from")); msg != "" {
		return sel, formError(msg)
	} else if !from.IsZero() {
		sel.CreatedFrom = &from
	}
	if to, msg := parseTime("created_to", f.Get("created_to")); msg != "" {
		return sel, formError(msg)
	} else if !to.IsZero() {
		sel.CreatedTo = &to
	}
	return sel, nil
}

// formError is a form value the console cannot hand to the API.
type formError string

func (e formError) Error() string { return string(e) }

// POST /console/dead-letters/retry redrives every dead letter the form
// selects (POST /v1/messages/retry).
func (c *Console) postBulkRetry(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	sel, err := selection(r, []string{senderclient.StatusFailed, senderclient.StatusRejected, senderclient.StatusCancelled})
	if err != nil {
		return "", "", err
	}
	n, err := c.client(fromContext(r.Context())).RetryMessages(r.Context(), sel)
	if err != nil {
		return "", "", err
	}
	return Prefix + "/dead-letters?" + url.Values{"app": {sel.App}, "count": {strconv.Itoa(n)}}.Encode(), "bulk-retry", nil
}

// POST /console/messages/cancel cancels every waiting message the form
// selects (POST /v1/messages/cancel).
func (c *Console) postBulkCancel(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	sel, err := selection(r, []string{senderclient.StatusQueued, senderclient.StatusRetrying})
	if err != nil {
		return "", "", err
	}
	n, err := c.client(fromContext(r.Context())).CancelMessages(r.Context(), sel)
	if err != nil {
		return "", "", err
	}
	return Prefix + "/messages?" + url.Values{"app": {sel.App}, "count": {strconv.Itoa(n)}}.Encode(), "bulk-cancel", nil
}

// POST /console/apps/{name}/resume ends the app's pause
// (POST /v1/apps/{name}/resume).
func (c *Console) postResume(_ http.ResponseWriter, r *http.Request) (string, string, error) {
	if _, err := c.client(fromContext(r.Context())).ResumeApp(r.Context(), mux.Vars(r)["name"]); err != nil {
		return "", "", err
	}
	return Prefix + "/apps", "resumed", nil
}
