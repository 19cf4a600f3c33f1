// Package sendcases is every platform send path the mock serves, each with
// the cheapest plain net/http handler of the same request: the pairs the
// mock's benchmarks (mockserver/bench_*_test.go, make bench) and the
// side-by-side comparison (benchcompare, make bench-compare) measure.
//
// A Case seeds the mock (App), builds its requests against a running mock
// (Prepare: tokens, sessions, signed bodies), says what a success answer
// looks like (OK), and carries the plain handler (Baseline) that only
// decodes the same body and writes the platform's success answer. Every
// case's app has its own app id, so one mock seeded with Seed serves all of
// them side by side.
package sendcases

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/seed"
)

// Request is what a prepared case sends: to Path (with any query), with
// Header, the Bodies in rotation (and, for header-signed APIs, each body's
// own headers in Signed).
type Request struct {
	Path   string
	Header http.Header
	Bodies [][]byte
	// Signed, when set, holds the headers to add to Bodies[i].
	Signed []http.Header
	// Extra reports figures of the preparation (e.g. the client's signing
	// time per request), name → value.
	Extra map[string]float64
}

// Cycle returns a function handing out the bodies in order (with their
// headers), from the first again after the last; safe for concurrent use.
// Each call starts its own sequence: give every server its own, so each
// receives every body once before any repeats.
func (r Request) Cycle() func() ([]byte, http.Header) {
	var next atomic.Uint64
	n := uint64(len(r.Bodies))
	return func() ([]byte, http.Header) {
		i := (next.Add(1) - 1) % n
		if r.Signed != nil {
			return r.Bodies[i], r.Signed[i]
		}
		return r.Bodies[i], nil
	}
}

// Case is one platform's send.
type Case struct {
	Name     string
	Platform string
	// App is the mock app the case sends to.
	App func() mockapi.App
	// Prepare fetches what the requests need from the mock at base (a
	// token, sessions) with c and builds n requests' bodies (n is every
	// send of the run, for a platform that refuses a repeated body).
	Prepare func(c *http.Client, base string, n int) (Request, error)
	// OK is the start of every success answer (the same test for both
	// servers); with OKExact the answer must be exactly OK (Kuaishou's
	// {"result":1}, whose prefix its error codes share).
	OK      string
	OKExact bool
	// Baseline is the plain handler of the same request.
	Baseline http.Handler
	// Inbox: every successful send lands in the mock's inbox once (the
	// mock's delivered count grows by one). False for sends that change
	// other state (an updatable message's activity).
	Inbox bool
}

// Success reports whether an answer is the case's success.
func (c Case) Success(status int, body []byte) bool {
	good := status == http.StatusOK && bytes.HasPrefix(body, []byte(c.OK))
	if c.OKExact {
		good = good && string(bytes.TrimRight(body, "\n")) == c.OK
	}
	return good
}

// All is every case, WeChat first.
func All() []Case {
	return []Case{
		WeChatSubscribe(), WeChatKefu(), WeChatUpdatable(),
		DouyinV2(), DouyinV1(),
		Kuaishou(), KuaishouJSON(),
		Baidu(), BaiduTemplateSend(),
		Alipay(), AlipayV3(),
	}
}

