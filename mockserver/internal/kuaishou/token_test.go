package kuaishou_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/kuaishou"
)

func TestTokenIssuesA48HourBearerToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	tests := []struct {
		name string
		do   func() reply
	}{
		{"POST form", func() reply {
			return m.do(http.MethodPost, tokenPath, tokenForm("client_credentials", appA, secretA))
		}},
		// The doc's own curl example is a GET with query parameters.
		{"GET query", func() reply {
			return m.do(http.MethodGet, tokenPath+"?"+tokenForm("client_credentials", appA, secretA).Encode(), nil)
		}},
		{"POST with query parameters", func() reply {
			return m.do(http.MethodPost, tokenPath+"?"+tokenForm("client_credentials", appA, secretA).Encode(), nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			wantResult(t, r, kuaishou.ResultOK)
			if got := r.int(t, "expires_in"); got != 172800 {
				t.Errorf("expires_in %d, want 172800 (48 h)", got)
			}
			if got := r.str("token_type"); got != "bearer" {
				t.Errorf("token_type %q, want bearer", got)
			}
			tok := r.str("access_token")
			// Kuaishou tokens are base64url protobufs starting like the doc's example.
			if !strings.HasPrefix(tok, "ChFvYXV0aC5hY2Nlc3NUb2tlbhJQ") {
				t.Errorf("access_token %q does not look like a Kuaishou token", tok)
			}
			if _, err := base64.RawURLEncoding.DecodeString(tok); err != nil {
				t.Errorf("access_token is not base64url: %v", err)
			}
			if got := m.use(tok); got != int64(kuaishou.ResultOK) {
				t.Errorf("fresh token answers %d on send, want 1", got)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tests := []struct {
		name                     string
		method                   string
		grantType, appID, secret string
		code                     kuaishou.Result
		detail                   string
	}{
		{"singular grant_type (Douyin's spelling)", http.MethodPost, "client_credential", appA, secretA, kuaishou.ResultBadParam, "grant_type"},
		{"no grant_type", http.MethodPost, "", appA, secretA, kuaishou.ResultBadParam, "grant_type"},
		{"missing app_id", http.MethodPost, "client_credentials", "", secretA, kuaishou.ResultBadParam, "app_id"},
		{"missing app_secret", http.MethodPost, "client_credentials", appA, "", kuaishou.ResultBadParam, "app_secret"},
		{"unknown app_id", http.MethodPost, "client_credentials", "ks000000000000000000", secretA, kuaishou.ResultAuth, "app_id"},
		{"wrong secret", http.MethodPost, "client_credentials", appA, secretB, kuaishou.ResultAuth, "app_secret"},
		{"PUT", http.MethodPut, "client_credentials", appA, secretA, kuaishou.ResultBadParam, "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(tt.method, tokenPath, tokenForm(tt.grantType, tt.appID, tt.secret))
			wantDetail(t, r, tt.code, tt.detail)
		})
	}
}

func TestTokenMalformedQuery(t *testing.T) {
	t.Parallel()
	m := start(t)
	r := m.do(http.MethodGet, tokenPath+"?app_id=%zz&grant_type=client_credentials", nil)
	wantResult(t, r, kuaishou.ResultBadParam)
}

// "未超出有效截止时间，开发者重新调用获取新的access_token，则新老token同时有效":
// each token lives its own 48 hours; a refetch does not cut the old one.
func TestTokenOldAndNewBothValidUntilTheirOwnExpiry(t *testing.T) {
	t.Parallel()
	m := start(t)
	t1 := m.token(appA, secretA)
	m.advance(24 * time.Hour)
	t2 := m.token(appA, secretA)
	if t1 == t2 {
		t.Fatal("a second fetch returned the same token; every call issues a new one")
	}
	for name, tok := range map[string]string{"old": t1, "new": t2} {
		if got := m.use(tok); got != int64(kuaishou.ResultOK) {
			t.Fatalf("%s token answers %d after a refetch, want 1", name, got)
		}
	}
	m.advance(24*time.Hour - time.Minute) // t1 has a minute left
	if got := m.use(t1); got != int64(kuaishou.ResultOK) {
		t.Fatalf("old token answers %d a minute before its 48 h, want 1", got)
	}
	m.advance(2 * time.Minute) // t1 is 48h01m old, t2 24h01m
	r := m.send(sendForm(t, t1, userLong))
	wantDetail(t, r, kuaishou.ResultAuth, "expired")
	if got := m.use(t2); got != int64(kuaishou.ResultOK) {
		t.Fatalf("new token answers %d at 24 h, want 1", got)
	}
	m.advance(24 * time.Hour)
	wantDetail(t, m.send(sendForm(t, t2, userLong)), kuaishou.ResultAuth, "expired")
}

func TestTokenIsPerApp(t *testing.T) {
	t.Parallel()
	m := start(t)
	tokB := m.token(appB, secretB)
	// app A's send with app B's token.
	wantDetail(t, m.send(sendForm(t, tokB, userLong)), kuaishou.ResultAuth, "app_id")
	if got := len(m.messages()); got != 0 {
		t.Fatalf("%d messages delivered, want 0", got)
	}
}

// Resetting forgets tokens: a token from before answers invalid.
func TestResetForgetsTokens(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	if err := m.Control.Reset(m.ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	wantDetail(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultAuth, "invalid")
}
