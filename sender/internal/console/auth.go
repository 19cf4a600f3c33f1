package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Sign-in: the API key is posted once, in a form (never in a URL). The
// browser gets a random session id in an HttpOnly, SameSite=Strict cookie
// (Secure over TLS); the server keeps only the id's SHA-256, the key's
// name and the session's CSRF token, so neither a leaked session table
// nor a log holds a key or a usable cookie. Sessions live in the
// deployment's storage when it keeps them (Options.Sessions: Redis or the
// SQLite file), so every instance behind a balancer knows a sign-in made
// on another and a sign-out on one ends the session on all; otherwise in
// this process's memory, where a restart or another instance asks again.

const sessionCookie = "minipush_console"

// maxFormBody bounds a form post.
const maxFormBody = 64 << 10

type sessionContext struct{}

// current is the request's session and its key (from the configuration,
// so a key is looked up by name on every request and never stored twice).
type current struct {
	key  config.APIKey
	csrf string
}

func (cur current) Admin() bool { return cur.key.Allows(config.ScopeAdmin) }

func fromContext(ctx context.Context) current {
	cur, _ := ctx.Value(sessionContext{}).(current)
	return cur
}

func randomHex() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// sessionsDown is the answer when the sessions' storage cannot answer.
const sessionsDown = "The console's sessions cannot be read now (storage unavailable); try again shortly."

// lookup finds the request's session (ok false when none, expired, or its
// key is no longer configured: removing a key ends its sessions). An
// error is the storage's: the caller answers 503.
func (c *Console) lookup(r *http.Request) (current, bool, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return current{}, false, nil
	}
	s, ok, err := c.sessions.GetSession(r.Context(), sha256.Sum256([]byte(ck.Value)), time.Now())
	if err != nil {
		c.log.Error("console: read session", "err", err)
		return current{}, false, err
	}
	if !ok {
		return current{}, false, nil
	}
	for _, k := range c.keys {
		if k.Name == s.KeyName {
			return current{key: k, csrf: s.CSRF}, true, nil
		}
	}
	return current{}, false, nil
}

// newSession stores a session for key and returns the cookie's value
// (only its SHA-256 is stored).
func (c *Console) newSession(ctx context.Context, key config.APIKey) (string, error) {
	id := randomHex()
	now := time.Now()
	err := c.sessions.PutSession(ctx, sha256.Sum256([]byte(id)),
		storage.Session{KeyName: key.Name, CSRF: randomHex(), Created: now, Expires: now.Add(c.opts.SessionLife)}, c.opts.SessionsPerKey)
	if err != nil {
		return "", err
	}
	return id, nil
}

// page serves a GET page to a signed-in browser; any other is sent to the
// login page.
func (c *Console) page(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		cur, ok, err := c.lookup(r)
		if err != nil {
			c.renderError(w, r, http.StatusServiceUnavailable, sessionsDown)
			return
		}
		if !ok {
			http.Redirect(w, r, Prefix+"/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionContext{}, cur)))
	})
}

// live serves an event stream to a signed-in browser (401 otherwise).
func (c *Console) live(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		cur, ok, err := c.lookup(r)
		if err != nil {
			http.Error(w, sessionsDown, http.StatusServiceUnavailable)
			return
		}
		if !ok {
			http.Error(w, "sign in at "+Prefix+"/login", http.StatusUnauthorized)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionContext{}, cur)))
	})
}

// actionFunc handles a validated form post: where to go next and the
// notice to show there, or an error to show.
type actionFunc func(w http.ResponseWriter, r *http.Request) (next, notice string, err error)

// post guards a state-changing form: POST only, signed in, a form body,
// the cross-origin check, the session's CSRF token and the scope the
// action needs (403: a read-only key sees no buttons, and a forged post
// is refused here before the API would refuse it too). Success redirects
// (303), so a reload does not repeat it.
func (c *Console) post(scope string, h actionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		cur, ok, err := c.lookup(r)
		if err != nil {
			c.renderError(w, r, http.StatusServiceUnavailable, sessionsDown)
			return
		}
		if !ok {
			c.renderError(w, r, http.StatusUnauthorized, "Sign in first: this form needs a session.")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionContext{}, cur))
		if err := c.origin.Check(r); err != nil {
			c.renderError(w, r, http.StatusForbidden, "Refused: this form was posted from another site ("+err.Error()+").")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			c.renderError(w, r, http.StatusUnsupportedMediaType, "Refused: a form post must be application/x-www-form-urlencoded.")
			return
		}
		if err := r.ParseForm(); err != nil {
			c.renderError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return
		}
		if got := r.PostForm.Get("csrf"); subtle.ConstantTimeCompare([]byte(got), []byte(cur.csrf)) != 1 {
			c.renderError(w, r, http.StatusForbidden, "Refused: the form's token is missing or wrong (reload the page and try again).")
			return
		}
		if scope != "" && !cur.key.Allows(scope) {
			c.renderError(w, r, http.StatusForbidden, "Refused: the API key "+cur.key.Name+" lacks the "+scope+
				" scope this action needs (its scopes: "+strings.Join(cur.key.ScopesOf(), ", ")+").")
			return
		}
		next, notice, err := h(w, r)
		if err != nil {
			c.renderAPIError(w, r, err)
			return
		}
		if notice != "" {
			next = withParam(next, "notice", notice)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

func withParam(path, name, value string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + url.QueryEscape(name) + "=" + url.QueryEscape(value)
}

// safeNext is a console path to return to after sign-in, else the
// overview (never another site).
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "/"
	}
	return next
}

type loginData struct{ Next string }

// login shows the sign-in form (GET) or checks the key (POST). The POST
// runs behind the cross-origin check but not a CSRF token: a browser that
// is not signed in has none, and signing someone in with the right key is
// no forgery.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		c.renderLogin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := c.origin.Check(r); err != nil {
		c.renderError(w, r, http.StatusForbidden, "Refused: this form was posted from another site ("+err.Error()+").")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		c.renderLogin(w, r, http.StatusBadRequest, Prefix+"/", "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	got := []byte(r.PostForm.Get("key"))
	var found *config.APIKey
	for i := range c.keys { // every key compared, in constant time each
		if subtle.ConstantTimeCompare(got, []byte(c.keys[i].Key)) == 1 {
			found = &c.keys[i]
		}
	}
	switch {
	case found == nil:
		c.log.Warn("console: sign-in refused", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusUnauthorized, next, "That is not one of this sender's API keys.")
		return
	case !found.Allows(config.ScopeRead):
		c.renderLogin(w, r, http.StatusForbidden, next, "The API key "+found.Name+" lacks the read scope the console needs.")
		return
	}
	id, err := c.newSession(r.Context(), *found)
	if err != nil {
		c.log.Error("console: store session", "err", err)
		c.renderLogin(w, r, http.StatusServiceUnavailable, next, sessionsDown)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: Prefix + "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	c.log.Info("console: signed in", "key", found.Name)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) postLogout(w http.ResponseWriter, r *http.Request) (string, string, error) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		// Deleted from the storage: the session ends on every instance.
		if err := c.sessions.DeleteSession(r.Context(), sha256.Sum256([]byte(ck.Value))); err != nil {
			c.log.Error("console: delete session", "err", err)
			return "", "", errors.New("the session could not be ended (storage unavailable); try again")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix + "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return Prefix + "/login", "signed-out", nil
}