// ByName returns the case named name.
func ByName(name string) (Case, bool) {
	for _, c := range All() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// Seed holds every case's app, once per app id (cases sharing an app share
// it).
func Seed() mockapi.Seed {
	var s mockapi.Seed
	seen := map[string]bool{}
	for _, c := range All() {
		a := c.App()
		if k := a.Platform + "/" + a.AppID; !seen[k] {
			seen[k] = true
			s.Apps = append(s.Apps, a)
		}
	}
	return s
}

// Baselines serves every case's plain handler at the case's path, as one
// server: the cases that share a path differ by body type (Kuaishou's form
// and JSON sends).
func Baselines() http.Handler {
	type route struct {
		path string
		json bool
	}
	routes := map[route]http.Handler{}
	for _, c := range All() {
		path, isJSON := basePath(c)
		routes[route{path, isJSON}] = c.Baseline
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if h, ok := routes[route{r.URL.Path, isJSON}]; ok {
			h.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// basePath is the path a case posts to, and whether its body is JSON.
func basePath(c Case) (string, bool) {
	switch c.Name {
	case "wechat_subscribe":
		return "/cgi-bin/message/subscribe/send", true
	case "wechat_kefu":
		return "/cgi-bin/message/custom/send", true
	case "wechat_updatable":
		return "/cgi-bin/message/wxopen/updatablemsg/send", true
	case "douyin_v2":
		return "/api/notification/v2/subscription/notify_user/", true
	case "douyin_v1":
		return "/api/apps/subscribe_notification/developer/v1/notify", true
	case "kuaishou":
		return kuaishouSendPath, false
	case "kuaishou_json":
		return kuaishouSendPath, true
	case "baidu":
		return "/rest/2.0/smartapp/template/message/subscribe/send", false
	case "baidu_template_send":
		return "/rest/2.0/smartapp/template/send", false
	case "alipay":
		return "/gateway.do", false
	case "alipay_v3":
		return AlipayV3SendPath, true
	}
	panic("sendcases: no path for " + c.Name)
}

const (
	// unlimited replaces the platforms' per-second and per-day send caps:
	// a benchmark measures the send path, not the cap.
	unlimited = 1 << 30
	// douyinUsers: Douyin takes one message per user per second, so the
	// sends rotate over this many users, each with a long-term grant: the
	// first half for v2, the second for v1, so one mock can take both one
	// after the other.
	douyinUsers = 1 << 16
	// AlipayPool is how many signed requests are prepared and sent in
	// rotation (one per user).
	AlipayPool = 512
)

func buildBodies(n int, f func(i int) []byte) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own values
	}
	return b
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func formHeader() http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// postJSON posts v to url and decodes the answer into out.
func postJSON(c *http.Client, url string, v, out any) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(mustJSON(v)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", url, err)
	}
	return nil
}

// postForm posts form to url and decodes the answer into out.
func postForm(c *http.Client, url string, form url.Values, out any) error {
	resp, err := c.PostForm(url, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", url, err)
	}
	return nil
}

// jsonBaseline decodes the body into a fresh *T and writes answer(seq)
// as JSON with contentType.
func jsonBaseline[T any](contentType string, answer func(seq int64) any) http.Handler {
	var seq atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req T
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_ = json.NewEncoder(w).Encode(answer(seq.Add(1)))
	})
}

// formBaseline parses the form body and writes answer(seq) with
// contentType.
func formBaseline(contentType string, answer func(seq int64) any) http.Handler {
	var seq atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		_ = json.NewEncoder(w).Encode(answer(seq.Add(1)))
	})
}

// --- WeChat ---------------------------------------------------------------

// The WeChat bench app: one user with a long-term grant, and no daily cap
// on customer-service and updatable sends.
const (
	WeChatAppID    = "wxbench000000000001"
	WeChatSecret   = "bench-secret-0123456789abcdef01"
	WeChatUser     = "o-bench-user-0000000000000001"
	WeChatTemplate = "bench-long-term-template-000000000000000001"
)

// WeChatBody is what a typical sender posts to subscribe/send: the shape
// silenceper writes, with page, state and lang set.
var WeChatBody = []byte(`{"touser":"` + WeChatUser + `","template_id":"` + WeChatTemplate + `",` +
	`"page":"pages/order/detail?id=42","data":{"thing1":{"value":"无线耳机","color":""},` +
	`"character_string2":{"value":"SF1234567890","color":""},"time3":{"value":"2024年5月1日 15:01","color":""}},` +
	`"miniprogram_state":"formal","lang":"zh_CN"}`)

// WeChatApp is the WeChat bench app.
func WeChatApp() mockapi.App {
	return mockapi.App{
		Platform: mockapi.PlatformWeChat, AppID: WeChatAppID, Secret: WeChatSecret,
		Users: []string{WeChatUser},
		Templates: []mockapi.Template{{TemplateID: WeChatTemplate, Title: "订单发货通知",
			Keywords: []string{"thing1", "character_string2", "time3"}, Type: mockapi.TemplateLongTerm}},
		Grants: []mockapi.Grant{{OpenID: WeChatUser, TemplateID: WeChatTemplate, LongTerm: true}},
		Quotas: []mockapi.Quota{{Endpoint: "custom_send", Limit: unlimited, Per: "day"},
			{Endpoint: "updatablemsg_send", Limit: unlimited, Per: "day"}},
	}
}

