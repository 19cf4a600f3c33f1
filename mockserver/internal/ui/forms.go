package ui

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
)

// maxFormBody bounds a form post (content rules are the largest).
const maxFormBody = 256 << 10

// actionFunc handles a validated form post. It returns where to go next
// (a UI path with its query) and the notice to show there, or an error to
// show on the page the form came from.
type actionFunc func(r *http.Request) (next string, notice string, err error)

// post guards a state-changing form: POST only, a form body, the
// cross-origin check and the CSRF token. A success redirects (303) so a
// reload does not repeat it; a failure renders the form's page with the
// error, the status the control API would answer, and the values typed.
func (u *UI) post(h actionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := u.origin.Check(r); err != nil {
			u.renderError(w, r, http.StatusForbidden, "Refused: this form was posted from another site ("+err.Error()+").")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			u.renderError(w, r, http.StatusUnsupportedMediaType, "Refused: a form post must be application/x-www-form-urlencoded.")
			return
		}
		if err := r.ParseForm(); err != nil {
			u.renderError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return
		}
		if got := r.PostForm.Get("csrf"); subtle.ConstantTimeCompare([]byte(got), []byte(u.csrfToken)) != 1 {
			u.renderError(w, r, http.StatusForbidden, "Refused: the form's token is missing or wrong (reload the page and try again).")
			return
		}
		next, notice, err := h(r)
		if err != nil {
			u.renderFormError(w, r, err)
			return
		}
		if notice != "" {
			next = withParam(next, "notice", notice)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

// renderFormError shows the page the form belongs to (its "page" field)
// with the error and the values the user typed.
func (u *UI) renderFormError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	var fe *fieldErr
	if !errors.As(err, &fe) {
		status = controlapi.ErrorStatus(err)
	}
	v := formError{Message: err.Error(), Field: errorField(err)}
	switch r.PostForm.Get("page") {
	case "subscriptions":
		u.renderSubscriptions(w, r, status, r.PostForm, &v)
	case "phone":
		u.renderPhone(w, r, status, r.PostForm, &v)
	case "journal":
		u.renderJournal(w, r, status, r.PostForm, &v)
	default:
		u.renderControl(w, r, status, r.PostForm, &v)
	}
}

// formError is an error shown above a form, naming the bad field.
type formError struct {
	Message, Field string
}

// withParam adds one query parameter to a UI path.
func withParam(path, name, value string) string {
	path, frag, hasFrag := strings.Cut(path, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	path += sep + url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if hasFrag {
		path += "#" + frag
	}
	return path
}

// formInt reads an optional integer field.
func formInt(form url.Values, name string) (int, error) {
	s := strings.TrimSpace(form.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &fieldErr{field: name, msg: name + " must be a whole number, got " + strconv.Quote(s)}
	}
	return n, nil
}

// fieldErr is a form error of the UI's own (one the control API never
// sees, such as a number that does not parse).
type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.msg }

// errorField names the field of an error from either the UI or the
// control API.
func errorField(err error) string {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return fe.field
	}
	return controlapi.ErrorField(err)
}
