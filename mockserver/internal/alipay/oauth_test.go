package alipay_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// authCode asks the control route for a code; it returns the status and
// the decoded body.
func authCode(t *testing.T, m *mocktest.Mock, body string) (int, map[string]any) {
	t.Helper()
	resp, err := m.Control.HTTP.Post(m.URL+alipay.AuthCodesPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

func mustCode(t *testing.T, m *mocktest.Mock, body string) map[string]any {
	t.Helper()
	st, out := authCode(t, m, body)
	if st != http.StatusCreated {
		t.Fatalf("POST %s = %d %v, want 201", alipay.AuthCodesPath, st, out)
	}
	return out
}

func (c *client) token(grantType, name, value string) reply {
	return c.exec(alipay.MethodOAuthToken, "", map[string]string{"grant_type": grantType, name: value})
}

func TestOAuthCodeAndRefreshFlow(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	issued := mustCode(t, m, `{"app_id":"`+appID+`","user_id":"`+userID+`"}`)
	code, _ := issued["code"].(string)
	if len(code) != 32 || issued["open_id"] == "" || issued["expires_in"] != float64(180) {
		t.Fatalf("auth code answer %v", issued)
	}

	n := c.node(c.token("authorization_code", "code", code), nodeOAuth, true)
	if n["user_id"] != userID || n["open_id"] != issued["open_id"] || n["sub_code"] != nil {
		t.Fatalf("token node %v", n)
	}
	for _, f := range []string{"access_token", "refresh_token", "auth_start"} {
		if s, _ := n[f].(string); s == "" {
			t.Errorf("%s missing: %v", f, n)
		}
	}
	if n["expires_in"].(float64) <= 0 || n["re_expires_in"].(float64) < n["expires_in"].(float64) {
		t.Errorf("expires_in %v re_expires_in %v", n["expires_in"], n["re_expires_in"])
	}

	// A code is good once; its failure is answered in error_response.
	wantCode(t, c.node(c.token("authorization_code", "code", code), "error_response", true), "40002", "isv.code-invalid")

	refresh := n["refresh_token"].(string)
	n2 := c.node(c.token("refresh_token", "refresh_token", refresh), nodeOAuth, true)
	if n2["user_id"] != userID || n2["access_token"] == n["access_token"] || n2["refresh_token"] == refresh {
		t.Fatalf("refreshed node %v", n2)
	}
	// The used refresh token is replaced.
	wantCode(t, c.node(c.token("refresh_token", "refresh_token", refresh), "error_response", true),
		"40002", "isv.refresh-token-invalid")

	j := journal(t, m)
	if len(j) != 4 || j[0].Endpoint != alipay.EndpointOAuthToken || j[0].OpenID != userID || j[0].ErrCode != 0 ||
		j[1].ErrCode != 40002 {
		t.Fatalf("journal %+v", j)
	}
}

func TestOAuthExpiry(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	ctx := context.Background()
	code := mustCode(t, m, `{"app_id":"`+appID+`"}`)["code"].(string)
	if _, err := m.Control.Advance(ctx, 3*time.Minute+time.Second); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.node(c.token("authorization_code", "code", code), "error_response", true), "40002", "isv.code-invalid")

	code = mustCode(t, m, `{"app_id":"`+appID+`"}`)["code"].(string)
	n := c.node(c.token("authorization_code", "code", code), nodeOAuth, true)
	if _, err := m.Control.Advance(ctx, 31*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.node(c.token("refresh_token", "refresh_token", n["refresh_token"].(string)), "error_response", true),
		"40002", "isv.refresh-token-time-out")
}

func TestOAuthRejections(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay,
		AppID: "2021000000000043", AppPublicKey: alipay.DemoAppPublicKeyPEM,
		AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM}); err != nil {
		t.Fatal(err)
	}
	otherAppCode := mustCode(t, m, `{"app_id":"2021000000000043"}`)["code"].(string)
	for _, tc := range []struct {
		name, grantType, param, value, sub string
	}{
		{"unknown code", "authorization_code", "code", "0123456789abcdef0123456789abcdef", "isv.code-invalid"},
		{"no code", "authorization_code", "code", "", "isv.code-invalid"},
		{"other app's code", "authorization_code", "code", otherAppCode, "isv.code-invalid"},
		{"unknown refresh token", "refresh_token", "refresh_token", "authusrBnope", "isv.refresh-token-invalid"},
		{"bad grant type", "client_credentials", "code", "x", "isv.grant-type-invalid"},
		{"no grant type", "", "code", "x", "isv.grant-type-invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, c.node(c.token(tc.grantType, tc.param, tc.value), "error_response", true), "40002", tc.sub)
		})
	}
	// The other app's code was not burnt by the wrong app's attempt.
	other := *c
	other.appID = "2021000000000043"
	if n := other.node(other.token("authorization_code", "code", otherAppCode), nodeOAuth, true); n["open_id"] == "" {
		t.Fatalf("other app's token %v", n)
	}
}

func TestAuthCodeControlRoute(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	t.Run("made-up user", func(t *testing.T) {
		out := mustCode(t, m, `{"app_id":"`+appID+`"}`)
		if u, _ := out["user_id"].(string); len(u) != 16 || !strings.HasPrefix(u, "2088") {
			t.Fatalf("made-up user id %v", out["user_id"])
		}
	})
	t.Run("open id only", func(t *testing.T) {
		out := mustCode(t, m, `{"app_id":"`+appID+`","open_id":"074openidonly"}`)
		n := c.node(c.token("authorization_code", "code", out["code"].(string)), nodeOAuth, true)
		if n["open_id"] != "074openidonly" || n["user_id"] != nil {
			t.Fatalf("token node %v, want the open id only", n)
		}
	})
	t.Run("user and open id become users of the app", func(t *testing.T) {
		users := func() int {
			apps, err := m.Control.Apps(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range apps {
				if a.Platform == mockapi.PlatformAlipay && a.AppID == appID {
					return a.Users
				}
			}
			t.Fatal("app not listed")
			return 0
		}
		before := users()
		mustCode(t, m, `{"app_id":"`+appID+`","user_id":"2088000000000777"}`)
		if after := users(); after != before+2 {
			t.Fatalf("users %d -> %d, want +2 (user id and open id)", before, after)
		}
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := m.Control.HTTP.Get(m.URL + alipay.AuthCodesPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("GET %s = %d, want 405 allowing POST", alipay.AuthCodesPath, resp.StatusCode)
		}
	})
	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"unknown app", `{"app_id":"2021009999999999"}`, "app_id", http.StatusNotFound},
		{"no app", `{"user_id":"2088"}`, "app_id", http.StatusBadRequest},
		{"unknown field", `{"app_id":"` + appID + `","uid":"1"}`, "", http.StatusBadRequest},
		{"not JSON", `app_id=1`, "", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := authCode(t, m, tc.body)
			if st != tc.status || out["error"] == "" || (tc.field != "" && out["field"] != tc.field) {
				t.Fatalf("got %d %v, want %d field %q", st, out, tc.status, tc.field)
			}
		})
	}
}