// WeChatToken gets an access token for the bench app from the mock at
// base.
func WeChatToken(c *http.Client, base string) (string, error) {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {WeChatAppID}, "secret": {WeChatSecret}}
	resp, err := c.Get(base + "/cgi-bin/token?" + q.Encode())
	if err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("fetch token: errcode %d, %v", tok.ErrCode, err)
	}
	return tok.AccessToken, nil
}

type wechatSubscribeBody struct {
	ToUser     string `json:"touser"`
	TemplateID string `json:"template_id"`
	Page       string `json:"page"`
	Data       map[string]struct {
		Value string `json:"value"`
		Color string `json:"color"`
	} `json:"data"`
	MiniprogramState string `json:"miniprogram_state"`
	Lang             string `json:"lang"`
}

type wechatAnswer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

// WeChatSubscribe is subscribe/send of WeChatBody, again and again.
func WeChatSubscribe() Case {
	return Case{Name: "wechat_subscribe", Platform: mockapi.PlatformWeChat, App: WeChatApp, Inbox: true,
		Prepare: func(c *http.Client, base string, _ int) (Request, error) {
			tok, err := WeChatToken(c, base)
			if err != nil {
				return Request{}, err
			}
			return Request{Path: "/cgi-bin/message/subscribe/send?access_token=" + url.QueryEscape(tok),
				Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}},
				Bodies: ([][]byte{WeChatBody})}, nil
		},
		OK: `{"errcode":0,`,
		Baseline: jsonBaseline[wechatSubscribeBody]("application/json; encoding=utf-8", func(seq int64) any {
			return wechatAnswer{ErrMsg: "ok", MsgID: seq}
		}),
	}
}

// kefuRepliesPerUser: a user's message allows 5 replies, so the sends
// rotate over n/5 users, each of whom has written once.
const kefuRepliesPerUser = 5

type kefuBody struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
}

func kefuUser(i int) string { return fmt.Sprintf("o-bench-kefu-%016d", i) }

// WeChatKefu is the customer-service text send inside users' 48-hour
// windows (opened through the control API).
func WeChatKefu() Case {
	okAnswer := map[string]any{"errcode": 0, "errmsg": "ok"}
	return Case{Name: "wechat_kefu", Platform: mockapi.PlatformWeChat, App: WeChatApp, Inbox: true,
		Prepare: func(c *http.Client, base string, n int) (Request, error) {
			tok, err := WeChatToken(c, base)
			if err != nil {
				return Request{}, err
			}
			users := (n + kefuRepliesPerUser - 1) / kefuRepliesPerUser
			for i := range users {
				var w mockapi.KefuWindow
				if err := postJSON(c, base+"/_mock/kefu/sessions", mockapi.KefuSession{Platform: mockapi.PlatformWeChat,
					AppID: WeChatAppID, OpenID: kefuUser(i)}, &w); err != nil {
					return Request{}, err
				}
				if w.Remaining != kefuRepliesPerUser {
					return Request{}, fmt.Errorf("window of user %d: %+v", i, w)
				}
			}
			bodies := buildBodies(n, func(i int) []byte {
				return mustJSON(map[string]any{"touser": kefuUser(i / kefuRepliesPerUser), "msgtype": "text",
					"text": map[string]string{"content": "您好，您的订单已发货，预计明天送达。"}})
			})
			return Request{Path: "/cgi-bin/message/custom/send?access_token=" + tok, Header: jsonHeader(), Bodies: (bodies)}, nil
		},
		OK:       `{"errcode":0,"errmsg":"ok"}`,
		Baseline: jsonBaseline[kefuBody]("application/json; encoding=utf-8", func(int64) any { return okAnswer }),
	}
}

// updatableActivities: the sends rotate over this many activities; state
// 0 may be set again and again.
const updatableActivities = 64

