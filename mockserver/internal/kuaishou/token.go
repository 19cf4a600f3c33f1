package kuaishou

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
)

// Token rules (docs/platforms/kuaishou.md): "access_token 48小时内有效，未超
// 出有效截止时间，开发者重新调用获取新的access_token，则新老token同时有效" — every
// call issues a new token living 48 h, and earlier tokens keep working until
// their own expiry. The docs' sample expires_in values disagree (23435,
// 3600000); the mock answers the documented 48 h.
const (
	tokenLife = 48 * time.Hour
	// tokens are remembered this long after expiry so a stale token still
	// answers "expired" rather than "invalid".
	tokenMemory = 24 * time.Hour
	pruneAt     = 1024
)

type token struct {
	appID   string
	expires time.Time
}

// tokenPrefix is the protobuf header every Kuaishou token decodes to: field 1
// "oauth.accessToken", then field 2 of 80 bytes. Base64url of it gives the
// "ChFvYXV0aC5hY2Nlc3NUb2tlbhJQ…" that starts the doc's example token.
var tokenPrefix = append([]byte{0x0a, 17}, append([]byte("oauth.accessToken"), 0x12, 80)...)

func newTokenValue() string {
	b := make([]byte, len(tokenPrefix)+80)
	copy(b, tokenPrefix)
	_, _ = rand.Read(b[len(tokenPrefix):])
	return base64.RawURLEncoding.EncodeToString(b)
}

type tokenAnswer struct {
	Result      Result `json:"result"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// GET|POST /oauth2/access_token with app_id, app_secret and
// grant_type=client_credentials in the query or a form body. The doc says
// POST x-www-form-urlencoded, yet its own curl example is a GET with query
// parameters; both work.
//
// Checks: a malformed request, then "参数有误" (100200100) for a wrong or
// missing grant_type (it is the plural client_credentials, unlike Douyin),
// app_id or app_secret, then "验证出错" (100200101) for an unknown app_id or
// a wrong secret.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	formErr := readForm(w, r)
	f := r.Form
	appID, secret := f.Get("app_id"), f.Get("app_secret")
	c.AppID = appID
	if e.fault(w, r, c) {
		return
	}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		fail(w, c, ResultBadParam, "method "+r.Method+" not allowed")
		return
	case formErr != nil:
		fail(w, c, ResultBadParam, "malformed request")
		return
	case f.Get("grant_type") != "client_credentials":
		fail(w, c, ResultBadParam, "grant_type must be client_credentials")
		return
	case appID == "":
		fail(w, c, ResultBadParam, "app_id is empty")
		return
	case secret == "":
		fail(w, c, ResultBadParam, "app_secret is empty")
		return
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1 {
		// One answer for both, so the endpoint does not reveal which app ids exist.
		fail(w, c, ResultAuth, "check app_id and app_secret")
		return
	}
	if l, ok := e.env.Take(app, EndpointToken); !ok {
		fail(w, c, ResultRateLimited, quotaDetail(l))
		return
	}
	now := e.env.Clock.Now()
	t := &token{appID: app.AppID, expires: now.Add(tokenLife)}
	v := newTokenValue()
	e.mu.Lock()
	e.tokens[v] = t
	e.pruneLocked(now)
	e.mu.Unlock()
	c.ErrCode = 0
	writeJSON(w, tokenAnswer{Result: ResultOK, AccessToken: v, ExpiresIn: int64(tokenLife / time.Second), TokenType: "bearer"})
}

// pruneLocked forgets tokens long expired, keeping memory flat. Every call
// issues a token and none replaces another, so without pruning a client
// that fetches a token per send would grow the map without bound.
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

// checkToken resolves access_token (query or form) to its app. A missing
// token is a missing parameter (100200100); an unknown or expired one is a
// credential failure (100200101, UNCONFIRMED: the send API's code for it is
// not documented). The app id is reported even for an expired token, for
// the journal and faults.
func (e *Emulator) checkToken(f url.Values) (appID string, code Result, detail string) {
	v := f.Get("access_token")
	if v == "" {
		return "", ResultBadParam, "access_token is empty"
	}
	now := e.env.Clock.Now()
	e.mu.Lock()
	t, ok := e.tokens[v]
	e.mu.Unlock()
	switch {
	case !ok:
		return "", ResultAuth, "access_token is invalid"
	case !now.Before(t.expires):
		return t.appID, ResultAuth, "access_token has expired"
	}
	return t.appID, ResultOK, ""
}

// quotaDetail names the window of a reached limit.
func quotaDetail(l quota.Limit) string {
	return "limit " + strconv.Itoa(l.Max) + " per " + string(l.Per)
}
