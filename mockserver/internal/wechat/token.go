package wechat

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// Token rules (docs/platforms/wechat.md):
//   - a token lives 7200 s;
//   - /cgi-bin/token issues a new token on every call; the previous one stays
//     valid for 5 more minutes, then answers 40001 ("not latest"); older ones
//     die at once (only the two newest live);
//   - /cgi-bin/stable_token returns the same token while more than 5 minutes
//     remain, then issues the next one (the old one serves its last minutes);
//     force_refresh issues a new one at most every 30 s and 20 times a day —
//     within 30 s it returns the current token unchanged ("否则不会刷新").
//     A forced refresh leaves the previous token its 5-minute overlap and
//     kills older ones, so two forced refreshes 30 s apart invalidate a
//     leaked token at once, as the doc's leak procedure says;
//   - the two pools are isolated: neither invalidates the other;
//   - a token past expiry answers 42001; a replaced one 40001.
const (
	tokenLife     = 7200 * time.Second
	tokenOverlap  = 5 * time.Minute
	forceInterval = 30 * time.Second
	stableRenewAt = 5 * time.Minute
	// tokens are kept this long after they stop working, so a stale token
	// still answers 42001/40001 rather than being forgotten.
	tokenMemory = 24 * time.Hour
)

type poolKey struct {
	appID  string
	stable bool
}

type token struct {
	value   string
	appID   string
	issued  time.Time
	expires time.Time // natural expiry
	cut     time.Time // zero, or when replacement ends it
}

type pool struct {
	live      []*token // newest last; at most two
	lastForce time.Time
}

func newTokenValue() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	// Newer WeChat tokens look like "<digits>_<base64url>" (docs/platforms/wechat.md).
	return "86_" + base64.RawURLEncoding.EncodeToString(b)
}

// issueLocked adds a new token to p, cutting the previous one to the
// overlap and ending older ones now. e.mu must be held.
func (e *Emulator) issueLocked(p *pool, appID string, now time.Time) *token {
	for i, old := range p.live {
		end := now
		if i == len(p.live)-1 {
			end = now.Add(tokenOverlap)
		}
		if old.cut.IsZero() || end.Before(old.cut) {
			old.cut = end
		}
	}
	if len(p.live) > 0 {
		p.live = p.live[len(p.live)-1:]
	}
	t := &token{value: newTokenValue(), appID: appID, issued: now, expires: now.Add(tokenLife)}
	p.live = append(p.live, t)
	e.tokens[t.value] = t
	e.pruneLocked(now)
	return t
}

// pruneLocked forgets tokens long dead, keeping memory flat.
func (e *Emulator) pruneLocked(now time.Time) {
	if len(e.tokens) < 1024 {
		return
	}
	for v, t := range e.tokens {
		end := t.expires
		if !t.cut.IsZero() && t.cut.Before(end) {
			end = t.cut
		}
		if now.Sub(end) > tokenMemory {
			delete(e.tokens, v)
		}
	}
}

// checkToken resolves ?access_token= to its app: 41001 when missing, 40001
// when unknown or replaced, 42001 when expired. The app id is reported even
// for a dead token so the journal and faults can use it.
func (e *Emulator) checkToken(r *http.Request) (appID string, code ErrCode) {
	v := platform.QueryValue(r.URL.RawQuery, "access_token")
	if v == "" {
		return "", CodeTokenMissing
	}
	now := e.env.Clock.Now()
	// The token is read under the lock: a concurrent fetch cuts it
	// (issueLocked writes cut), so a copy is judged, not the shared value.
	e.mu.Lock()
	t, ok := e.tokens[v]
	var tc token
	if ok {
		tc = *t
	}
	e.mu.Unlock()
	switch {
	case !ok:
		return "", CodeInvalidCredential
	case !tc.cut.IsZero() && !now.Before(tc.cut) && tc.cut.Before(tc.expires):
		return tc.appID, CodeInvalidCredential
	case !now.Before(tc.expires):
		return tc.appID, CodeTokenExpired
	}
	return tc.appID, CodeOK
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// credentials checks appid/secret in the platform's order: IP whitelist
// first ("微信先查 IP 后查参数"), then grant_type, missing appid or secret,
// unknown appid, wrong secret. msg, when set, is the errmsg to answer in
// place of the code's standard one (40164 names the caller's address).
func (e *Emulator) credentials(r *http.Request, c *platform.Call, grantType, appID, secret string) (app *store.App, code ErrCode, msg string) {
	c.AppID = appID
	app, known := e.env.Store.App(Name, appID)
	if ip := clientIP(r); known && len(app.IPWhitelist) > 0 && !slices.Contains(app.IPWhitelist, ip) {
		return nil, CodeInvalidIP, ipMessage(ip)
	}
	switch {
	case grantType != "client_credential":
		return nil, CodeInvalidGrantType, ""
	case appID == "":
		return nil, CodeAppIDMissing, ""
	case secret == "":
		return nil, CodeSecretMissing, ""
	case !known:
		return nil, CodeInvalidAppID, ""
	case secret != app.Secret:
		return nil, CodeInvalidAppSecret, ""
	}
	return app, CodeOK, ""
}

// ipMessage is the 40164 errmsg: "invalid ip 114.221.21.30 ipv6
// ::ffff:114.221.21.30, not in whitelist" (docs/platforms/wechat.md, observed).
// For an IPv6 caller the platform's wording is UNCONFIRMED; the address is
// given in both places.
func ipMessage(ip string) string {
	v6 := ip
	if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
		v6 = "::ffff:" + ip
	}
	return "invalid ip " + ip + " ipv6 " + v6 + ", not in whitelist"
}

