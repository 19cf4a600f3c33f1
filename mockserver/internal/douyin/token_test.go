package douyin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path string
		body any
		want int64
		tips string
	}{
		{"ok", pathToken, map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credential"}, 0, "success"},
		{"mini-game host", "/mgplatform/api/apps/v2/token", map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credential"}, 0, "success"},
		{"unknown appid", pathToken, map[string]string{"appid": "tt0000000000000000", "secret": secretA, "grant_type": "client_credential"}, 40015, "bad appid"},
		{"wrong secret", pathToken, map[string]string{"appid": appA, "secret": secretB, "grant_type": "client_credential"}, 40017, "bad secret"},
		{"plural grant_type", pathToken, map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credentials"}, 40020, "bad grant_type"},
		{"missing appid", pathToken, map[string]string{"secret": secretA, "grant_type": "client_credential"}, 40014, "bad params"},
		{"missing secret", pathToken, map[string]string{"appid": appA, "grant_type": "client_credential"}, 40014, "bad params"},
		{"missing grant_type", pathToken, map[string]string{"appid": appA, "secret": secretA}, 40014, "bad params"},
		{"malformed JSON", pathToken, `{"appid":`, 40014, "bad params"},
		{"wrong field type", pathToken, `{"appid":1,"secret":"x","grant_type":"client_credential"}`, 40014, "bad params"},
		{"empty body", pathToken, "", 40014, "bad params"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			r := m.post(tc.path, tc.body)
			wantErrNo(t, r, tc.want)
			if got := r.str(t, "err_tips"); got != tc.tips {
				t.Errorf("err_tips %q, want %q", got, tc.tips)
			}
			// data is present on errors too, with an empty token.
			tok := r.str(t, "data.access_token")
			exp := r.num(t, "data.expires_in")
			if tc.want == 0 {
				if !strings.HasPrefix(tok, "0801121846") || exp != 7200 {
					t.Errorf("token %q expires_in %d, want a 0801121846… token for 7200 s", tok, exp)
				}
			} else if tok != "" || exp != 0 {
				t.Errorf("error answer carries token %q expires_in %d", tok, exp)
			}
		})
	}
}

func TestClientToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path string
		body any
		want int64
	}{
		{"ok", pathClientToken, map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"}, 0},
		{"stable ok", pathStableClient, map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"}, 0},
		{"unknown client_key", pathClientToken, map[string]string{"client_key": "tt0000000000000000", "client_secret": secretA, "grant_type": "client_credential"}, 10003},
		{"wrong secret", pathClientToken, map[string]string{"client_key": appA, "client_secret": secretB, "grant_type": "client_credential"}, 10013},
		{"stable wrong secret", pathStableClient, map[string]string{"client_key": appA, "client_secret": secretB, "grant_type": "client_credential"}, 10013},
		{"plural grant_type", pathClientToken, map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credentials"}, 10002},
		{"missing client_key", pathClientToken, map[string]string{"client_secret": secretA, "grant_type": "client_credential"}, 10002},
		{"legacy field names", pathClientToken, map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credential"}, 10002},
		{"malformed JSON", pathClientToken, `{"client_key"`, 10002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			r := m.post(tc.path, tc.body)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if got := r.num(t, "data.error_code"); got != tc.want {
				t.Fatalf("error_code %d, want %d: %s", got, tc.want, r.Body)
			}
			if tc.want == 0 {
				if msg := r.str(t, "message"); msg != "success" {
					t.Errorf("message %q, want success", msg)
				}
				if d := r.str(t, "data.description"); d != "" {
					t.Errorf("description %q, want empty", d)
				}
				if tok := r.str(t, "data.access_token"); !strings.HasPrefix(tok, "clt.") {
					t.Errorf("token %q, want clt.…", tok)
				}
				if exp := r.num(t, "data.expires_in"); exp != 7200 {
					t.Errorf("expires_in %d, want 7200", exp)
				}
				return
			}
			if msg := r.str(t, "message"); msg != "error" {
				t.Errorf("message %q, want error", msg)
			}
			if r.str(t, "data.description") == "" {
				t.Error("error without a description")
			}
			if _, ok := r.get("data.access_token"); ok {
				t.Errorf("error answer carries a token: %s", r.Body)
			}
		})
	}
}

// probe reports what an API says of a token: 0 when it works, else the
// token error. Legacy tokens are probed with a v1 send to an unknown
// template (1001 once the token passes, nothing consumed), client tokens
// with censor/text.
func (m *mock) probe(tok string, legacy bool) int64 {
	m.t.Helper()
	if legacy {
		r := m.notifyV1(tok, appA, "MSGnope", userA, goodData(), "")
		code := r.num(m.t, "err_no")
		if code == 1001 {
			return 0
		}
		return code
	}
	r := m.post(pathCensor, map[string]any{"app_id": appA, "content": []string{"hello"}}, "access-token", tok)
	return r.num(m.t, "err_no")
}

// TestTokenOverlap: a refetch leaves the previous token 5 minutes, a third
// fetch ends the first at once, and a token dies after 7200 s — for both
// token kinds.
func TestTokenOverlap(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{true, false} {
		name := "client_token"
		if legacy {
			name = "access_token"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			fetch := func() string {
				if legacy {
					return m.token(appA, secretA)
				}
				return m.clientToken(appA, secretA)
			}
			a := fetch()
			b := fetch()
			if a == b {
				t.Fatal("a refetch returned the same token")
			}
			for tok, want := range map[string]int64{a: 0, b: 0} {
				if got := m.probe(tok, legacy); got != want {
					t.Fatalf("right after refetch: probe %d, want %d", got, want)
				}
			}
			m.advance(4*time.Minute + 50*time.Second)
			if got := m.probe(a, legacy); got != 0 {
				t.Fatalf("previous token within 5 min: %d, want 0", got)
			}
			m.advance(20 * time.Second)
			if got := m.probe(a, legacy); got != 28001003 {
				t.Fatalf("previous token after 5 min: %d, want 28001003", got)
			}
			if got := m.probe(b, legacy); got != 0 {
				t.Fatalf("newest token: %d, want 0", got)
			}
			// Only the two newest live: c cuts b to 5 min, d ends b at once.
			c := fetch()
			d := fetch()
			if got := m.probe(b, legacy); got != 28001003 {
				t.Fatalf("third-newest token: %d, want 28001003", got)
			}
			if got := m.probe(c, legacy); got != 0 {
				t.Fatalf("second-newest token: %d, want 0", got)
			}
			m.advance(7200 * time.Second)
			if got := m.probe(d, legacy); got != 28001008 {
				t.Fatalf("token after 7200 s: %d, want 28001008 (expired)", got)
			}
			if got := m.probe("0801121846deadbeef", legacy); got != 28001003 {
				t.Fatalf("unknown token: %d, want 28001003", got)
			}
		})
	}
}

// TestTokenKindsDoNotMix: the legacy APIs take only getAccessToken tokens,
// the open.douyin.com APIs only client tokens.
func TestTokenKindsDoNotMix(t *testing.T) {
	t.Parallel()
	m := start(t)
	access := m.token(appA, secretA)
	client := m.clientToken(appA, secretA)
	if got := m.probe(client, true); got != 28001003 {
		t.Errorf("client token on v1 notify: %d, want 28001003", got)
	}
	if got := m.probe(access, false); got != 28001003 {
		t.Errorf("access token on censor: %d, want 28001003", got)
	}
	wantErrNo(t, m.notifyV2(access, tmplA, userA, goodData()), 28001003)
	r := m.post(pathAntidirt, map[string]any{"tasks": []map[string]string{{"content": "hi"}}}, "X-Token", client)
	if r.Status != http.StatusUnauthorized || r.num(t, "code") != 401 {
		t.Errorf("client token on antidirt: %d %s, want 401", r.Status, r.Body)
	}
}

func TestStableClientToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	body := map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"}
	first := m.post(pathStableClient, body)
	tok := first.str(t, "data.access_token")
	m.advance(time.Hour)
	again := m.post(pathStableClient, body)
	if got := again.str(t, "data.access_token"); got != tok {
		t.Fatalf("stable token changed while valid: %q then %q", tok, got)
	}
	if exp := again.num(t, "data.expires_in"); exp < 3590 || exp > 3600 {
		t.Errorf("expires_in %d an hour later, want about 3600", exp)
	}
	// A plain client_token fetch does not touch the stable pool.
	m.clientToken(appA, secretA)
	m.clientToken(appA, secretA)
	if got := m.probe(tok, false); got != 0 {
		t.Fatalf("stable token after client_token fetches: %d, want 0", got)
	}
	m.advance(time.Hour)
	next := m.post(pathStableClient, body)
	if got := next.str(t, "data.access_token"); got == tok {
		t.Fatal("stable token not renewed after expiry")
	}
	if got := m.probe(tok, false); got != 28001008 {
		t.Errorf("expired stable token: %d, want 28001008", got)
	}
}