type updatableBody struct {
	ActivityID   string `json:"activity_id"`
	TargetState  int    `json:"target_state"`
	TemplateInfo struct {
		ParameterList []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"parameter_list"`
	} `json:"template_info"`
}

// WeChatUpdatable is the updatable-message send (the activity's state
// machine), over updatableActivities activities.
func WeChatUpdatable() Case {
	okAnswer := map[string]any{"errcode": 0, "errmsg": "ok"}
	return Case{Name: "wechat_updatable", Platform: mockapi.PlatformWeChat, App: WeChatApp,
		Prepare: func(c *http.Client, base string, n int) (Request, error) {
			tok, err := WeChatToken(c, base)
			if err != nil {
				return Request{}, err
			}
			ids := make([]string, updatableActivities)
			for i := range ids {
				resp, err := c.Get(base + "/cgi-bin/message/wxopen/activityid/create?access_token=" + tok)
				if err != nil {
					return Request{}, err
				}
				var out struct {
					ActivityID string `json:"activity_id"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || out.ActivityID == "" {
					return Request{}, fmt.Errorf("create activity: %v", err)
				}
				ids[i] = out.ActivityID
			}
			bodies := buildBodies(n, func(i int) []byte {
				return mustJSON(map[string]any{"activity_id": ids[i%len(ids)], "target_state": 0,
					"template_info": map[string]any{"parameter_list": []map[string]string{
						{"name": "member_count", "value": strconv.Itoa(1 + i%9)}, {"name": "room_limit", "value": "10"}}}})
			})
			return Request{Path: "/cgi-bin/message/wxopen/updatablemsg/send?access_token=" + tok, Header: jsonHeader(),
				Bodies: (bodies)}, nil
		},
		OK:       `{"errcode":0,"errmsg":"ok"}`,
		Baseline: jsonBaseline[updatableBody]("application/json; encoding=utf-8", func(int64) any { return okAnswer }),
	}
}

// --- Douyin ---------------------------------------------------------------

const (
	douyinContentType = "application/json; charset=utf-8"
	// douyinRemind is the demo app's long-term reminder template.
	douyinRemind = "MSG0000000000000000000000000000000000000002"
	douyinPage   = "pages/order/detail?id=42"
)

// douyinApp is the demo app with douyinUsers users holding a long-term
// grant for the demo's long-term reminder, and no per-second send cap.
func douyinApp() mockapi.App {
	a := demoApp(mockapi.PlatformDouyin)
	for i := range douyinUsers {
		u := douyinUser(i)
		a.Users = append(a.Users, u)
		a.Grants = append(a.Grants, mockapi.Grant{OpenID: u, TemplateID: douyinRemind, LongTerm: true})
	}
	a.Quotas = []mockapi.Quota{
		{Endpoint: "notify_v1", Limit: unlimited, Per: "second"},
		{Endpoint: "notify_v2", Limit: unlimited, Per: "second"},
	}
	return a
}

// douyinUser is a Douyin-shaped open id (32 characters).
func douyinUser(i int) string { return fmt.Sprintf("_000bench_user_%017d", i) }

// douyinData is the reminder's data, keyed by keyword name as Douyin sends.
var douyinData = map[string]string{"预约项目": "年度体检", "预约时间": "2024年5月1日 15:01"}

type douyinV2Body struct {
	MsgID      string            `json:"msg_id"`
	OpenID     string            `json:"open_id"`
	Data       map[string]string `json:"data"`
	NotifyType []int             `json:"notify_type"`
	Page       string            `json:"page"`
}

type douyinOpenAnswer struct {
	ErrNo  int    `json:"err_no"`
	ErrMsg string `json:"err_msg"`
	LogID  string `json:"log_id"`
}

// DouyinV2 is notify_user with a client token in the access-token header.
func DouyinV2() Case {
	return Case{Name: "douyin_v2", Platform: mockapi.PlatformDouyin, App: douyinApp, Inbox: true,
		Prepare: func(c *http.Client, base string, _ int) (Request, error) {
			var tok struct {
				Data struct {
					AccessToken string `json:"access_token"`
					ErrorCode   int    `json:"error_code"`
				} `json:"data"`
			}
			if err := postJSON(c, base+"/oauth/client_token/", map[string]string{"client_key": seed.DemoDouyinAppID,
				"client_secret": seed.DemoDouyinSecret, "grant_type": "client_credential"}, &tok); err != nil {
				return Request{}, err
			}
			if tok.Data.AccessToken == "" {
				return Request{}, fmt.Errorf("client_token: error_code %d", tok.Data.ErrorCode)
			}
			bodies := buildBodies(douyinUsers/2, func(i int) []byte {
				return mustJSON(douyinV2Body{MsgID: douyinRemind, OpenID: douyinUser(i), Data: douyinData,
					NotifyType: []int{1, 2}, Page: douyinPage})
			})
			h := http.Header{"Content-Type": {"application/json"}, "Access-Token": {tok.Data.AccessToken}}
			return Request{Path: "/api/notification/v2/subscription/notify_user/", Header: h, Bodies: (bodies)}, nil
		},
		OK: `{"err_no":0,"err_msg":"","log_id":"`,
		Baseline: jsonBaseline[douyinV2Body](douyinContentType, func(seq int64) any {
			// A log id as long as Douyin's: Beijing time plus 20 hex digits.
			return douyinOpenAnswer{LogID: fmt.Sprintf("20240501150100%020X", seq)}
		}),
	}
}

