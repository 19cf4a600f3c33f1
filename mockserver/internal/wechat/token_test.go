package wechat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestTokenIssuesA7200SecondToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	r := m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil)
	wantCode(t, r, 0)
	if _, has := r.Fields["errcode"]; has {
		t.Errorf("token success carries an errcode, the platform sends none: %s", r.Body)
	}
	if got := r.int(t, "expires_in"); got != 7200 {
		t.Errorf("expires_in %d, want 7200", got)
	}
	tok := r.str("access_token")
	if len(tok) < 32 {
		t.Fatalf("access_token %q too short to be opaque", tok)
	}
	if got := m.use(tok); got != 0 {
		t.Errorf("fresh token answers %d, want 0", got)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tests := []struct {
		name                     string
		grantType, appID, secret string
		code                     int64
		msg                      string
	}{
		{"wrong appid", "client_credential", "wx0000000000000000", secretA, 40013, "invalid appid"},
		{"wrong secret", "client_credential", appA, secretB, 40125, "invalid appsecret"},
		{"wrong secret of a known app", "client_credential", appB, secretA, 40125, "invalid appsecret"},
		{"wrong grant_type", "authorization_code", appA, secretA, 40002, "invalid grant_type"},
		{"no grant_type", "", appA, secretA, 40002, "invalid grant_type"},
		{"missing appid", "client_credential", "", secretA, 41002, "appid missing"},
		{"missing secret", "client_credential", appA, "", 41004, "appsecret missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(http.MethodGet, tokenPath(tt.grantType, tt.appID, tt.secret), nil)
			wantMsg(t, r, tt.code, tt.msg)
			if _, has := r.Fields["access_token"]; has {
				t.Errorf("error answer carries a token: %s", r.Body)
			}
		})
	}
}

func TestTokenRotation(t *testing.T) {
	t.Parallel()
	m := start(t)
	t1 := m.token(appA, secretA)
	t2 := m.token(appA, secretA)
	if t1 == t2 {
		t.Fatal("a second fetch returned the same token; it must issue a new one")
	}
	if got := m.use(t1); got != 0 {
		t.Fatalf("previous token answers %d right after a refetch, want 0 (5-minute overlap)", got)
	}
	m.advance(4 * time.Minute)
	if got := m.use(t1); got != 0 {
		t.Fatalf("previous token answers %d after 4m, want 0", got)
	}
	m.advance(2 * time.Minute)
	if got := m.use(t1); got != 40001 {
		t.Fatalf("previous token answers %d after 6m, want 40001", got)
	}
	if got := m.use(t2); got != 0 {
		t.Fatalf("newest token answers %d, want 0", got)
	}

	// Three fetches in a row: the one before the previous dies at once.
	t3 := m.token(appA, secretA)
	t4 := m.token(appA, secretA)
	if got := m.use(t2); got != 40001 {
		t.Errorf("token two fetches back answers %d, want 40001 at once", got)
	}
	if got := m.use(t3); got != 0 {
		t.Errorf("previous token answers %d, want 0", got)
	}
	if got := m.use(t4); got != 0 {
		t.Errorf("newest token answers %d, want 0", got)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	m.advance(7190 * time.Second)
	if got := m.use(tok); got != 0 {
		t.Fatalf("token answers %d ten seconds before expiry, want 0", got)
	}
	m.advance(11 * time.Second)
	r := m.send(tok, goodMsg())
	wantMsg(t, r, 42001, "access_token expired")

	// A replaced token whose overlap outlives its natural expiry expires
	// (42001), it is not "not latest".
	old := m.token(appA, secretA)
	m.advance(7190 * time.Second)
	m.token(appA, secretA)
	m.advance(time.Minute)
	wantCode(t, m.send(old, goodMsg()), 42001)
}

func TestTokenIPWhitelist(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) {
		s.Apps[0].IPWhitelist = []string{"10.1.2.3"}
		s.Apps[1].IPWhitelist = []string{"127.0.0.1", "::1"}
	})
	tests := []struct {
		name                     string
		grantType, appID, secret string
		code                     int64
	}{
		{"good params", "client_credential", appA, secretA, 40164},
		// The platform checks the caller IP before the parameters.
		{"wrong secret", "client_credential", appA, "nope", 40164},
		{"wrong grant_type", "x", appA, secretA, 40164},
		{"missing secret", "client_credential", appA, "", 40164},
		{"whitelisted caller", "client_credential", appB, secretB, 0},
	}
	for _, tt := range tests {
		t.Run("token/"+tt.name, func(t *testing.T) {
			r := m.do(http.MethodGet, tokenPath(tt.grantType, tt.appID, tt.secret), nil)
			wantCode(t, r, tt.code)
		})
		t.Run("stable/"+tt.name, func(t *testing.T) {
			r := m.do(http.MethodPost, "/cgi-bin/stable_token",
				stableBody{GrantType: tt.grantType, AppID: tt.appID, Secret: tt.secret})
			wantCode(t, r, tt.code)
		})
	}
	r := m.do(http.MethodGet, tokenPath("client_credential", appA, secretA), nil)
	if got := ridSuffix.ReplaceAllString(r.errMsg(), ""); got != "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist" {
		t.Errorf("40164 errmsg %q does not name the caller the way the platform does", got)
	}
}

