package alipay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Lifetimes. The auth code lives 3 minutes of mock time and is good for
// one exchange (the support note on isv.code-invalid says codes are
// one-time and expire; it gives up to 24 h as the outer bound — the mock
// keeps it short so expiry is easy to exercise). Token lifetimes are
// UNCONFIRMED: the doc example shows 3600 for both; 15 and 30 days are what
// apps report seeing.
const (
	authCodeTTL     = 3 * time.Minute
	accessTokenTTL  = 15 * 24 * time.Hour
	refreshTokenTTL = 30 * 24 * time.Hour
	// sweepAbove: expired codes and tokens are swept once this many are held.
	sweepAbove = 4096
)

// Grant types of alipay.system.oauth.token.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// authCode is a one-time code a user's consent produced (my.getAuthCode).
type authCode struct {
	appID, userID, openID string
	expires               time.Time
}

// refreshToken is a live refresh token; it is replaced when used.
type refreshToken struct {
	appID, userID, openID string
	expires               time.Time
}

// oauthNode is the success node. It carries no code/msg: the doc example
// has none and the SDKs read success as the absence of sub_code
// (UNCONFIRMED that the live gateway omits them).
type oauthNode struct {
	UserID       string `json:"user_id,omitempty"`
	OpenID       string `json:"open_id,omitempty"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	ReExpiresIn  int64  `json:"re_expires_in"`
	AuthStart    string `json:"auth_start"`
}

// prepareOAuth names the user of the code or refresh token, for the journal
// and fault matching, without spending it.
func (e *Emulator) prepareOAuth(q *call) {
	q.c.OpenID = e.tokenUser(q.p["grant_type"], q.p["code"], q.p["refresh_token"])
}

// tokenUser names the user of a code or refresh token without spending it.
func (e *Emulator) tokenUser(grantType, code, refresh string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch grantType {
	case grantAuthorizationCode:
		if c := e.codes[code]; c != nil {
			return firstNonEmpty(c.userID, c.openID)
		}
	case grantRefreshToken:
		if t := e.refresh[refresh]; t != nil {
			return firstNonEmpty(t.userID, t.openID)
		}
	}
	return ""
}

// alipay.system.oauth.token: grant_type, code and refresh_token are
// top-level (signed) parameters, not biz_content. Failures answer in
// error_response (see errorResponseNode).
func (e *Emulator) serveOAuth(q *call) {
	node, sub := e.exchange(q.app.AppID, q.p["grant_type"], q.p["code"], q.p["refresh_token"])
	if sub != "" {
		q.failBusiness(CodeInvalidArgument, sub, "")
		return
	}
	q.c.OpenID = firstNonEmpty(node.UserID, node.OpenID)
	q.reply(CodeSuccess, node)
}

// exchange spends an auth code or a refresh token of appID for a new token
// pair (both protocols share it); on failure it returns the sub code
// (isv.code-invalid, …), which OpenAPI v3 answers as its code too
// (alipay-sdk-java-all v3 AlipaySystemOauthTokenErrorResponseModel lists
// the same isv.* codes).
func (e *Emulator) exchange(appID, grantType, code, refresh string) (oauthNode, SubCode) {
	now := e.env.Clock.Now()
	var userID, openID string
	e.mu.Lock()
	defer e.mu.Unlock()
	switch grantType {
	case grantAuthorizationCode:
		c := e.codes[code]
		if c == nil || c.appID != appID || !now.Before(c.expires) {
			if c != nil && c.appID == appID {
				delete(e.codes, code)
			}
			return oauthNode{}, SubCodeInvalid
		}
		delete(e.codes, code)
		userID, openID = c.userID, c.openID
	case grantRefreshToken:
		t := e.refresh[refresh]
		switch {
		case t == nil || t.appID != appID:
			return oauthNode{}, SubRefreshTokenInvalid
		case !now.Before(t.expires):
			delete(e.refresh, refresh)
			return oauthNode{}, SubRefreshTokenExpired
		}
		delete(e.refresh, refresh)
		userID, openID = t.userID, t.openID
	default:
		return oauthNode{}, SubGrantTypeInvalid
	}
	node := oauthNode{
		UserID: userID, OpenID: openID,
		AccessToken: "authusrB" + randomHex(16), ExpiresIn: int64(accessTokenTTL / time.Second),
		RefreshToken: "authusrB" + randomHex(16), ReExpiresIn: int64(refreshTokenTTL / time.Second),
		AuthStart: now.In(clock.Beijing).Format(timestampLayout),
	}
	if len(e.refresh) >= sweepAbove {
		for k, t := range e.refresh {
			if !now.Before(t.expires) {
				delete(e.refresh, k)
			}
		}
	}
	e.refresh[node.RefreshToken] = &refreshToken{appID: appID, userID: userID, openID: openID,
		expires: now.Add(refreshTokenTTL)}
	return node, ""
}

// AuthCodeRequest is the body of POST /_mock/alipay/auth-codes: a user of
// the app consents (my.getAuthCode) and the mini-program receives a code.
// Without user_id and open_id a new user id is made up; without open_id one
// is derived from the app and user id (stable).
type AuthCodeRequest struct {
	AppID  string `json:"app_id"`
	UserID string `json:"user_id,omitempty"`
	OpenID string `json:"open_id,omitempty"`
}

// AuthCodeAnswer is the 201 answer.
type AuthCodeAnswer struct {
	Code      string `json:"code"`
	AppID     string `json:"app_id"`
	UserID    string `json:"user_id,omitempty"`
	OpenID    string `json:"open_id"`
	ExpiresIn int    `json:"expires_in"`
}

const maxControlBody = 64 << 10

// POST /_mock/alipay/auth-codes → 201 AuthCodeAnswer. The user becomes a
// user of the app (both ids are registered).
func (e *Emulator) postAuthCode(w http.ResponseWriter, r *http.Request) {
	var req AuthCodeRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil || len(body) > maxControlBody {
		writeControlError(w, http.StatusBadRequest, "", "body unreadable or over 64 KiB")
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeControlError(w, http.StatusBadRequest, "", "invalid JSON body: "+err.Error())
		return
	}
	if strings.TrimSpace(req.AppID) == "" {
		writeControlError(w, http.StatusBadRequest, "app_id", "app_id is required")
		return
	}
	if _, ok := e.env.Store.App(Name, req.AppID); !ok {
		writeControlError(w, http.StatusNotFound, "app_id",
			fmt.Sprintf("unknown alipay app %q: register it with POST /_mock/apps", req.AppID))
		return
	}
	if req.UserID == "" && req.OpenID == "" {
		req.UserID = newUserID()
	}
	if req.OpenID == "" {
		req.OpenID = deriveOpenID(req.AppID, req.UserID)
	}
	for _, id := range []string{req.UserID, req.OpenID} {
		if id != "" {
			if _, err := e.env.Store.AddUser(Name, req.AppID, id); err != nil {
				writeControlError(w, http.StatusNotFound, "app_id", err.Error())
				return
			}
		}
	}
	code := randomHex(16)
	now := e.env.Clock.Now()
	e.mu.Lock()
	if len(e.codes) >= sweepAbove {
		for k, c := range e.codes {
			if !now.Before(c.expires) {
				delete(e.codes, k)
			}
		}
	}
	e.codes[code] = &authCode{appID: req.AppID, userID: req.UserID, openID: req.OpenID, expires: now.Add(authCodeTTL)}
	e.mu.Unlock()
	writeControlJSON(w, http.StatusCreated, AuthCodeAnswer{Code: code, AppID: req.AppID, UserID: req.UserID,
		OpenID: req.OpenID, ExpiresIn: int(authCodeTTL / time.Second)})
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeControlError(w http.ResponseWriter, status int, field, msg string) {
	writeControlJSON(w, status, mockapi.Error{Error: msg, Field: field})
}

// newUserID makes up an Alipay user id: "2088" and 12 digits.
func newUserID() string {
	return fmt.Sprintf("2088%012d", mrand.Int64N(1_000_000_000_000))
}

// deriveOpenID gives a user a stable per-app open id (the platform's open
// ids are per app and look like "074a1Cc…", 40-odd characters).
func deriveOpenID(appID, userID string) string {
	sum := sha256.Sum256([]byte(appID + "\x00" + userID))
	return "0" + hex.EncodeToString(sum[:])[:45]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
