package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

// With a control token the UI asks for it: nothing shows or changes
// before, and the session cookie never holds the token.
func TestControlTokenGuardsTheUI(t *testing.T) {
	t.Parallel()
	const tok = "ui-control-token-0123"
	m := mocktest.Start(t, mockserver.WithSeed(seed.Demo()), mockserver.WithUI(true), mockserver.WithControlToken(tok))
	p := get(t, m, "/_ui/phone?platform=wechat")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/_ui/login?next=") {
		t.Fatalf("a stranger on /_ui/phone: %d → %q", p.status, p.location)
	}
	for _, path := range []string{"/_ui/events/inbox?since=1.0", "/_ui/nothing"} {
		if p := get(t, m, path); p.status == http.StatusOK || strings.Contains(p.body, appID) {
			t.Errorf("%s without the token: %d %s", path, p.status, p.body)
		}
	}
	if p := post(t, m, "/_ui/reset", url.Values{"csrf": {strings.Repeat("a", 64)}}, nil); p.status != http.StatusUnauthorized {
		t.Errorf("POST /_ui/reset without the token: %d", p.status)
	}
	if p := get(t, m, "/_ui/static/app.css"); p.status != http.StatusOK {
		t.Errorf("assets: %d", p.status)
	}
	login := get(t, m, p.location)
	login.expect(t, http.StatusOK, `type="password" name="token"`, `value="/_ui/phone?platform=wechat"`)
	if strings.Contains(login.body, appID) {
		t.Fatal("the login page shows an app id")
	}
	loginForm := func(token, next string) page {
		return post(t, m, "/_ui/login", url.Values{"token": {token}, "next": {next}, "csrf": {""}}, nil)
	}
	loginForm("wrong-token-00000", "/_ui/phone").expect(t, http.StatusUnauthorized, "not the mock&#39;s control token")
	ok := loginForm(tok, "//evil.example/x")
	if ok.status != http.StatusSeeOther || ok.location != "/_ui/phone" {
		t.Fatalf("login: %d → %q (an outside next must not be followed)", ok.status, ok.location)
	}
	cookie := ok.header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, tok) {
		t.Fatalf("session cookie %q", cookie)
	}
	if p := loginForm(tok, "/_ui/journal"); p.location != "/_ui/journal" {
		t.Fatalf("login with next: %q", p.location)
	}
	withCookie := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, m.URL+path, nil)
		req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := withCookie("/_ui/phone"); s != http.StatusOK {
		t.Fatalf("with the session: %d", s)
	}
	req, _ := http.NewRequest(http.MethodGet, m.URL+"/_ui/control", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := noRedirects.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("with the bearer token: %v %v", resp, err)
	}
	resp.Body.Close()
	// The forged-login check still applies.
	if p := post(t, m, "/_ui/login", url.Values{"token": {tok}, "csrf": {""}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); p.status != http.StatusForbidden {
		t.Fatalf("cross-site login: %d", p.status)
	}
}