func TestStableTokenNormalModeReturnsTheSameToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok, exp := m.stableToken(false)
	if exp != 7200 {
		t.Fatalf("first expires_in %d, want 7200", exp)
	}
	m.advance(10 * time.Minute)
	again, exp2 := m.stableToken(false)
	if again != tok {
		t.Fatal("normal mode issued a new token while the old one is valid")
	}
	if exp2 > 7200-600 || exp2 < 7200-610 {
		t.Errorf("expires_in %d after 10m, want about %d", exp2, 7200-600)
	}
}

func TestStableTokenRenewsInTheLastFiveMinutes(t *testing.T) {
	t.Parallel()
	m := start(t)
	old, _ := m.stableToken(false)
	m.advance(7200*time.Second - 6*time.Minute)
	if tok, exp := m.stableToken(false); tok != old || exp < 300 {
		t.Fatalf("6m before expiry: got a different token or expires_in %d < 300", exp)
	}
	m.advance(2 * time.Minute) // 4 minutes left
	renewed, exp := m.stableToken(false)
	if renewed == old {
		t.Fatal("no new token in the last 5 minutes")
	}
	if exp != 7200 {
		t.Errorf("renewed expires_in %d, want 7200", exp)
	}
	if got := m.use(old); got != 0 {
		t.Fatalf("old token answers %d during its last minutes, want 0", got)
	}
	m.advance(3*time.Minute + 30*time.Second)
	if got := m.use(old); got != 0 {
		t.Fatalf("old token answers %d 30s before its expiry, want 0", got)
	}
	m.advance(31 * time.Second)
	if got := m.use(old); got != 42001 {
		t.Fatalf("old token answers %d after its expiry, want 42001", got)
	}
	if got := m.use(renewed); got != 0 {
		t.Fatalf("renewed token answers %d, want 0", got)
	}
	if tok, _ := m.stableToken(false); tok != renewed {
		t.Error("normal mode after a renewal does not return the renewed token")
	}
}

func TestStableTokenForceRefresh(t *testing.T) {
	t.Parallel()
	m := start(t)
	leaked, _ := m.stableToken(false)

	first, exp := m.stableToken(true)
	if first == leaked || exp != 7200 {
		t.Fatalf("force_refresh: same token or expires_in %d", exp)
	}
	if got := m.use(leaked); got != 0 {
		t.Fatalf("token before one force refresh answers %d at once, want 0 (5-minute overlap)", got)
	}

	// Within 30 s a forced refresh does not refresh.
	m.advance(10 * time.Second)
	same, _ := m.stableToken(true)
	if same != first {
		t.Fatal("force_refresh within 30 s issued a new token")
	}

	// A second forced refresh 30 s after the first kills the leaked token.
	m.advance(25 * time.Second)
	second, _ := m.stableToken(true)
	if second == first {
		t.Fatal("force_refresh 35 s after the last did not refresh")
	}
	if got := m.use(leaked); got != 40001 {
		t.Errorf("leaked token answers %d after two forced refreshes, want 40001", got)
	}
	if got := m.use(first); got != 0 {
		t.Errorf("previous token answers %d, want 0 within the overlap", got)
	}
	m.advance(5*time.Minute + time.Second)
	if got := m.use(first); got != 40001 {
		t.Errorf("previous token answers %d after the overlap, want 40001", got)
	}
	if got := m.use(second); got != 0 {
		t.Errorf("current token answers %d, want 0", got)
	}
}

