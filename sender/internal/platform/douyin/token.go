package douyin

import (
	"context"
	"encoding/json"
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
)

// Token endpoints (docs/platforms/douyin.md). Both issue a
// 2-hour token; a new fetch cuts the previous token to 5 minutes and ends
// older ones at once, which is why the broker keeps one token per app in the
// shared store rather than one per instance.
const (
	pathClientToken = "/oauth/client_token/" // v2; trailing slash as documented
	pathAccessToken = "/api/apps/v2/token"   // v1 (getAccessToken)
	// grantType is singular on both endpoints, unlike Kuaishou and Baidu.
	grantType = "client_credential"
	// maxLifetime caps expires_in: Douyin's tokens live 2 hours, and an
	// absurd value must not keep a token cached for years (or overflow).
	maxLifetime = 24 * time.Hour
)

type clientTokenRequest struct {
	ClientKey    string `json:"client_key"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
}

type accessTokenRequest struct {
	AppID     string `json:"appid"`
	Secret    string `json:"secret"`
	GrantType string `json:"grant_type"`
}

// fetchToken is the broker's FetchFunc: client_token for v2, getAccessToken
// for v1.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	if c.legacyMode {
		b, perr := c.postOK(ctx, c.legacyURL, pathAccessToken, nil,
			accessTokenRequest{AppID: c.cfg.AppID, Secret: c.cfg.Secret, GrantType: grantType}, "")
		if perr != nil {
			return "", 0, perr
		}
		return c.parseAccessToken(b)
	}
	b, perr := c.postOK(ctx, c.openURL, pathClientToken, nil,
		clientTokenRequest{ClientKey: c.cfg.AppID, ClientSecret: c.cfg.Secret, GrantType: grantType}, "")
	if perr != nil {
		return "", 0, perr
	}
	return c.parseClientToken(b)
}

// tokenAnswer is the union of both token answers:
//
//	getAccessToken: {"err_no":0,"err_tips":"success","data":{"access_token","expires_in"}}
//	client_token:   {"data":{"access_token","description","error_code":0,"expires_in"},"message":"success"}
//	client_token error: {"data":{"captcha","desc_url","description","error_code":10003},"message":"error"}
//
// Texts are read leniently (see sendAnswer).
type tokenAnswer struct {
	ErrNo   json.RawMessage `json:"err_no"`
	ErrTips json.RawMessage `json:"err_tips"`
	ErrMsg  json.RawMessage `json:"err_msg"`
	Message json.RawMessage `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type tokenData struct {
	AccessToken json.RawMessage `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	ErrorCode   json.RawMessage `json:"error_code"`
	Description json.RawMessage `json:"description"`
}

// data reads the data object; a data that is not an object (the sandbox
// answers {"data":"app is not sandboxApp"}) is no data.
func (a *tokenAnswer) data() tokenData {
	var d tokenData
	if len(a.Data) > 0 && a.Data[0] == '{' {
		_ = json.Unmarshal(a.Data, &d)
	}
	return d
}

// parseClientToken reads a client_token answer. Its error code lives in
// data.error_code; an err_no answer (a gateway in front of it) is read too.
func (c *Client) parseClientToken(b []byte) (string, time.Duration, error) {
	var a tokenAnswer
	if perr := decode(pathClientToken, b, &a); perr != nil {
		return "", 0, perr
	}
	if code, ok := errNo(a.ErrNo); ok && code != CodeOK {
		return "", 0, c.tokenError("client token", code, first(text(a.ErrMsg), text(a.ErrTips), text(a.Message)))
	}
	d := a.data()
	if code, ok := errNo(d.ErrorCode); ok && code != CodeOK {
		return "", 0, c.tokenError("client token", code, first(text(d.Description), text(a.Message)))
	}
	return checkToken(pathClientToken, d)
}

// parseAccessToken reads a getAccessToken answer.
func (c *Client) parseAccessToken(b []byte) (string, time.Duration, error) {
	var a tokenAnswer
	if perr := decode(pathAccessToken, b, &a); perr != nil {
		return "", 0, perr
	}
	code, ok := errNo(a.ErrNo)
	switch {
	case !ok:
		return "", 0, malformed(pathAccessToken, "no err_no")
	case code != CodeOK:
		return "", 0, c.tokenError("access token", code, first(text(a.ErrTips), text(a.ErrMsg)))
	}
	return checkToken(pathAccessToken, a.data())
}

func (c *Client) tokenError(what string, code Code, msg string) *platform.Error {
	e := c.classify(tokenRules, code, msg)
	e.Message = what + ": " + e.Message
	return e
}

func checkToken(path string, d tokenData) (string, time.Duration, error) {
	var tok string
	if json.Unmarshal(d.AccessToken, &tok) != nil || tok == "" {
		return "", 0, malformed(path, "no access_token")
	}
	secs, ok := integer(d.ExpiresIn)
	if !ok || secs <= 0 {
		return "", 0, malformed(path, "no expires_in")
	}
	life := maxLifetime
	if secs < int64(maxLifetime/time.Second) {
		life = time.Duration(secs) * time.Second
	}
	return tok, life, nil
}

// first is the first non-empty text.
func first(texts ...string) string {
	for _, t := range texts {
		if t != "" {
			return t
		}
	}
	return ""
}
