package douyin

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// Token rules (docs/platforms/douyin.md):
//   - Douyin has two kinds of app token. getAccessToken (/api/apps/v2/token,
//     hex-looking "0801121846…") opens the legacy developer.toutiao.com APIs
//     (v1 notify, antidirt); client_token (/oauth/client_token/, "clt.…")
//     opens the open.douyin.com APIs (notify_user v2, censor/text). A token
//     of the wrong kind is an invalid token.
//   - Both live 7200 s. A new fetch cuts the previous token to 5 minutes and
//     ends older ones at once: "连续多次获取 client_token 只会保留最新的两个".
//   - The stable variants return the same token while it is valid. The
//     mini-game stable_token's force_refresh "invalidates it at once" (no
//     overlap) and is limited to 20 a day. stable_client_token has no
//     documented force_refresh. Whether a stable token renews early (WeChat
//     renews in the last 5 minutes) is UNCONFIRMED: here it is renewed only
//     once it has expired.
//   - Each kind and variant has its own pool: fetching one never cuts
//     another (UNCONFIRMED, nothing says they interact).
//   - client_token: more than 500 calls in 5 minutes answer 10020.
const (
	tokenLife    = 7200 * time.Second
	tokenOverlap = 5 * time.Minute
	// tokenMemory keeps dead tokens answering "expired"/"invalid" rather
	// than being forgotten.
	tokenMemory = 24 * time.Hour

	clientTokenWindow   = 5 * time.Minute
	clientTokenMaxCalls = 500

	grantClientCredential = "client_credential" // singular on both endpoints (§4.1)
)

type tokenKind int

const (
	kindAccess       tokenKind = iota // /api/apps/v2/token
	kindStableAccess                  // mini-game /mgplatform/api/apps/stable_token
	kindClient                        // /oauth/client_token/
	kindStableClient                  // /oauth/stable_client_token/
)

// legacy reports whether the kind opens the developer.toutiao.com APIs. The
// mini-game stable token is accepted there too: the mini-game v1 notify
// lives on the same backend (whether antidirt takes it is UNCONFIRMED, §1.2).
func (k tokenKind) legacy() bool { return k == kindAccess || k == kindStableAccess }

type poolKey struct {
	appID string
	kind  tokenKind
}

type token struct {
	value   string
	appID   string
	kind    tokenKind
	expires time.Time // natural expiry
	cut     time.Time // zero, or when a newer token ends it
}

// end is when the token stops working.
func (t *token) end() time.Time {
	if !t.cut.IsZero() && t.cut.Before(t.expires) {
		return t.cut
	}
	return t.expires
}

type pool struct {
	live []*token // newest last; at most two
}

// tokenState is what a presented token turned out to be.
type tokenState int

const (
	tokenOK tokenState = iota
	tokenMissing
	tokenInvalid // unknown, replaced, or of the wrong kind
	tokenExpired
)

func newTokenValue(kind tokenKind) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	if kind.legacy() {
		// getAccessToken tokens look like "0801121846735352506a356a6…".
		return "0801121846" + hex.EncodeToString(b)
	}
	return "clt." + hex.EncodeToString(b)
}

// issueLocked adds a new token to p, cutting the previous one to the
// overlap (or to now, without overlap) and ending older ones now. e.mu must
// be held.
func (e *Emulator) issueLocked(p *pool, key poolKey, now time.Time, overlap bool) *token {
	for i, old := range p.live {
		end := now
		if overlap && i == len(p.live)-1 {
			end = now.Add(tokenOverlap)
		}
		if old.cut.IsZero() || end.Before(old.cut) {
			old.cut = end
		}
	}
	if len(p.live) > 0 {
		p.live = p.live[len(p.live)-1:]
	}
	t := &token{value: newTokenValue(key.kind), appID: key.appID, kind: key.kind, expires: now.Add(tokenLife)}
	p.live = append(p.live, t)
	e.tokens[t.value] = t
	e.pruneLocked(now)
	return t
}

// stableLocked returns the pool's current token while it works, else issues
// the next one.
func (e *Emulator) stableLocked(p *pool, key poolKey, now time.Time) *token {
	if n := len(p.live); n > 0 && now.Before(p.live[n-1].end()) {
		return p.live[n-1]
	}
	return e.issueLocked(p, key, now, false)
}

func (e *Emulator) poolLocked(k poolKey) *pool {
	p := e.pools[k]
	if p == nil {
		p = &pool{}
		e.pools[k] = p
	}
	return p
}

