package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/console"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/storagetest/drivers"
)

// downSessions is a sessions storage that cannot answer.
type downSessions struct{}

var errDown = errors.New("storage down: redis://10.0.0.1:6379")

func (downSessions) PutSession(context.Context, [32]byte, storage.Session, int) error { return errDown }
func (downSessions) GetSession(context.Context, [32]byte, time.Time) (storage.Session, bool, error) {
	return storage.Session{}, false, errDown
}
func (downSessions) DeleteSession(context.Context, [32]byte) error { return errDown }

// apiless serves a console for keys with opts over an API that answers
// 404 to everything (the sessions are the console's own), until the test
// ends.
func apiless(t *testing.T, keys []config.APIKey, opts console.Options) *httptest.Server {
	t.Helper()
	c, err := console.New(http.NotFoundHandler(), keys, []string{appName}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// When the sessions' storage cannot answer, sign-in and the pages answer
// 503 with a plain message (not "not signed in", not the storage's error).
func TestSessionsStorageDown(t *testing.T) {
	keys := []config.APIKey{{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeRead, config.ScopeAdmin}}}
	srv := apiless(t, keys, console.Options{Sessions: downSessions{}})
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	b := &browser{t: t, base: srv.URL, hc: hc}
	resp, body := b.post("/console/login", url.Values{"key": {adminKey}, "next": {"/console/"}})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "sessions cannot be read now") {
		t.Fatalf("sign in with the storage down: %d %s, want 503", resp.StatusCode, body)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("sign in with the storage down set %v, want no cookie", resp.Cookies())
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/", nil)
	req.AddCookie(&http.Cookie{Name: "minipush_console", Value: "some-session"})
	r2, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a page with the storage down: %d, want 503", r2.StatusCode)
	}
	if strings.Contains(body, "10.0.0.1") {
		t.Fatalf("the answer shows the storage's error: %s", body)
	}
}

// Without a sessions storage the console keeps them in memory: sign in,
// use, sign out, refused.
func TestSessionsInMemory(t *testing.T) {
	keys := []config.APIKey{{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeRead, config.ScopeAdmin}}}
	srv := apiless(t, keys, console.Options{})
	w := &world{URL: srv.URL}
	b := w.newBrowser(t)
	b.signIn(adminKey)
	// The page shows the sign-out form (the overview's data is the API's,
	// here absent), whose token signs out.
	resp, body := b.get("/console/groups")
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("a page after signing in: redirected to %s", resp.Header.Get("Location"))
	}
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no CSRF token on the page (%d): %s", resp.StatusCode, body)
	}
	rest := body[i+len(marker):]
	csrf := rest[:strings.IndexByte(rest, '"')]
	u, _ := url.Parse(srv.URL + "/console/")
	cookies := b.hc.Jar.Cookies(u)
	if len(cookies) != 1 {
		t.Fatalf("cookies after signing in: %v, want the session's", cookies)
	}
	if resp, _ := b.post("/console/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	// The jar dropped the cookie; a browser that kept it is refused too.
	kept := &browser{t: t, base: srv.URL, hc: &http.Client{CheckRedirect: b.hc.CheckRedirect}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/", nil)
	req.AddCookie(cookies[0])
	resp, err := kept.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login") {
		t.Fatalf("a page with the signed-out cookie: %d %s, want the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// An API key holds at most SessionsPerKey live sessions, over every
// sessions storage: a browser signing in beyond it ends the key's oldest
// session (its page goes to the login form), not the newer ones nor
// another key's.
func TestSessionsPerKey(t *testing.T) {
	stores := map[string]func(t *testing.T) storage.Sessions{
		"memory": func(*testing.T) storage.Sessions { return nil },
	}
	for name, open := range drivers.All {
		stores[name] = func(t *testing.T) storage.Sessions { return open(t).(storage.Sessions) }
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			keys := []config.APIKey{{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeRead, config.ScopeAdmin}},
				{Name: "viewer", Key: "viewer-key-0000000001", Scopes: []string{config.ScopeRead}}}
			srv := apiless(t, keys, console.Options{Sessions: open(t), SessionsPerKey: 2})
			w := &world{URL: srv.URL}
			// Signed in, the page gets past the session check and asks the
			// API, which answers 404 to everything here; signed out, it is
			// sent to the login page. Anything else (a 503 from the sessions'
			// storage) is neither, and fails the test rather than counting
			// as signed in.
			signedIn := func(b *browser) bool {
				t.Helper()
				resp, _ := b.get("/console/groups")
				switch resp.StatusCode {
				case http.StatusNotFound:
					return true
				case http.StatusSeeOther:
					return false
				}
				t.Fatalf("GET /console/groups: %d, want 404 (signed in: the API's answer) or 303 (to the login page)", resp.StatusCode)
				return false
			}
			viewer := w.newBrowser(t)
			viewer.signIn("viewer-key-0000000001")
			var ops []*browser
			for range 3 {
				b := w.newBrowser(t)
				b.signIn(adminKey)
				ops = append(ops, b)
				time.Sleep(2 * time.Millisecond) // distinct creation times
			}
			if signedIn(ops[0]) {
				t.Error("the key's oldest session after a third sign-in at 2 a key: still signed in")
			}
			if !signedIn(ops[1]) || !signedIn(ops[2]) {
				t.Error("the key's two newest sessions: signed out")
			}
			if !signedIn(viewer) {
				t.Error("another key's session: signed out")
			}
		})
	}
}