type douyinV1Body struct {
	AccessToken string            `json:"access_token"`
	AppID       string            `json:"app_id"`
	TplID       string            `json:"tpl_id"`
	OpenID      string            `json:"open_id"`
	Data        map[string]string `json:"data"`
	Page        string            `json:"page"`
}

type douyinV1Answer struct {
	ErrNo   int    `json:"err_no"`
	ErrTips string `json:"err_tips"`
}

// DouyinV1 is the legacy notify with a getAccessToken token in the body.
func DouyinV1() Case {
	return Case{Name: "douyin_v1", Platform: mockapi.PlatformDouyin, App: douyinApp, Inbox: true,
		Prepare: func(c *http.Client, base string, _ int) (Request, error) {
			var tok struct {
				ErrNo int `json:"err_no"`
				Data  struct {
					AccessToken string `json:"access_token"`
				} `json:"data"`
			}
			if err := postJSON(c, base+"/api/apps/v2/token", map[string]string{"appid": seed.DemoDouyinAppID,
				"secret": seed.DemoDouyinSecret, "grant_type": "client_credential"}, &tok); err != nil {
				return Request{}, err
			}
			if tok.Data.AccessToken == "" {
				return Request{}, fmt.Errorf("getAccessToken: err_no %d", tok.ErrNo)
			}
			bodies := buildBodies(douyinUsers/2, func(i int) []byte {
				return mustJSON(douyinV1Body{AccessToken: tok.Data.AccessToken, AppID: seed.DemoDouyinAppID,
					TplID: douyinRemind, OpenID: douyinUser(douyinUsers/2 + i), Data: douyinData, Page: douyinPage})
			})
			return Request{Path: "/api/apps/subscribe_notification/developer/v1/notify", Header: jsonHeader(),
				Bodies: (bodies)}, nil
		},
		OK:       `{"err_no":0,"err_tips":""}`,
		Baseline: jsonBaseline[douyinV1Body](douyinContentType, func(int64) any { return douyinV1Answer{} }),
	}
}

// --- Kuaishou -------------------------------------------------------------

const kuaishouSendPath = "/openapi/mp/developer/message/template/send"

func kuaishouApp() mockapi.App {
	a := demoApp(mockapi.PlatformKuaishou)
	a.Grants = append(a.Grants, mockapi.Grant{OpenID: seed.DemoKuaishouUser, TemplateID: seed.DemoKuaishouTemplate, LongTerm: true})
	a.Quotas = []mockapi.Quota{{Endpoint: "template_send", Limit: unlimited, Per: "second"}}
	return a
}

func kuaishouAnswer(int64) any {
	return struct {
		Result int `json:"result"`
	}{1}
}

// kuaishouForm fetches a token and builds the form send.
func kuaishouForm(c *http.Client, base string) (url.Values, error) {
	var tok struct {
		Result      int    `json:"result"`
		AccessToken string `json:"access_token"`
	}
	if err := postForm(c, base+"/oauth2/access_token", url.Values{"app_id": {seed.DemoKuaishouAppID},
		"app_secret": {seed.DemoKuaishouSecret}, "grant_type": {"client_credentials"}}, &tok); err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("access_token: result %d", tok.Result)
	}
	data := `{"thing01":{"value":"无线耳机"},"thing02":{"value":"顺丰速运"},` +
		`"date01":{"value":"2024年05月01号"},"amount01":{"value":"199.00"}}`
	return url.Values{"app_id": {seed.DemoKuaishouAppID}, "access_token": {tok.AccessToken},
		"template_id": {seed.DemoKuaishouTemplate}, "to_user": {seed.DemoKuaishouUser},
		"page": {"pages/order/detail?id=42"}, "data": {data}}, nil
}

