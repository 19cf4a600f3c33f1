package wechat

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// The message surface beyond subscribe messages (issue 13): customer
// service, temporary media, updatable messages, media checks, quota tools
// and the withdrawn uniform_send.

// Endpoint names of the surface, used by faults, quotas and the journal.
const (
	EndpointCustomSend      = "custom_send"   // custom/send and custom/business/send
	EndpointCustomTyping    = "custom_typing" // custom/typing and custom/business/typing
	EndpointMediaUpload     = "media_upload"
	EndpointMediaGet        = "media_get"
	EndpointActivityCreate  = "activityid_create"
	EndpointUpdatableSend   = "updatablemsg_send"
	EndpointImgSecCheck     = "img_sec_check"
	EndpointMediaCheckAsync = "media_check_async"
	EndpointQuotaGet        = "quota_get"
	// EndpointClearQuota counts both clear_quota variants for the monthly
	// limit; EndpointClearQuotaV2 names the by-AppSecret one for faults and
	// the journal.
	EndpointClearQuota   = "clear_quota"
	EndpointClearQuotaV2 = "clear_quota_v2"
	EndpointRIDGet       = "rid_get"
	EndpointUniformSend  = "uniform_send"
)

func surfaceEndpoints() []string {
	return []string{EndpointCustomSend, EndpointCustomTyping, EndpointMediaUpload, EndpointMediaGet,
		EndpointActivityCreate, EndpointUpdatableSend, EndpointImgSecCheck, EndpointMediaCheckAsync,
		EndpointQuotaGet, EndpointClearQuota, EndpointClearQuotaV2, EndpointRIDGet, EndpointUniformSend}
}

// unconfirmedDaily is the daily limit given to APIs whose quota the docs do
// not state (UNCONFIRMED): every API has one on the platform, and
// openapi/quota/get reports it.
const unconfirmedDaily = 100_000

// surfaceLimits are the default limits of the surface's endpoints.
func surfaceLimits() []quota.Limit {
	limits := []quota.Limit{
		// Customer-service send: the Official Account figure, 500,000/day
		// (UNCONFIRMED for mini-programs).
		{Endpoint: EndpointCustomSend, Max: 500_000, Per: quota.Day},
		{Endpoint: EndpointCustomTyping, Max: 500_000, Per: quota.Day},
		// img_sec_check and media_check_async: 2,000/min and 200,000/day
		// (security.imgSecCheck and mediaCheckAsync pages).
		{Endpoint: EndpointImgSecCheck, Max: 2000, Per: quota.Minute},
		{Endpoint: EndpointImgSecCheck, Max: 200_000, Per: quota.Day},
		{Endpoint: EndpointMediaCheckAsync, Max: 2000, Per: quota.Minute},
		{Endpoint: EndpointMediaCheckAsync, Max: 200_000, Per: quota.Day},
		// clear_quota: "每个帐号每月共10次清零操作机会" (clearQuota page),
		// shared by the by-AppSecret variant.
		{Endpoint: EndpointClearQuota, Max: 10, Per: quota.Month},
	}
	for _, ep := range []string{EndpointMediaUpload, EndpointMediaGet, EndpointActivityCreate, EndpointUpdatableSend,
		EndpointQuotaGet, EndpointRIDGet, EndpointUniformSend,
		EndpointGetTemplate, EndpointAddTemplate, EndpointDelTemplate, EndpointGetCategory, EndpointPubKeywords, EndpointPubTitles} {
		limits = append(limits, quota.Limit{Endpoint: ep, Max: unconfirmedDaily, Per: quota.Day})
	}
	return limits
}

// cgiPaths maps each API path the mock serves to its endpoint, for
// openapi/quota/get's cgi_path.
var cgiPaths = map[string]string{
	"/cgi-bin/token":                                EndpointToken,
	"/cgi-bin/stable_token":                         EndpointStableToken,
	"/cgi-bin/message/subscribe/send":               EndpointSubscribeSend,
	"/wxa/msg_sec_check":                            EndpointMsgSecCheck,
	"/wxaapi/newtmpl/gettemplate":                   EndpointGetTemplate,
	"/wxaapi/newtmpl/addtemplate":                   EndpointAddTemplate,
	"/wxaapi/newtmpl/deltemplate":                   EndpointDelTemplate,
	"/wxaapi/newtmpl/getcategory":                   EndpointGetCategory,
	"/wxaapi/newtmpl/getpubtemplatekeywords":        EndpointPubKeywords,
	"/wxaapi/newtmpl/getpubtemplatetitles":          EndpointPubTitles,
	"/cgi-bin/message/custom/send":                  EndpointCustomSend,
	"/cgi-bin/message/custom/business/send":         EndpointCustomSend,
	"/cgi-bin/message/custom/typing":                EndpointCustomTyping,
	"/cgi-bin/message/custom/business/typing":       EndpointCustomTyping,
	"/cgi-bin/media/upload":                         EndpointMediaUpload,
	"/cgi-bin/media/get":                            EndpointMediaGet,
	"/cgi-bin/message/wxopen/activityid/create":     EndpointActivityCreate,
	"/cgi-bin/message/wxopen/updatablemsg/send":     EndpointUpdatableSend,
	"/wxa/img_sec_check":                            EndpointImgSecCheck,
	"/wxa/media_check_async":                        EndpointMediaCheckAsync,
	"/cgi-bin/openapi/quota/get":                    EndpointQuotaGet,
	"/cgi-bin/clear_quota":                          EndpointClearQuota,
	"/cgi-bin/clear_quota/v2":                       EndpointClearQuota,
	"/cgi-bin/openapi/rid/get":                      EndpointRIDGet,
	"/cgi-bin/message/wxopen/template/uniform_send": EndpointUniformSend,
}