// pruneLocked forgets tokens long dead, keeping memory flat. It sweeps only
// when the map has doubled since the last sweep, so issuing stays O(1)
// amortised however many apps hold live tokens.
func (e *Emulator) pruneLocked(now time.Time) {
	if len(e.tokens) < e.tokenSweepAt {
		return
	}
	for v, t := range e.tokens {
		if now.Sub(t.end()) > tokenMemory {
			delete(e.tokens, v)
		}
	}
	e.tokenSweepAt = max(minSweep, 2*len(e.tokens))
}

// minSweep is the map size below which dead entries are not swept.
const minSweep = 1024

// checkToken resolves a presented token. It accepts the legacy kinds when
// legacy is set, else the client kinds. The app id is reported for any token
// the mock issued, even a dead one, so the journal and faults can use it.
func (e *Emulator) checkToken(value string, legacy bool) (string, tokenState) {
	if value == "" {
		return "", tokenMissing
	}
	now := e.env.Clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock() // a refetch may be cutting this token right now
	t, ok := e.tokens[value]
	switch {
	case !ok:
		return "", tokenInvalid
	case t.kind.legacy() != legacy:
		return t.appID, tokenInvalid
	case !t.cut.IsZero() && !now.Before(t.cut) && t.cut.Before(t.expires):
		return t.appID, tokenInvalid
	case !now.Before(t.expires):
		return t.appID, tokenExpired
	}
	return t.appID, tokenOK
}

// tokenRequest is the body of /api/apps/v2/token and of the mini-game
// stable_token (which adds force_refresh).
type tokenRequest struct {
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	GrantType    string `json:"grant_type"`
	ForceRefresh bool   `json:"force_refresh"`
}

// legacyCredentials checks a getAccessToken body: empty parameters first
// ("其它: 参数为空"), then grant_type, appid, secret.
func (e *Emulator) legacyCredentials(req *tokenRequest) (*store.App, ErrNo) {
	if req.AppID == "" || req.Secret == "" || req.GrantType == "" {
		return nil, CodeTokenParamsEmpty
	}
	if req.GrantType != grantClientCredential {
		return nil, CodeBadGrantType
	}
	app, ok := e.env.Store.App(Name, req.AppID)
	if !ok {
		return nil, CodeBadAppID
	}
	if req.Secret != app.Secret {
		return nil, CodeBadSecret
	}
	return app, CodeOK
}

// POST /api/apps/v2/token {"appid","secret","grant_type":"client_credential"}
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req tokenRequest
	ok := readJSON(w, r, &req)
	c.AppID = req.AppID
	if e.fault(w, r, c, famToken) {
		return
	}
	if !ok {
		e.fail(w, c, famToken, CodeTokenParamsEmpty)
		return
	}
	app, code := e.legacyCredentials(&req)
	if code != CodeOK {
		e.fail(w, c, famToken, code)
		return
	}
	if _, ok := e.env.Take(app, EndpointToken); !ok {
		// No limit is documented for this endpoint; a configured one answers
		// -1 (UNCONFIRMED).
		e.failMsg(w, c, famToken, CodeSystemError, "system error: call frequency limit reached")
		return
	}
	now := e.env.Clock.Now()
	key := poolKey{appID: app.AppID, kind: kindAccess}
	e.mu.Lock()
	t := e.issueLocked(e.poolLocked(key), key, now, true)
	e.mu.Unlock()
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, tokenAnswer{ErrNo: CodeOK, ErrTips: CodeOK.Message(),
		Data: tokenData{AccessToken: t.value, ExpiresIn: int64(tokenLife / time.Second)}})
}

// POST /mgplatform/api/apps/stable_token {"appid","secret","grant_type","force_refresh"}
//
// Mini-game only (§1.2); the mini-app side has no documented stable variant.
func (e *Emulator) handleStableToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req tokenRequest
	ok := readJSON(w, r, &req)
	c.AppID = req.AppID
	if e.fault(w, r, c, famToken) {
		return
	}
	if !ok {
		e.fail(w, c, famToken, CodeTokenParamsEmpty)
		return
	}
	app, code := e.legacyCredentials(&req)
	if code != CodeOK {
		e.fail(w, c, famToken, code)
		return
	}
	if _, ok := e.env.Take(app, EndpointStableToken); !ok {
		// The doc gives the limits but not the code (UNCONFIRMED).
		e.failMsg(w, c, famToken, CodeSystemError, "system error: call frequency limit reached")
		return
	}
	if req.ForceRefresh {
		if _, ok := e.env.Take(app, EndpointStableForce); !ok {
			e.failMsg(w, c, famToken, CodeSystemError, "system error: force_refresh limit reached")
			return
		}
	}
	now := e.env.Clock.Now()
	key := poolKey{appID: app.AppID, kind: kindStableAccess}
	e.mu.Lock()
	p := e.poolLocked(key)
	var t *token
	if req.ForceRefresh {
		t = e.issueLocked(p, key, now, false)
	} else {
		t = e.stableLocked(p, key, now)
	}
	ttl := t.end().Sub(now)
	e.mu.Unlock()
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, tokenAnswer{ErrNo: CodeOK, ErrTips: CodeOK.Message(),
		Data: tokenData{AccessToken: t.value, ExpiresIn: int64(ttl.Round(time.Second) / time.Second)}})
}

