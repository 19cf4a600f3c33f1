package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// With a control token (-control-token), the UI can do everything the
// control API can, so it asks for the same token: once, on a login page,
// after which an HttpOnly, SameSite=Strict cookie holding a per-server
// random session value (never the token) lets the browser in until the
// server restarts. Scripts may send Authorization: Bearer <token> instead.
// Without a token the UI is open, like the control API.

const sessionCookie = "minipush_mock_ui"

func newSession() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// authorized reports whether r carries the token or the session.
func (u *UI) authorized(r *http.Request) bool {
	if u.token == "" {
		return true
	}
	if scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(got), []byte(u.token)) == 1 {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(u.session)) == 1
}

// requireLogin sends a browser without the session to the login page
// (pages) or answers 401 (live streams, posts, assets are free).
func (u *UI) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, Prefix)
		if u.authorized(r) || path == "/login" || strings.HasPrefix(path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && !strings.HasPrefix(path, "/events/") {
			http.Redirect(w, r, Prefix+"/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="minipush mock UI"`)
		http.Error(w, "log in at "+Prefix+"/login with the mock's control token", http.StatusUnauthorized)
	})
}

type loginData struct{ Next string }

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	u.renderLogin(w, r, http.StatusOK, "")
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := u.newPage(r, "Log in", "login")
	if msg != "" {
		p.Error = &formError{Message: msg, Field: "token"}
	}
	next := r.FormValue("next")
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") {
		next = Prefix + "/phone"
	}
	p.Data = loginData{Next: next}
	u.render(w, status, "login", p)
}

// postLogin checks the token (a form field, so it is never in a URL) and
// sets the session cookie. It runs behind the cross-origin check but not
// the CSRF token: a page that is not logged in has none to show, and
// logging someone in with the right token is no forgery.
func (u *UI) postLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		u.loginPage(w, r)
		return
	}
	if err := u.origin.Check(r); err != nil {
		u.renderError(w, r, http.StatusForbidden, "Refused: this form was posted from another site ("+err.Error()+").")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		u.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if u.token == "" {
		http.Redirect(w, r, Prefix+"/phone", http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(u.token)) != 1 {
		u.renderLogin(w, r, http.StatusUnauthorized, "That is not the mock's control token.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: u.session, Path: Prefix + "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") {
		next = Prefix + "/phone"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
