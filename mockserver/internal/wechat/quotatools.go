package wechat

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// The quota and rid tools (openApi-mgnt: getApiQuota, clearQuota,
// clearQuotaByAppSecret, getRidInfo), wired to the mock's quota counters:
// quota/get reports them, clearing really resets them.

type quotaInfo struct {
	DailyLimit int `json:"daily_limit"`
	Used       int `json:"used"`
	Remain     int `json:"remain"`
}

type rateLimit struct {
	CallCount     int `json:"call_count"`
	RefreshSecond int `json:"refresh_second"`
}

type quotaAnswer struct {
	ErrCode   ErrCode    `json:"errcode"`
	ErrMsg    string     `json:"errmsg"`
	Quota     quotaInfo  `json:"quota"`
	RateLimit *rateLimit `json:"rate_limit,omitempty"`
}

// POST /cgi-bin/openapi/quota/get?access_token=TOKEN {"cgi_path":"/cgi-bin/message/custom/send"}
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/openApi-mgnt/getApiQuota.html).
//
// cgi_path is the API's path without the host: empty 47001 (UNCONFIRMED);
// an /sns/ path 76022 (those APIs are not called with this account's
// token, as the doc notes); a path the mock does not serve, or one given
// with its host, 76021. The answer reports the app's daily limit and the
// calls counted today (Beijing day); rate_limit, when the API has a
// per-minute or per-second limit, that limit. component_rate_limit
// (third-party platforms) is not emulated.
func (e *Emulator) handleQuotaGet(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req struct {
		CGIPath string `json:"cgi_path"`
	}
	app, ok := e.begin(w, r, c, into(&req), nil)
	if !ok || !e.take(w, c, app, EndpointQuotaGet, CodeMinuteQuota) {
		return
	}
	endpoint, found := cgiPaths[req.CGIPath]
	switch {
	case req.CGIPath == "":
		e.fail(w, c, CodeDataFormat, "")
		return
	case strings.HasPrefix(req.CGIPath, "/sns/"):
		e.fail(w, c, CodeCGIPathAccount, "")
		return
	case !found:
		e.fail(w, c, CodeCGIPathNotFound, "")
		return
	}
	ans := quotaAnswer{ErrCode: CodeOK, ErrMsg: "ok"}
	now := e.env.Clock.Now()
	key := app.Platform + "/" + app.AppID
	for _, l := range app.Limits {
		if l.Endpoint != endpoint {
			continue
		}
		switch l.Per {
		case quota.Day:
			used := e.env.Quota.Used(key, endpoint, quota.Day, now)
			ans.Quota = quotaInfo{DailyLimit: l.Max, Used: used, Remain: max(l.Max-used, 0)}
		case quota.Minute:
			ans.RateLimit = &rateLimit{CallCount: l.Max, RefreshSecond: 60}
		case quota.Second:
			if ans.RateLimit == nil {
				ans.RateLimit = &rateLimit{CallCount: l.Max, RefreshSecond: 1}
			}
		}
	}
	c.ErrCode = 0
	writeJSON(w, ans)
}

// clear resets the app's counted calls, all but clear_quota's own monthly
// count, once the monthly allowance permits: 48006 "forbid to clear quota
// because of reaching the limit" after 10 a month (both variants count).
func (e *Emulator) clear(w http.ResponseWriter, c *platform.Call, app *store.App) {
	if _, ok := e.env.Take(app, EndpointClearQuota); !ok {
		e.fail(w, c, CodeClearQuotaLimit, "")
		return
	}
	e.env.Quota.ResetExcept(app.Platform+"/"+app.AppID, EndpointClearQuota)
	e.ok(w, c)
}

// POST /cgi-bin/clear_quota?access_token=TOKEN {"appid"}
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/openApi-mgnt/clearQuota.html).
// appid missing 41002 (UNCONFIRMED); not the token's app 40013.
func (e *Emulator) handleClearQuota(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req struct {
		AppID string `json:"appid"`
	}
	app, ok := e.begin(w, r, c, into(&req), nil)
	if !ok {
		return
	}
	switch {
	case req.AppID == "":
		e.fail(w, c, CodeAppIDMissing, "")
	case req.AppID != app.AppID:
		e.fail(w, c, CodeInvalidAppID, "")
	default:
		e.clear(w, c, app)
	}
}