// Kuaishou is the form send with the token in the body, to the demo user
// holding a long-term grant.
func Kuaishou() Case {
	return Case{Name: "kuaishou", Platform: mockapi.PlatformKuaishou, App: kuaishouApp, Inbox: true,
		Prepare: func(c *http.Client, base string, _ int) (Request, error) {
			form, err := kuaishouForm(c, base)
			if err != nil {
				return Request{}, err
			}
			return Request{Path: kuaishouSendPath, Header: formHeader(), Bodies: ([][]byte{[]byte(form.Encode())})}, nil
		},
		OK: `{"result":1}`, OKExact: true,
		Baseline: formBaseline("application/json;charset=UTF-8", kuaishouAnswer),
	}
}

type kuaishouJSONBody struct {
	AppID       string                       `json:"app_id"`
	AccessToken string                       `json:"access_token"`
	TemplateID  string                       `json:"template_id"`
	ToUser      string                       `json:"to_user"`
	Page        string                       `json:"page"`
	Data        map[string]map[string]string `json:"data"`
}

// KuaishouJSON is the same send with a JSON body, data as an object (the
// mock's lenient reading; the documented way is a form).
func KuaishouJSON() Case {
	return Case{Name: "kuaishou_json", Platform: mockapi.PlatformKuaishou, App: kuaishouApp, Inbox: true,
		Prepare: func(c *http.Client, base string, _ int) (Request, error) {
			f, err := kuaishouForm(c, base)
			if err != nil {
				return Request{}, err
			}
			body := kuaishouJSONBody{AppID: f.Get("app_id"), AccessToken: f.Get("access_token"), TemplateID: f.Get("template_id"),
				ToUser: f.Get("to_user"), Page: f.Get("page")}
			if err := json.Unmarshal([]byte(f.Get("data")), &body.Data); err != nil {
				return Request{}, fmt.Errorf("data: %w", err)
			}
			return Request{Path: kuaishouSendPath, Header: jsonHeader(), Bodies: ([][]byte{mustJSON(body)})}, nil
		},
		OK: `{"result":1}`, OKExact: true,
		Baseline: jsonBaseline[kuaishouJSONBody]("application/json;charset=UTF-8", kuaishouAnswer),
	}
}

// --- Baidu ----------------------------------------------------------------

func baiduApp() mockapi.App {
	a := demoApp(mockapi.PlatformBaidu)
	a.Grants = append(a.Grants, mockapi.Grant{OpenID: seed.DemoBaiduUser, TemplateID: seed.DemoBaiduTemplate, LongTerm: true})
	return a
}

func baiduToken(c *http.Client, base string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := postForm(c, base+"/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {seed.DemoBaiduAppKey}, "client_secret": {seed.DemoBaiduSecret},
		"scope": {"smartapp_snsapi_base"}}, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("token: %s", tok.Error)
	}
	return tok.AccessToken, nil
}

const baiduData = `{"keyword1":{"value":"年度体检"},"keyword2":{"value":"2024年5月1日 15:01"}}`

// baiduBaseline answers Baidu's send success with an increasing msg_key.
func baiduBaseline() http.Handler {
	return formBaseline("application/json", func(seq int64) any {
		type data struct {
			MsgKey int64 `json:"msg_key"`
		}
		return struct {
			Errno int    `json:"errno"`
			Msg   string `json:"msg"`
			Data  data   `json:"data"`
		}{0, "success", data{4_330_000 + seq}}
	})
}

// Baidu is the subscribe send with the token in the query; every send
// spends its own subscribe_id (an id carries one message).
func Baidu() Case {
	return Case{Name: "baidu", Platform: mockapi.PlatformBaidu, App: baiduApp, Inbox: true,
		Prepare: func(c *http.Client, base string, n int) (Request, error) {
			tok, err := baiduToken(c, base)
			if err != nil {
				return Request{}, err
			}
			// A run-unique prefix: a second run against the same mock must
			// not spend ids the first spent.
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			bodies := buildBodies(n, func(i int) []byte {
				return []byte(url.Values{"template_id": {seed.DemoBaiduTemplate}, "touser_openId": {seed.DemoBaiduUser},
					"subscribe_id": {"bench-sub-" + run + "-" + strconv.Itoa(i)}, "data": {baiduData},
					"page": {"pages/order/detail?id=42"}}.Encode())
			})
			return Request{Path: "/rest/2.0/smartapp/template/message/subscribe/send?access_token=" + url.QueryEscape(tok),
				Header: formHeader(), Bodies: (bodies)}, nil
		},
		OK:       `{"errno":0,"msg":"success","data":{"msg_key":`,
		Baseline: baiduBaseline(),
	}
}