func TestStableTokenMiniGame(t *testing.T) {
	t.Parallel()
	m := start(t)
	body := map[string]any{"appid": appA, "secret": secretA, "grant_type": "client_credential"}
	r := m.post(pathStableToken, body)
	wantErrNo(t, r, 0)
	tok := r.str(t, "data.access_token")
	r = m.post(pathStableToken, body)
	if got := r.str(t, "data.access_token"); got != tok {
		t.Fatalf("stable token changed while valid")
	}
	if got := m.probe(tok, true); got != 0 {
		t.Fatalf("stable token on v1 notify: %d, want 0", got)
	}
	body["force_refresh"] = true
	r = m.post(pathStableToken, body)
	wantErrNo(t, r, 0)
	fresh := r.str(t, "data.access_token")
	if fresh == tok {
		t.Fatal("force_refresh returned the same token")
	}
	if got := m.probe(tok, true); got != 28001003 {
		t.Errorf("token replaced by force_refresh: %d, want 28001003 at once", got)
	}
	if got := m.probe(fresh, true); got != 0 {
		t.Errorf("forced token: %d, want 0", got)
	}
	m.setQuota("stable_token_force", 0, "day")
	wantErrNo(t, m.post(pathStableToken, body), -1)
	wantErrNo(t, m.post(pathStableToken, map[string]any{"appid": appA, "secret": "x", "grant_type": "client_credential"}), 40017)
}

// TestClientTokenRateLimit: more than 500 calls in 5 minutes answer 10020.
func TestClientTokenRateLimit(t *testing.T) {
	t.Parallel()
	m := start(t)
	body := map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"}
	for i := range 500 {
		r := m.post(pathClientToken, body)
		if got := r.num(t, "data.error_code"); got != 0 {
			t.Fatalf("call %d: error_code %d", i+1, got)
		}
	}
	r := m.post(pathClientToken, body)
	if got := r.num(t, "data.error_code"); got != 10020 {
		t.Fatalf("call 501: error_code %d, want 10020", got)
	}
	// Another app has its own budget.
	other := m.post(pathClientToken, map[string]string{"client_key": appB, "client_secret": secretB, "grant_type": "client_credential"})
	if got := other.num(t, "data.error_code"); got != 0 {
		t.Fatalf("other app: error_code %d, want 0", got)
	}
	m.advance(5 * time.Minute)
	r = m.post(pathClientToken, body)
	if got := r.num(t, "data.error_code"); got != 0 {
		t.Fatalf("after 5 minutes: error_code %d, want 0", got)
	}
}