func TestStableTokenForceRefreshDailyLimit(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm.Add(-12*time.Hour)))
	for i := 1; i <= 20; i++ {
		if _, exp := m.stableToken(true); exp != 7200 {
			t.Fatalf("forced refresh %d: expires_in %d, want a new token", i, exp)
		}
		m.advance(31 * time.Second)
	}
	wantMsg(t, m.stable(true), 45009, "reach max api daily quota limit")
	// Normal mode still works once the forced refreshes are used up.
	m.stableToken(false)

	m.advance(24 * time.Hour)
	if _, exp := m.stableToken(true); exp != 7200 {
		t.Fatalf("forced refresh on the next Beijing day: expires_in %d", exp)
	}
}

func TestStableAndNormalPoolsAreIsolated(t *testing.T) {
	t.Parallel()
	m := start(t)
	stable, _ := m.stableToken(false)
	normal := m.token(appA, secretA)
	if stable == normal {
		t.Fatal("the pools share a token")
	}
	// Three normal fetches would kill any token of the normal pool.
	m.token(appA, secretA)
	m.token(appA, secretA)
	if got := m.use(stable); got != 0 {
		t.Fatalf("stable token answers %d after normal fetches, want 0", got)
	}
	if tok, _ := m.stableToken(false); tok != stable {
		t.Fatal("normal fetches changed the stable token")
	}
	normal = m.token(appA, secretA)
	m.advance(31 * time.Second)
	m.stableToken(true)
	m.advance(31 * time.Second)
	m.stableToken(true)
	if got := m.use(normal); got != 0 {
		t.Fatalf("normal token answers %d after forced stable refreshes, want 0", got)
	}
}

func TestStableTokenRequestErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tests := []struct {
		name   string
		method string
		body   any
		code   int64
		msg    string
	}{
		{"GET", http.MethodGet, nil, 43002, "require POST method"},
		{"malformed JSON", http.MethodPost, `{"grant_type":"client_credential",`, 47001, "data format error"},
		{"not an object", http.MethodPost, `["client_credential"]`, 47001, "data format error"},
		{"null", http.MethodPost, `null`, 47001, "data format error"},
		{"wrong field type", http.MethodPost, `{"grant_type":"client_credential","appid":1}`, 47001, "data format error"},
		{"empty body", http.MethodPost, "", 44002, "empty post data"},
		{"blank body", http.MethodPost, " \n", 44002, "empty post data"},
		{"wrong grant_type", http.MethodPost, stableBody{GrantType: "x", AppID: appA, Secret: secretA}, 40002, "invalid grant_type"},
		{"missing appid", http.MethodPost, stableBody{GrantType: "client_credential", Secret: secretA}, 41002, "appid missing"},
		{"missing secret", http.MethodPost, stableBody{GrantType: "client_credential", AppID: appA}, 41004, "appsecret missing"},
		{"unknown appid", http.MethodPost, stableBody{GrantType: "client_credential", AppID: "wx9", Secret: secretA}, 40013, "invalid appid"},
		{"wrong secret", http.MethodPost, stableBody{GrantType: "client_credential", AppID: appA, Secret: secretB}, 40125, "invalid appsecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantMsg(t, m.do(tt.method, "/cgi-bin/stable_token", tt.body), tt.code, tt.msg)
		})
	}
}

// TestTokenConcurrentFetchAndUse races fetches (which cut older tokens)
// against calls that check tokens being cut; under -race it proves the token
// state is guarded. Every answer must be 0 or 40001.
func TestTokenConcurrentFetchAndUse(t *testing.T) {
	t.Parallel()
	m := start(t)
	get := func(path string) (map[string]any, error) {
		resp, err := http.Get(m.URL + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var ans map[string]any
		return ans, json.NewDecoder(resp.Body).Decode(&ans)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 10 {
				ans, err := get(tokenPath("client_credential", appA, secretA))
				if err != nil {
					t.Errorf("fetch: %v", err)
					return
				}
				tok, _ := ans["access_token"].(string)
				for range 3 {
					ans, err := get("/wxaapi/newtmpl/getcategory?access_token=" + url.QueryEscape(tok))
					if err != nil {
						t.Errorf("use: %v", err)
						return
					}
					if code := ans["errcode"].(float64); code != 0 && code != 40001 {
						t.Errorf("token answers %v, want 0 or 40001", code)
					}
				}
			}
		})
	}
	wg.Wait()
}