// failCredentials answers a credentials error; msg, when set, replaces the
// code's standard errmsg.
func (e *Emulator) failCredentials(w http.ResponseWriter, c *platform.Call, code ErrCode, msg string) {
	if msg == "" {
		msg = code.Message()
	}
	e.failMsg(w, c, code, msg)
}

// quotaCode maps a reached limit to the endpoint's code.
func quotaCode(l quota.Limit, minuteCode ErrCode) ErrCode {
	if l.Per == quota.Day || l.Per == quota.Month {
		return CodeDailyQuota
	}
	return minuteCode
}

// GET /cgi-bin/token?grant_type=client_credential&appid=APPID&secret=SECRET
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := r.URL.Query()
	app, code, msg := e.credentials(r, c, q.Get("grant_type"), q.Get("appid"), q.Get("secret"))
	if e.fault(w, r, c) {
		return
	}
	if code != CodeOK {
		e.failCredentials(w, c, code, msg)
		return
	}
	if l, ok := e.env.Take(app, EndpointToken); !ok {
		e.fail(w, c, quotaCode(l, CodeMinuteQuota), "")
		return
	}
	now := e.env.Clock.Now()
	e.mu.Lock()
	p := e.poolLocked(poolKey{appID: app.AppID})
	t := e.issueLocked(p, app.AppID, now)
	e.mu.Unlock()
	writeJSON(w, tokenAnswer{AccessToken: t.value, ExpiresIn: int64(tokenLife / time.Second)})
}

func (e *Emulator) poolLocked(k poolKey) *pool {
	p := e.pools[k]
	if p == nil {
		p = &pool{}
		e.pools[k] = p
	}
	return p
}

type stableRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// readJSON reads a POST body into v: 44002 when empty, 47001 when it is not
// JSON of the right shape.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) ErrCode {
	body, err := platform.ReadBody(w, r, limit)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return CodeDataFormat
		}
		return CodeDataFormat
	}
	keepBody(w, body)
	return decodeJSON(body, v)
}

// decodeJSON: every WeChat POST API takes one JSON object. Anything else —
// null, an array, a string — is 47001 like broken JSON, rather than an
// empty request that fails later on a missing field (json.Unmarshal accepts
// null into a struct without error).
func decodeJSON(body []byte, v any) ErrCode {
	i := firstNonBlank(body)
	if i < 0 {
		return CodeEmptyPostData
	}
	if body[i] != '{' {
		return CodeDataFormat
	}
	if fb, ok := v.(flatBody); ok && platform.DecodeFlat(body, fb.flatFields()) {
		return CodeOK // the common shape, read in one pass (encoding/json's result)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return CodeDataFormat
	}
	return CodeOK
}

// flatBody is a request struct that platform.DecodeFlat can fill: every
// one of its JSON fields listed (tested by platform.FlatFieldsMatch).
type flatBody interface{ flatFields() []platform.FlatField }

// firstNonBlank is the index of the first byte that is not JSON whitespace,
// or -1 when the body is blank.
func firstNonBlank(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return i
		}
	}
	return -1
}

// POST /cgi-bin/stable_token {"grant_type","appid","secret","force_refresh"}
func (e *Emulator) handleStableToken(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req stableRequest
	if code := readJSON(w, r, maxBodyBytes, &req); code != CodeOK {
		if e.fault(w, r, c) {
			return
		}
		e.fail(w, c, code, "")
		return
	}
	app, code, msg := e.credentials(r, c, req.GrantType, req.AppID, req.Secret)
	if e.fault(w, r, c) {
		return
	}
	if code != CodeOK {
		e.failCredentials(w, c, code, msg)
		return
	}
	if l, ok := e.env.Take(app, EndpointStableToken); !ok {
		e.fail(w, c, quotaCode(l, CodeMinuteQuota), "")
		return
	}
	now := e.env.Clock.Now()
	e.mu.Lock()
	p := e.poolLocked(poolKey{appID: app.AppID, stable: true})
	var cur *token
	if n := len(p.live); n > 0 && now.Before(p.live[n-1].expires) {
		cur = p.live[n-1]
	}
	switch {
	case req.ForceRefresh && cur != nil && now.Sub(p.lastForce) < forceInterval:
		// Too soon after the last forced refresh: "否则不会刷新" — the
		// current token comes back unchanged.
	case req.ForceRefresh:
		if l, ok := e.env.Take(app, EndpointStableForce); !ok {
			e.mu.Unlock()
			// The 21st forced refresh of a day: 45009 family (UNCONFIRMED).
			e.fail(w, c, quotaCode(l, CodeMinuteQuota), "")
			return
		}
		p.lastForce = now
		cur = e.issueLocked(p, app.AppID, now)
	case cur == nil || cur.expires.Sub(now) <= stableRenewAt:
		// Renewed in the last 5 minutes: the old token keeps the rest of its
		// life, so both work while clients switch over.
		if cur != nil {
			cur.cut = cur.expires
		}
		cur = e.issueLocked(p, app.AppID, now)
		if n := len(p.live); n > 1 {
			p.live[n-2].cut = p.live[n-2].expires
		}
	}
	ttl := cur.expires.Sub(now)
	e.mu.Unlock()
	writeJSON(w, tokenAnswer{AccessToken: cur.value, ExpiresIn: int64(ttl.Round(time.Second) / time.Second)})
}
