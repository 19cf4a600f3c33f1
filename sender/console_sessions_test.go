package sender_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/config"
)

// The web console's sign-in sessions live in the deployment's storage
// (storage.Sessions): behind a load balancer every instance knows them.

const consoleKey = "console-session-admin-key-0001"

// withConsoleKey adds an admin key named "ops" the console signs in with.
func withConsoleKey(cfg *config.Config) *config.Config {
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{Name: "ops", Key: consoleKey,
		Scopes: []string{config.ScopeSend, config.ScopeRead, config.ScopeAdmin}})
	return cfg
}

// consoleCall is one request to base's console with the session cookie
// (none when cookie is ""); redirects are not followed. It returns the
// status, the Location and the body.
func consoleCall(t *testing.T, method, base, path, cookie string, form url.Values) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "minipush_console", Value: cookie})
	}
	hc := &http.Client{Timeout: httpClient.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// consoleSignIn signs in on base and returns the session cookie's value.
func consoleSignIn(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/console/login",
		strings.NewReader(url.Values{"key": {consoleKey}, "next": {"/console/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := &http.Client{Timeout: httpClient.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on %s: %d", base, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "minipush_console" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("sign in on %s: no session cookie", base)
	return ""
}

// consoleCSRF reads the CSRF token from a page of base (the sign-out form
// carries it), which must answer 200 to the session.
func consoleCSRF(t *testing.T, base, cookie string) string {
	t.Helper()
	code, _, body := consoleCall(t, http.MethodGet, base, "/console/apps", cookie, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s/console/apps with the session: %d, want 200", base, code)
	}
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no CSRF token on %s/console/apps", base)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// Two instances on one Redis: a sign-in on A is a session on B (a page
// and a CSRF-guarded post), a sign-out on B ends it on A, and Redis holds
// the cookie's SHA-256, never the cookie.
func TestRedisConsoleSessions(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	mock := startMock(t)
	prefix := newPrefix()
	a := startService(t, mock, withConsoleKey(onRedis(testConfig(t, mock.URL), srv, prefix)), nil)
	b := startService(t, mock, withConsoleKey(onRedis(testConfig(t, mock.URL), srv, prefix)), nil)

	cookie := consoleSignIn(t, a.URL)
	if code, _, _ := consoleCall(t, http.MethodGet, a.URL, "/console/", cookie, nil); code != http.StatusOK {
		t.Fatalf("GET A /console/ after signing in on A: %d, want 200", code)
	}
	// B knows the session: its pages, and its forms with the session's token.
	if code, _, _ := consoleCall(t, http.MethodGet, b.URL, "/console/", cookie, nil); code != http.StatusOK {
		t.Fatalf("GET B /console/ with A's session: %d, want 200", code)
	}
	csrf := consoleCSRF(t, b.URL, cookie)
	if got := consoleCSRF(t, a.URL, cookie); got != csrf {
		t.Fatalf("A and B show different CSRF tokens for one session: %q, %q", got, csrf)
	}
	if code, _, _ := consoleCall(t, http.MethodPost, b.URL, "/console/apps/"+shopApp+"/resume", cookie,
		url.Values{"csrf": {"not-the-token"}}); code != http.StatusForbidden {
		t.Fatalf("POST B resume with a wrong token: %d, want 403", code)
	}
	code, loc, body := consoleCall(t, http.MethodPost, b.URL, "/console/apps/"+shopApp+"/resume", cookie, url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "notice=resumed") {
		t.Fatalf("POST B resume with A's session: %d %q %s, want 303 to the notice", code, loc, body)
	}

	// Redis holds the session under the cookie's SHA-256, and nowhere the
	// cookie itself.
	rc := srv.Client(t)
	ctx := context.Background()
	keys, err := rc.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(cookie))
	found := false
	for _, k := range keys {
		if strings.Contains(k, cookie) {
			t.Fatalf("a Redis key holds the cookie: %s", k)
		}
		if k == prefix+":csess:"+hex.EncodeToString(sum[:]) {
			found = true
			h, err := rc.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range h {
				if strings.Contains(v, cookie) {
					t.Fatalf("the session's field %s holds the cookie", f)
				}
			}
			if h["k"] != "ops" || h["c"] != csrf {
				t.Fatalf("stored session %v, want key ops and the page's token", h)
			}
			if ttl := rc.PTTL(ctx, k).Val(); ttl <= 0 {
				t.Fatalf("session key's TTL %v, want one (Redis removes it at its expiry)", ttl)
			}
		}
	}
	if !found {
		t.Fatalf("no session key under the cookie's SHA-256 among %v", keys)
	}

	// Sign out on B: A refuses the session.
	code, loc, _ = consoleCall(t, http.MethodPost, b.URL, "/console/logout", cookie, url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Fatalf("POST B /console/logout: %d %q, want 303 to the login page", code, loc)
	}
	if code, loc, _ := consoleCall(t, http.MethodGet, a.URL, "/console/", cookie, nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Fatalf("GET A /console/ after signing out on B: %d %q, want 303 to the login page", code, loc)
	}
	if code, _, _ := consoleCall(t, http.MethodPost, a.URL, "/console/apps/"+shopApp+"/resume", cookie, url.Values{"csrf": {csrf}}); code != http.StatusUnauthorized {
		t.Fatalf("POST A resume after signing out on B: %d, want 401", code)
	}
	if n := rc.Exists(ctx, prefix+":csess:"+hex.EncodeToString(sum[:])).Val(); n != 0 {
		t.Fatal("the session's key is still in Redis after sign-out")
	}
}

// On SQLite the sessions are in the database file: a restart keeps them,
// and a key removed from the configuration ends its sessions.
func TestConsoleSessionsSurviveRestart(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, withConsoleKey(testConfig(t, mock.URL)), nil)
	cookie := consoleSignIn(t, s.URL)
	csrf := consoleCSRF(t, s.URL, cookie)

	s.restart()
	if got := consoleCSRF(t, s.URL, cookie); got != csrf {
		t.Fatalf("CSRF token after restart %q, want the session's %q", got, csrf)
	}
	code, loc, body := consoleCall(t, http.MethodPost, s.URL, "/console/apps/"+shopApp+"/resume", cookie, url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "notice=resumed") {
		t.Fatalf("POST resume after restart: %d %q %s, want 303 to the notice", code, loc, body)
	}

	// The key leaves the configuration: its session no longer signs in.
	keys := s.cfg.APIKeys[:0]
	for _, k := range s.cfg.APIKeys {
		if k.Name != "ops" {
			keys = append(keys, k)
		}
	}
	s.cfg.APIKeys = keys
	s.restart()
	if code, loc, _ := consoleCall(t, http.MethodGet, s.URL, "/console/", cookie, nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Fatalf("GET /console/ after the key was removed: %d %q, want 303 to the login page", code, loc)
	}
}
