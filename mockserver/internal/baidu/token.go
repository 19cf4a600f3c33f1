package baidu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/big"
	"net/http"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
)

// Token rules (docs/platforms/baidu.md): "默认情况下，Access Token 的有效
// 期为一个月" and the newer example answers expires_in 2592000 (30 days).
// Whether a new fetch invalidates the previous token is not documented
// (UNCONFIRMED); the mock keeps every token valid until its own expiry, the
// reading that breaks no client.
const (
	tokenLife        = 30 * 24 * time.Hour
	refreshTokenLife = 10 * 365 * 24 * time.Hour
	tokenMemory      = 24 * time.Hour
	pruneAt          = 1024
	scope            = "smartapp_snsapi_base"
)

type token struct {
	appID   string
	expires time.Time
}

type tokenAnswer struct {
	AccessToken   string `json:"access_token"`
	ExpiresIn     int64  `json:"expires_in"`
	RefreshToken  string `json:"refresh_token"`
	Scope         string `json:"scope"`
	SessionKey    string `json:"session_key"`
	SessionSecret string `json:"session_secret"`
}

// tokenValue mimics Baidu's token shape, e.g.
// "24.173e34227090dbe664c4991ef5c24779.2592000.1573901211.282335-16099124":
// a kind prefix, 32 hex, the lifetime, the expiry as a Unix time, and two
// numbers (a random one and one derived from the app, so tokens of one app
// share their tail as real ones do).
func tokenValue(kind int, appID string, life time.Duration, expires time.Time) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(appID))
	n, _ := rand.Int(rand.Reader, big.NewInt(900000))
	return fmt.Sprintf("%d.%s.%d.%d.%d-%d", kind, randHex(16), int64(life/time.Second), expires.Unix(),
		100000+n.Int64(), 10000000+int64(h.Sum32()%90000000))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// GET|POST /oauth/2.0/token?grant_type=client_credentials&client_id=<AppKey>
// &client_secret=<AppSecret>&scope=smartapp_snsapi_base
//
// The doc's heading says GET, its prose recommends POST, and the official Go
// SDK uses GET with query parameters: both work, parameters from the query or
// a form body. Checks: grant_type (the plural client_credentials; the
// singular, which one SDK sends, is refused — UNCONFIRMED),
// client_id known, client_secret right, scope smartapp_snsapi_base (a
// missing scope is refused too — UNCONFIRMED). Errors are OAuth-shaped with
// HTTP 400; the descriptions are Baidu's OAuth server's texts where known
// ("unknown client id", "Client authentication failed"), the others
// UNCONFIRMED.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	formErr := readForm(w, r)
	f := r.Form
	appID, secret := f.Get("client_id"), f.Get("client_secret")
	c.AppID = appID
	if e.fault(w, r, c) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		oauthFail(w, c, OAuthInvalidRequest, "method "+r.Method+" not allowed")
		return
	}
	if formErr != nil {
		oauthFail(w, c, OAuthInvalidRequest, "malformed request")
		return
	}
	if f.Get("grant_type") != "client_credentials" {
		oauthFail(w, c, OAuthUnsupportedGrantType, "The authorization grant type is not supported")
		return
	}
	app, known := e.env.Store.App(Name, appID)
	switch {
	case !known:
		oauthFail(w, c, OAuthInvalidClient, "unknown client id")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1:
		oauthFail(w, c, OAuthInvalidClient, "Client authentication failed")
		return
	case f.Get("scope") != scope:
		oauthFail(w, c, OAuthInvalidScope, "The requested scope is invalid, unknown, or malformed")
		return
	}
	if l, ok := e.env.Take(app, EndpointToken); !ok {
		gatewayFail(w, c, quotaCode(l))
		return
	}
	now := e.env.Clock.Now()
	exp := now.Add(tokenLife)
	v := tokenValue(24, app.AppID, tokenLife, exp)
	e.mu.Lock()
	e.tokens[v] = &token{appID: app.AppID, expires: exp}
	e.pruneLocked(now)
	e.mu.Unlock()
	c.ErrCode = 0
	// session_key and session_secret are "字段已废弃，不可用" but still sent;
	// they are random and unrelated to the app's secret.
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken: v, ExpiresIn: int64(tokenLife / time.Second),
		RefreshToken: tokenValue(25, app.AppID, refreshTokenLife, now.Add(refreshTokenLife)),
		Scope:        scope, SessionKey: randHex(16), SessionSecret: randHex(16),
	})
}

// pruneLocked forgets tokens long expired, keeping memory flat.
func (e *Emulator) pruneLocked(now time.Time) {
	if len(e.tokens) < pruneAt {
		return
	}
	for v, t := range e.tokens {
		if now.Sub(t.expires) > tokenMemory {
			delete(e.tokens, v)
		}
	}
}

// checkToken resolves ?access_token= (the query only: the FAQ says a token
// sent in the form answers "Invalid parameter") to its app: 100 when
// missing, 110 when unknown, 111 when expired. The app id is reported even
// for an expired token, for the journal and faults.
func (e *Emulator) checkToken(r *http.Request) (string, GatewayCode) {
	v := platform.QueryValue(r.URL.RawQuery, "access_token")
	if v == "" {
		return "", GatewayInvalidParameter
	}
	now := e.env.Clock.Now()
	e.mu.Lock()
	t, ok := e.tokens[v]
	e.mu.Unlock()
	switch {
	case !ok:
		return "", GatewayTokenInvalid
	case !now.Before(t.expires):
		return t.appID, GatewayTokenExpired
	}
	return t.appID, 0
}

// quotaCode maps a reached limit to the gateway's limit code
// (UNCONFIRMED: Baidu documents no limits for these APIs).
func quotaCode(l quota.Limit) GatewayCode {
	switch l.Per {
	case quota.Second:
		return GatewayQPSLimit
	case quota.Day:
		return GatewayDailyLimit
	}
	return GatewayRequestLimit
}