// BaiduTemplateSend is the legacy template message on a form scene; every
// send spends its own scene id (a form carries one message).
func BaiduTemplateSend() Case {
	return Case{Name: "baidu_template_send", Platform: mockapi.PlatformBaidu, App: baiduApp, Inbox: true,
		Prepare: func(c *http.Client, base string, n int) (Request, error) {
			tok, err := baiduToken(c, base)
			if err != nil {
				return Request{}, err
			}
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			bodies := buildBodies(n, func(i int) []byte {
				// The last digit 1: a logged-in user, addressed by open id.
				return []byte(url.Values{"template_id": {seed.DemoBaiduTemplate}, "touser_openId": {seed.DemoBaiduUser},
					"scene_id": {"bench-form-" + run + "-" + strconv.Itoa(i) + ".1"}, "scene_type": {"1"}, "data": {baiduData},
					"page": {"pages/order/detail?id=42"}}.Encode())
			})
			return Request{Path: "/rest/2.0/smartapp/template/send?access_token=" + url.QueryEscape(tok),
				Header: formHeader(), Bodies: (bodies)}, nil
		},
		OK:       `{"errno":0,"msg":"success","data":{"msg_key":`,
		Baseline: baiduBaseline(),
	}
}

// --- Alipay ---------------------------------------------------------------

const (
	alipaySendMethod = "alipay.open.app.mini.templatemessage.send"
	// AlipayV3SendPath is OpenAPI v3's template-message send.
	AlipayV3SendPath = "/v3/alipay/open/app/mini/templatemessage/send"
	alipayData       = `{"keyword1":{"value":"SO20240601001"},"keyword2":{"value":"已发货"},"keyword3":{"value":"2024-06-01 12:00"}}`
)

func alipayUser(i int) string { return fmt.Sprintf("2088%012d", 900_000_000_000+i) } // 16 digits

// alipayApp is the demo app with AlipayPool users holding long-term grants.
func alipayApp() mockapi.App {
	a := demoApp(mockapi.PlatformAlipay)
	for i := range AlipayPool {
		a.Users = append(a.Users, alipayUser(i))
		a.Grants = append(a.Grants, mockapi.Grant{OpenID: alipayUser(i), TemplateID: seed.DemoAlipayTemplate, LongTerm: true})
	}
	return a
}

// AlipayKey is the demo app's private key.
func AlipayKey() (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(seed.DemoAlipayAppPrivateKey))
	if blk == nil {
		return nil, errors.New("demo alipay app key: not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("demo alipay app key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("demo alipay app key: not RSA")
	}
	return rk, nil
}

