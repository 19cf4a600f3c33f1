package baidu_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/baidu"
)

var tokenShape = regexp.MustCompile(`^24\.[0-9a-f]{32}\.2592000\.([0-9]+)\.[0-9]{6}-[0-9]{8}$`)

func TestTokenIssuesAThirtyDayToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	q := tokenQuery("client_credentials", appA, secretA, "smartapp_snsapi_base")
	tests := []struct {
		name string
		do   func() reply
	}{
		{"GET query (official SDK)", func() reply { return m.form(http.MethodGet, tokenPath+"?"+q.Encode(), nil) }},
		{"POST query", func() reply { return m.form(http.MethodPost, tokenPath+"?"+q.Encode(), nil) }},
		{"POST form", func() reply { return m.form(http.MethodPost, tokenPath, q) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now, err := m.Control.Now(m.ctx)
			if err != nil {
				t.Fatal(err)
			}
			r := tt.do()
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if got := r.num(t, "expires_in"); got != 2592000 {
				t.Errorf("expires_in %d, want 2592000 (30 days)", got)
			}
			if got := r.str("scope"); got != "smartapp_snsapi_base" {
				t.Errorf("scope %q", got)
			}
			for _, k := range []string{"refresh_token", "session_key", "session_secret"} {
				if r.str(k) == "" {
					t.Errorf("%s missing: %s", k, r.Body)
				}
			}
			tok := r.str("access_token")
			sm := tokenShape.FindStringSubmatch(tok)
			if sm == nil {
				t.Fatalf("access_token %q does not look like a Baidu token", tok)
			}
			// The fourth part is the expiry as a Unix time.
			exp, _ := strconv.ParseInt(sm[1], 10, 64)
			if d := exp - now.Add(30*24*time.Hour).Unix(); d < -5 || d > 5 {
				t.Errorf("token expiry %d is %d s away from now+30d", exp, d)
			}
			if got := m.use(tok); got != 0 {
				t.Errorf("fresh token answers %d, want 0", got)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tests := []struct {
		name                            string
		method                          string
		grantType, appID, secret, scope string
		error, description              string
	}{
		{"singular grant_type", http.MethodGet, "client_credential", appA, secretA, "smartapp_snsapi_base",
			baidu.OAuthUnsupportedGrantType, "The authorization grant type is not supported"},
		{"no grant_type", http.MethodGet, "", appA, secretA, "smartapp_snsapi_base", baidu.OAuthUnsupportedGrantType, ""},
		{"unknown client_id", http.MethodGet, "client_credentials", "nosuchappkey", secretA, "smartapp_snsapi_base",
			baidu.OAuthInvalidClient, "unknown client id"},
		{"no client_id", http.MethodGet, "client_credentials", "", secretA, "smartapp_snsapi_base",
			baidu.OAuthInvalidClient, "unknown client id"},
		{"wrong secret", http.MethodGet, "client_credentials", appA, secretB, "smartapp_snsapi_base",
			baidu.OAuthInvalidClient, "Client authentication failed"},
		{"no secret", http.MethodGet, "client_credentials", appA, "", "smartapp_snsapi_base",
			baidu.OAuthInvalidClient, "Client authentication failed"},
		{"wrong scope", http.MethodGet, "client_credentials", appA, secretA, "snsapi_userinfo", baidu.OAuthInvalidScope, ""},
		{"no scope", http.MethodGet, "client_credentials", appA, secretA, "", baidu.OAuthInvalidScope, ""},
		{"DELETE", http.MethodDelete, "client_credentials", appA, secretA, "smartapp_snsapi_base", baidu.OAuthInvalidRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.form(tt.method, tokenPath+"?"+tokenQuery(tt.grantType, tt.appID, tt.secret, tt.scope).Encode(), nil)
			wantOAuth(t, r, tt.error, tt.description)
		})
	}
}

// A refetch leaves earlier tokens valid (UNCONFIRMED reading); each dies 30
// days after its issue with gateway 111.
func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	m := start(t)
	t1 := m.token(appA, secretA)
	m.advance(15 * 24 * time.Hour)
	t2 := m.token(appA, secretA)
	if t1 == t2 {
		t.Fatal("a second fetch returned the same token")
	}
	if m.use(t1) != 0 || m.use(t2) != 0 {
		t.Fatal("both tokens must work after a refetch")
	}
	m.advance(15*24*time.Hour - time.Minute)
	if got := m.use(t1); got != 0 {
		t.Fatalf("first token answers %d a minute before 30 days, want 0", got)
	}
	m.advance(2 * time.Minute)
	if got := m.use(t1); got != int64(baidu.GatewayTokenExpired) {
		t.Fatalf("first token answers %d after 30 days, want 111", got)
	}
	if got := m.use(t2); got != 0 {
		t.Fatalf("second token answers %d at 15 days, want 0", got)
	}
	m.advance(15 * 24 * time.Hour)
	wantGateway(t, m.send(t2, sendForm(userA, "s1")), baidu.GatewayTokenExpired)
}

// The gateway's token errors, on every rest API.
func TestGatewayTokenErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	calls := map[string]func(path string, form bool) reply{
		"subscribe send": func(path string, form bool) reply {
			f := sendForm(userA, "s1")
			if form {
				f.Set("access_token", tok)
			}
			return m.form(http.MethodPost, path, f)
		},
		"syncCheckText": func(path string, _ bool) reply {
			return m.raw(http.MethodPost, path, "application/json", stringsReader(`{"content":"hi"}`))
		},
	}
	paths := map[string]string{"subscribe send": sendPath, "syncCheckText": checkTextPath}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			p := paths[name]
			wantGateway(t, call(p, false), baidu.GatewayInvalidParameter)
			// The FAQ: a token sent in the form is "Invalid parameter".
			wantGateway(t, call(p, true), baidu.GatewayInvalidParameter)
			wantGateway(t, call(withToken(p, "24.bogus.2592000.1.1-1"), false), baidu.GatewayTokenInvalid)
		})
	}
	if got := len(m.messages()); got != 0 {
		t.Fatalf("%d messages delivered without a valid token", got)
	}
}