// surfaceRoutes registers the surface's paths; h wraps a handler for the
// journal and tracing.
func (e *Emulator) surfaceRoutes(r *mux.Router, h func(string, platform.HandlerFunc) http.Handler) {
	// Customer service: custom/send (the SDKs, the old page) and
	// custom/business/send (the current page) are the same API.
	r.Handle("/cgi-bin/message/custom/send", h(EndpointCustomSend, e.post(e.handleCustomSend)))
	r.Handle("/cgi-bin/message/custom/business/send", h(EndpointCustomSend, e.post(e.handleCustomSend)))
	r.Handle("/cgi-bin/message/custom/typing", h(EndpointCustomTyping, e.post(e.handleCustomTyping)))
	r.Handle("/cgi-bin/message/custom/business/typing", h(EndpointCustomTyping, e.post(e.handleCustomTyping)))
	r.Handle("/cgi-bin/media/upload", h(EndpointMediaUpload, e.post(e.handleMediaUpload)))
	r.Handle("/cgi-bin/media/get", h(EndpointMediaGet, e.handleMediaGet))
	// The doc says GET with openid/unionid in the query; SKIT posts JSON:
	// both are accepted.
	r.Handle("/cgi-bin/message/wxopen/activityid/create", h(EndpointActivityCreate, e.handleActivityCreate))
	r.Handle("/cgi-bin/message/wxopen/updatablemsg/send", h(EndpointUpdatableSend, e.post(e.handleUpdatableSend)))
	r.Handle("/wxa/img_sec_check", h(EndpointImgSecCheck, e.post(e.handleImgSecCheck)))
	r.Handle("/wxa/media_check_async", h(EndpointMediaCheckAsync, e.post(e.handleMediaCheckAsync)))
	r.Handle("/cgi-bin/openapi/quota/get", h(EndpointQuotaGet, e.post(e.handleQuotaGet)))
	r.Handle("/cgi-bin/clear_quota", h(EndpointClearQuota, e.post(e.handleClearQuota)))
	r.Handle("/cgi-bin/clear_quota/v2", h(EndpointClearQuotaV2, e.post(e.handleClearQuotaV2)))
	r.Handle("/cgi-bin/openapi/rid/get", h(EndpointRIDGet, e.post(e.handleRIDGet)))
	r.Handle("/cgi-bin/message/wxopen/template/uniform_send", h(EndpointUniformSend, e.post(e.handleUniformSend)))
}

// begin is the common head of a token-authenticated API: the token, then
// the body (when decode is non-nil: it answers 44002 for an empty body,
// 47001 for a bad one; who then names the user the call is about), then
// faults, then the app. It answers and returns false on any failure.
func (e *Emulator) begin(w http.ResponseWriter, r *http.Request, c *platform.Call, decode func([]byte) ErrCode, who func() string) (*store.App, bool) {
	appID, code := e.checkToken(r)
	c.AppID = appID
	bodyCode := CodeOK
	if code == CodeOK && decode != nil {
		body, err := platform.ReadBody(w, r, maxBodyBytes)
		if err != nil {
			bodyCode = CodeDataFormat
		} else {
			keepBody(w, body)
			bodyCode = decode(body)
		}
		if who != nil {
			c.OpenID = who()
		}
	}
	if e.fault(w, r, c) {
		return nil, false
	}
	if code == CodeOK {
		code = bodyCode
	}
	if code != CodeOK {
		e.fail(w, c, code, "")
		return nil, false
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok { // the app was removed after the token was issued
		e.fail(w, c, CodeInvalidCredential, "")
		return nil, false
	}
	return app, true
}

// into decodes a JSON object body into v (for begin).
func into(v any) func([]byte) ErrCode {
	return func(b []byte) ErrCode { return decodeJSON(b, v) }
}

// take applies the app's quota for endpoint; over a limit it answers 45009
// for a day (or month) and minuteCode otherwise, and returns false.
func (e *Emulator) take(w http.ResponseWriter, c *platform.Call, app *store.App, endpoint string, minuteCode ErrCode) bool {
	if l, ok := e.env.Take(app, endpoint); !ok {
		e.fail(w, c, quotaCode(l, minuteCode), "")
		return false
	}
	return true
}

// okAnswer is writeJSON's bytes for {"errcode":0,"errmsg":"ok"}, made once.
var okAnswer = platform.EncodeJSON(errorBody{ErrCode: CodeOK, ErrMsg: "ok"})

// ok answers success: {"errcode":0,"errmsg":"ok"}.
func (e *Emulator) ok(w http.ResponseWriter, c *platform.Call) {
	c.ErrCode = 0
	platform.WriteAnswer(w, contentType, okAnswer)
}