// AlipaySign is AlipaySignature.getSignContent + SHA256withRSA: every
// parameter but sign with a name and a value, sorted by name, raw
// "name=value" joined with "&".
func AlipaySign(k *rsa.PrivateKey, p map[string]string) (string, error) {
	keys := make([]string, 0, len(p))
	for name, v := range p {
		if name != "" && v != "" && name != "sign" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, name := range keys {
		parts[i] = name + "=" + p[name]
	}
	d := sha256.Sum256([]byte(strings.Join(parts, "&")))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

type alipayNode struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
}

type alipayAnswer struct {
	Response alipayNode `json:"alipay_open_app_mini_templatemessage_send_response"`
	Sign     string     `json:"sign"`
}

// alipayFakeSign is as long as a base64 RSA-2048 signature; the baselines
// do not sign.
var alipayFakeSign = strings.Repeat("A", 342) + "=="

// Alipay is the gateway send: every parameter in the form body (a style the
// gateway accepts; the official SDKs put the common ones in the query),
// signed SHA256withRSA with the demo app key as the SDKs do. The requests
// are signed before the run (AlipayPool of them, one per user, in
// rotation); the signing time is reported as client_sign_µs.
func Alipay() Case {
	return Case{Name: "alipay", Platform: mockapi.PlatformAlipay, App: alipayApp, Inbox: true,
		Prepare: func(*http.Client, string, int) (Request, error) {
			key, err := AlipayKey()
			if err != nil {
				return Request{}, err
			}
			start := time.Now()
			bodies := make([][]byte, AlipayPool)
			for i := range bodies {
				biz := mustJSON(map[string]string{"to_user_id": alipayUser(i), "user_template_id": seed.DemoAlipayTemplate,
					"page": "pages/order/detail?id=42", "data": alipayData})
				p := map[string]string{"app_id": seed.DemoAlipayAppID, "method": alipaySendMethod, "format": "JSON",
					"charset": "utf-8", "sign_type": "RSA2", "timestamp": time.Now().Format("2006-01-02 15:04:05"),
					"version": "1.0", "biz_content": string(biz)}
				if p["sign"], err = AlipaySign(key, p); err != nil {
					return Request{}, err
				}
				form := url.Values{}
				for k, v := range p {
					form.Set(k, v)
				}
				bodies[i] = []byte(form.Encode())
			}
			sign := float64(time.Since(start).Microseconds()) / AlipayPool
			return Request{Path: "/gateway.do", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded;charset=utf-8"}},
				Bodies: (bodies), Extra: map[string]float64{"client_sign_µs": sign}}, nil
		},
		OK: `{"alipay_open_app_mini_templatemessage_send_response":{"code":"10000","msg":"Success"}`,
		Baseline: formBaseline("text/html;charset=utf-8", func(int64) any {
			return alipayAnswer{Response: alipayNode{Code: "10000", Msg: "Success"}, Sign: alipayFakeSign}
		}),
	}
}

// AlipayV3 is OpenAPI v3's send, signed as alipay-sdk-java-all v3
// AlipayConfigUtil.sign does — "ALIPAY-SHA256withRSA app_id=…,nonce=…,
// timestamp=…,sign=…" over "<authString>\nPOST\n<path>\n<body>\n" — ahead
// of the run (AlipayPool requests, in rotation). The baseline decodes the
// JSON body and answers {} with headers as long as the mock's signed ones.
func AlipayV3() Case {
	return Case{Name: "alipay_v3", Platform: mockapi.PlatformAlipay, App: alipayApp, Inbox: true,
		Prepare: func(*http.Client, string, int) (Request, error) {
			key, err := AlipayKey()
			if err != nil {
				return Request{}, err
			}
			start := time.Now()
			req := Request{Path: AlipayV3SendPath,
				Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
				Bodies: make([][]byte, AlipayPool), Signed: make([]http.Header, AlipayPool)}
			for i := range req.Bodies {
				body := mustJSON(map[string]string{"to_user_id": alipayUser(i), "user_template_id": seed.DemoAlipayTemplate,
					"page": "pages/order/detail?id=42", "data": alipayData})
				nonce := make([]byte, 16)
				_, _ = rand.Read(nonce)
				auth := "app_id=" + seed.DemoAlipayAppID + ",nonce=" + hex.EncodeToString(nonce) +
					",timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
				d := sha256.Sum256([]byte(auth + "\nPOST\n" + AlipayV3SendPath + "\n" + string(body) + "\n"))
				sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
				if err != nil {
					return Request{}, err
				}
				req.Bodies[i] = body
				req.Signed[i] = http.Header{"Authorization": {"ALIPAY-SHA256withRSA " + auth + ",sign=" +
					base64.StdEncoding.EncodeToString(sig)}}
			}
			req.Extra = map[string]float64{"client_sign_µs": float64(time.Since(start).Microseconds()) / AlipayPool}
			return req, nil
		},
		OK: "{}", OKExact: true,
		Baseline: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req map[string]any
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			h := w.Header()
			h.Set("Content-Type", "application/json;charset=utf-8")
			h.Set("alipay-trace-id", "0123456789abcdef0123456789abcdef")
			h.Set("alipay-timestamp", "1717214400000")
			h.Set("alipay-nonce", "01234567-89ab-4cde-8f01-23456789abcd")
			h.Set("alipay-signature", alipayFakeSign)
			_, _ = w.Write([]byte("{}"))
		}),
	}
}

// demoApp is the demo seed's app on platform.
func demoApp(platform string) mockapi.App {
	a, ok := seed.DemoApp(platform)
	if !ok {
		panic("sendcases: no demo app for " + platform)
	}
	return a
}