type clientTokenRequest struct {
	ClientKey    string `json:"client_key"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
}

type clientTokenOK struct {
	AccessToken string `json:"access_token"`
	Description string `json:"description"`
	ErrorCode   ErrNo  `json:"error_code"`
	ExpiresIn   int64  `json:"expires_in"`
}

// clientCredentials checks a client_token body: 10002 for anything missing
// or a wrong grant_type, 10003 for an unknown client_key, 10013 for a wrong
// secret.
func (e *Emulator) clientCredentials(req *clientTokenRequest) (*store.App, ErrNo) {
	if req.ClientKey == "" || req.ClientSecret == "" || req.GrantType != grantClientCredential {
		return nil, CodeClientParams
	}
	app, ok := e.env.Store.App(Name, req.ClientKey)
	if !ok {
		return nil, CodeClientKeyUnknown
	}
	if req.ClientSecret != app.Secret {
		return nil, CodeClientBadSecret
	}
	return app, CodeOK
}

// allowClientCall applies "5 分钟内超过 500 次接口调用，接口报错，错误码 10020"
// as a sliding window per app and endpoint; refused calls are not counted.
func (e *Emulator) allowClientCall(appID, endpoint string, now time.Time) bool {
	k := poolKey{appID: appID, kind: kindClient}
	if endpoint == EndpointStableClientToken {
		k.kind = kindStableClient
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	calls := e.clientCalls[k]
	i := 0
	for i < len(calls) && now.Sub(calls[i]) >= clientTokenWindow {
		i++
	}
	calls = calls[i:]
	if len(calls) >= clientTokenMaxCalls {
		e.clientCalls[k] = calls
		return false
	}
	e.clientCalls[k] = append(calls, now)
	return true
}

// POST /oauth/client_token/ and /oauth/stable_client_token/
// {"client_key","client_secret","grant_type":"client_credential"}
func (e *Emulator) handleClientToken(stable bool) platform.HandlerFunc {
	endpoint, kind := EndpointClientToken, kindClient
	if stable {
		endpoint, kind = EndpointStableClientToken, kindStableClient
	}
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		var req clientTokenRequest
		ok := readJSON(w, r, &req)
		c.AppID = req.ClientKey
		if e.fault(w, r, c, famClientToken) {
			return
		}
		if !ok {
			e.fail(w, c, famClientToken, CodeClientParams)
			return
		}
		app, code := e.clientCredentials(&req)
		if code != CodeOK {
			e.fail(w, c, famClientToken, code)
			return
		}
		now := e.env.Clock.Now()
		if !e.allowClientCall(app.AppID, endpoint, now) {
			e.fail(w, c, famClientToken, CodeClientTooFrequent)
			return
		}
		if _, ok := e.env.Take(app, endpoint); !ok {
			e.fail(w, c, famClientToken, CodeClientTooFrequent)
			return
		}
		key := poolKey{appID: app.AppID, kind: kind}
		e.mu.Lock()
		var t *token
		if stable {
			t = e.stableLocked(e.poolLocked(key), key, now)
		} else {
			t = e.issueLocked(e.poolLocked(key), key, now, true)
		}
		ttl := t.end().Sub(now)
		e.mu.Unlock()
		c.ErrCode = 0
		writeJSON(w, http.StatusOK, clientTokenAnswer{Message: "success", Data: clientTokenOK{
			AccessToken: t.value, ExpiresIn: int64(ttl.Round(time.Second) / time.Second)}})
	}
}

// quotaCode maps a reached quota of an open.douyin.com API to its code.
func quotaCode(l quota.Limit) ErrNo {
	if l.Per == quota.Day {
		return CodeQuotaExhausted
	}
	return CodeRequestTooOften
}