// POST /cgi-bin/clear_quota/v2?appid=APPID&appsecret=SECRET, no token
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/openApi-mgnt/clearQuotaByAppSecret.html).
// The current parameter table puts appid and appsecret in the body; the
// older page and every example (silenceper included) in the query: the
// query is read first, then a JSON body. appid missing 41002, appsecret
// missing 41004, unknown appid 40013, wrong secret 40125 (UNCONFIRMED: the
// page lists no code for it).
func (e *Emulator) handleClearQuotaV2(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := r.URL.Query()
	appID, secret := q.Get("appid"), q.Get("appsecret")
	bodyCode := CodeOK
	if appID == "" && secret == "" {
		var body struct {
			AppID     string `json:"appid"`
			AppSecret string `json:"appsecret"`
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		switch {
		case err != nil:
			bodyCode = CodeDataFormat
		case firstNonBlank(raw) >= 0:
			bodyCode = decodeJSON(raw, &body)
			appID, secret = body.AppID, body.AppSecret
		}
	}
	c.AppID = appID
	if e.fault(w, r, c) {
		return
	}
	app, known := e.env.Store.App(Name, appID)
	switch {
	case bodyCode != CodeOK:
		e.fail(w, c, bodyCode, "")
	case appID == "":
		e.fail(w, c, CodeAppIDMissing, "")
	case secret == "":
		e.fail(w, c, CodeSecretMissing, "")
	case !known:
		e.fail(w, c, CodeInvalidAppID, "")
	case secret != app.Secret:
		e.fail(w, c, CodeInvalidAppSecret, "")
	default:
		e.clear(w, c, app)
	}
}

// ridPattern is the shape of the rids the mock issues (respond.go).
var ridPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

type ridRequestInfo struct {
	InvokeTime   int64  `json:"invoke_time"`
	CostInMS     int64  `json:"cost_in_ms"`
	RequestURL   string `json:"request_url"`
	RequestBody  string `json:"request_body"`
	ResponseBody string `json:"response_body"`
	ClientIP     string `json:"client_ip"`
}

type ridAnswer struct {
	ErrCode ErrCode        `json:"errcode"`
	ErrMsg  string         `json:"errmsg"`
	Request ridRequestInfo `json:"request"`
}

// POST /cgi-bin/openapi/rid/get?access_token=TOKEN {"rid"}
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/openApi-mgnt/getRidInfo.html).
//
// rid empty or malformed 76002; older than 7 days (its first word is the
// call's Unix time) 76004; not among the calls the mock remembers 76001;
// another app's call 76003. request_url holds the call's URL parameters
// with access_token, secret and appsecret hidden; request_body is left
// empty for calls whose body carries a secret, and for file uploads.
func (e *Emulator) handleRIDGet(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req struct {
		RID string `json:"rid"`
	}
	app, ok := e.begin(w, r, c, into(&req), nil)
	if !ok || !e.take(w, c, app, EndpointRIDGet, CodeMinuteQuota) {
		return
	}
	if !ridPattern.MatchString(req.RID) {
		e.fail(w, c, CodeRIDInvalid, "")
		return
	}
	unix, _ := strconv.ParseUint(req.RID[:8], 16, 32)
	if e.env.Clock.Now().Sub(time.Unix(int64(unix), 0)) > ridLife {
		e.fail(w, c, CodeRIDExpired, "")
		return
	}
	rec, found := e.rids.get(req.RID)
	switch {
	case !found:
		e.fail(w, c, CodeRIDNotFound, "")
		return
	case rec.appID != app.AppID:
		e.fail(w, c, CodeRIDOtherAccount, "")
		return
	}
	c.ErrCode = 0
	writeJSON(w, ridAnswer{ErrCode: CodeOK, ErrMsg: "ok", Request: ridRequestInfo{
		InvokeTime: rec.at.Unix(), CostInMS: rec.cost.Milliseconds(), RequestURL: rec.query,
		RequestBody: rec.body, ResponseBody: rec.response, ClientIP: rec.clientIP}})
}

// POST /cgi-bin/message/wxopen/template/uniform_send?access_token=TOKEN:
// withdrawn on 2023-09-20. Every authenticated call answers 45109 "This
// API has been unsupported. For more details, please view …" (observed
// 2023-10, whatever the body), after the token, faults and quota.
func (e *Emulator) handleUniformSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.begin(w, r, c, nil, nil)
	if !ok || !e.take(w, c, app, EndpointUniformSend, CodeMinuteQuota) {
		return
	}
	e.fail(w, c, CodeUnsupportedAPI, "")
}
