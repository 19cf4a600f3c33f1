package mockserver_test

// BenchmarkPlatformSend puts each other platform's send next to the cheapest
// server of the same request, as BenchmarkSubscribeSend does for WeChat:
// same machine, real loopback sockets, one run, alternating turns of
// benchTurn sends from benchWorkers keep-alive clients. The baseline only
// decodes the body (JSON for Douyin, a form for the others; it does not
// parse the JSON carried inside form fields) and writes the platform's
// success answer. Targets (reported, not asserted): ratio_rps ≥ 0.7 and
// ratio_p99 ≤ 2, except Alipay, whose gateway verifies an RSA signature on
// every request and signs every answer (SHA256withRSA, RSA-2048): its
// figure is reported as is.
//
// Every mock answer must be the platform's success; any other answer is
// counted and fails the benchmark, and the mock's own count of delivered
// messages must match the sends.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/benchload"
	"github.com/minipush/minipush/mockserver/internal/douyin"
	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/seed"
)

const (
	// douyinUsers: Douyin takes one message per user per second, so the
	// sends rotate over this many users, each with a long-term grant. The
	// mock has answered 22,000 sends a second here; a user comes round
	// again after about 3 s of sending at that pace (more, counting the
	// baseline's turns in between).
	douyinUsers = 1 << 16
	// alipayPool is how many signed requests are prepared before the run
	// and sent in rotation (one per user).
	alipayPool = 512
	// unlimited replaces the platforms' per-second send caps (Douyin 1,000,
	// Kuaishou 100): the benchmark measures the send path, not the cap.
	unlimited = 1 << 30
)

// sendCase is one platform's send: how to seed the mock, the request it is
// sent, what its success looks like, and the baseline server of the same
// request.
type sendCase struct {
	app func() mockapi.App
	// prepare fetches what the request needs from the mock at base (a
	// token) and builds the bodies, sent in rotation (n is every send of
	// the run, warm-up included, for a platform that refuses a repeated
	// body); it returns the path (with any query) and the headers.
	prepare func(tb testing.TB, c *http.Client, base string, n int) (path string, header http.Header, bodies [][]byte)
	// ok is the start of every success answer (the same test for both
	// servers); with okExact the answer must be exactly ok (Kuaishou's
	// {"result":1}, whose prefix its error codes share).
	ok       string
	okExact  bool
	baseline http.Handler
	// metrics, when set, reports figures of the client's own preparation.
	metrics func(b *testing.B)
	// verify, when set, replaces the check that every send landed in the
	// inbox once (for sends that deliver nothing there).
	verify func(b *testing.B, h http.Handler, sends int)
}

// BenchmarkPlatformSend: one sub-benchmark per platform send; b.N sends to
// the mock and b.N to the baseline. ns/op is the mock's wall time per send.
func BenchmarkPlatformSend(b *testing.B) {
	cases := []struct {
		name string
		c    sendCase
	}{
		{"douyin_v2", douyinV2Case()},
		{"douyin_v1", douyinV1Case()},
		{"kuaishou", kuaishouCase()},
		{"kuaishou_json", kuaishouJSONCase()},
		{"baidu", baiduCase()},
		{"baidu_template_send", baiduTemplateSendCase()},
		{"alipay", alipayCase()},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) { benchPlatformSend(b, tc.c) })
	}
}

func benchPlatformSend(b *testing.B, sc sendCase) {
	srv, err := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{sc.app()}}))
	if err != nil {
		b.Fatalf("new mock: %v", err)
	}
	mockHS := httptest.NewServer(srv.Handler())
	defer mockHS.Close()
	baseHS := httptest.NewServer(sc.baseline)
	defer baseHS.Close()
	mockClient, baseClient := keepAliveClient(benchWorkers), keepAliveClient(benchWorkers)
	defer mockClient.CloseIdleConnections()
	defer baseClient.CloseIdleConnections()

	warm := 4 * benchWorkers
	path, header, bodies := sc.prepare(b, mockClient, mockHS.URL, warm+b.N)
	failures := &failureCount{ok: sc.ok, exact: sc.okExact}
	target := func(base string) benchload.Target {
		return benchload.Target{Method: http.MethodPost, URL: base + path, Header: header,
			NextBody: benchload.Cycle(bodies), Check: failures.check}
	}
	mock := benchload.Side{Client: mockClient, Target: target(mockHS.URL)}
	base := benchload.Side{Client: baseClient, Target: target(baseHS.URL)}

	ctx := context.Background()
	for _, s := range []benchload.Side{mock, base} {
		if _, err := benchload.Run(ctx, s.Client, s.Target, warm, benchWorkers); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	failures.fatalIfAny(b, "warm-up")

	b.ResetTimer()
	mockRes, baseRes, err := benchload.Compare(ctx, mock, base, b.N, benchTurn, benchWorkers)
	b.StopTimer()
	if err != nil {
		b.Fatalf("run: %v", err)
	}
	failures.fatalIfAny(b, "run")
	if sc.verify != nil {
		sc.verify(b, srv.Handler(), warm+b.N)
	} else {
		checkDelivered(b, srv.Handler(), warm+b.N)
	}

	mockP99, baseP99 := mockRes.Percentile(99), baseRes.Percentile(99)
	b.ReportMetric(float64(mockRes.Elapsed.Nanoseconds())/float64(mockRes.Requests), "ns/op")
	b.ReportMetric(mockRes.RPS(), "mock_req/s")
	b.ReportMetric(baseRes.RPS(), "base_req/s")
	b.ReportMetric(mockRes.RPS()/baseRes.RPS(), "ratio_rps")
	b.ReportMetric(micros(mockP99), "mock_p99_µs")
	b.ReportMetric(micros(baseP99), "base_p99_µs")
	b.ReportMetric(float64(mockP99)/float64(baseP99), "ratio_p99")
	b.ReportMetric(micros(mockRes.Percentile(50)), "mock_p50_µs")
	b.ReportMetric(micros(baseRes.Percentile(50)), "base_p50_µs")
	if sc.metrics != nil {
		sc.metrics(b)
	}
}

// failureCount is the success test of both servers: it counts every answer
// that is not a success (and keeps the first) instead of stopping the run,
// so a failing benchmark says how many sends failed.
type failureCount struct {
	ok    string
	exact bool
	n     atomic.Int64
	once  sync.Once
	first string
}

func (f *failureCount) check(status int, body []byte) error {
	s := string(body)
	good := status == http.StatusOK && strings.HasPrefix(s, f.ok)
	if f.exact {
		good = good && strings.TrimRight(s, "\n") == f.ok
	}
	if !good {
		f.n.Add(1)
		f.once.Do(func() { f.first = fmt.Sprintf("HTTP %d %.300s", status, body) })
	}
	return nil
}

func (f *failureCount) fatalIfAny(b *testing.B, stage string) {
	b.Helper()
	if n := f.n.Load(); n > 0 {
		b.Fatalf("%s: %d answers were not a success; first: %s", stage, n, f.first)
	}
}

// checkDelivered asks the mock how many messages it delivered: every send
// must have landed exactly once.
func checkDelivered(b *testing.B, h http.Handler, want int) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/stats", nil))
	var st mockapi.Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		b.Fatalf("stats: %v: %s", err, rec.Body)
	}
	if st.Delivered != uint64(want) {
		b.Fatalf("mock delivered %d messages, want %d (errcodes %v)", st.Delivered, want, st.ByErrCode)
	}
}

// demoApp is the demo seed's app on platform.
func demoApp(platform string) mockapi.App {
	a, ok := seed.DemoApp(platform)
	if !ok {
		panic("no demo app for " + platform)
	}
	return a
}

// postJSON posts v to url and decodes the answer into out.
func postJSON(tb testing.TB, c *http.Client, url string, v, out any) {
	tb.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := c.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		tb.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("POST %s: decode answer: %v", url, err)
	}
}

// postForm posts form to url and decodes the answer into out.
func postForm(tb testing.TB, c *http.Client, url string, form url.Values, out any) {
	tb.Helper()
	resp, err := c.PostForm(url, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("POST %s: decode answer: %v", url, err)
	}
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

// --- Douyin ---------------------------------------------------------------

const douyinContentType = "application/json; charset=utf-8"

// douyinApp is the demo app with douyinUsers users holding a long-term
// grant for the demo's long-term reminder, and no per-second send cap.
func douyinApp() mockapi.App {
	a := demoApp(mockapi.PlatformDouyin)
	for i := range douyinUsers {
		u := douyinUser(i)
		a.Users = append(a.Users, u)
		a.Grants = append(a.Grants, mockapi.Grant{OpenID: u, TemplateID: douyin.DemoTemplateRemind, LongTerm: true})
	}
	a.Quotas = []mockapi.Quota{
		{Endpoint: douyin.EndpointNotifyV1, Limit: unlimited, Per: "second"},
		{Endpoint: douyin.EndpointNotifyV2, Limit: unlimited, Per: "second"},
	}
	return a
}

// douyinUser is a Douyin-shaped open id (32 characters).
func douyinUser(i int) string { return fmt.Sprintf("_000bench_user_%017d", i) }

// douyinData is the reminder's data, keyed by keyword name as Douyin sends.
var douyinData = map[string]string{"预约项目": "年度体检", "预约时间": "2024年5月1日 15:01"}

// douyinBodies marshals one body per user (body(i) is user i's).
func douyinBodies(tb testing.TB, body func(i int) any) [][]byte {
	tb.Helper()
	return buildBodies(douyinUsers, func(i int) []byte {
		b, err := json.Marshal(body(i))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	})
}

// buildBodies is n bodies, the i-th built by f(i).
func buildBodies(n int, f func(i int) []byte) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

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

// douyinV2Case: notify_user with a client token (POST /oauth/client_token/)
// in the access-token header.
func douyinV2Case() sendCase {
	return sendCase{
		app: douyinApp,
		prepare: func(tb testing.TB, c *http.Client, base string, _ int) (string, http.Header, [][]byte) {
			var tok struct {
				Data struct {
					AccessToken string `json:"access_token"`
					ErrorCode   int    `json:"error_code"`
				} `json:"data"`
			}
			postJSON(tb, c, base+"/oauth/client_token/", map[string]string{"client_key": seed.DemoDouyinAppID,
				"client_secret": seed.DemoDouyinSecret, "grant_type": "client_credential"}, &tok)
			if tok.Data.AccessToken == "" {
				tb.Fatalf("client_token: error_code %d", tok.Data.ErrorCode)
			}
			bodies := douyinBodies(tb, func(i int) any {
				return douyinV2Body{MsgID: douyin.DemoTemplateRemind, OpenID: douyinUser(i), Data: douyinData,
					NotifyType: []int{1, 2}, Page: "pages/order/detail?id=42"}
			})
			h := http.Header{"Content-Type": {"application/json"}, "Access-Token": {tok.Data.AccessToken}}
			return "/api/notification/v2/subscription/notify_user/", h, bodies
		},
		ok: `{"err_no":0,"err_msg":"","log_id":"`,
		baseline: jsonBaseline[douyinV2Body](douyinContentType, func(seq int64) any {
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

// douyinV1Case: the legacy notify with a getAccessToken token in the body.
func douyinV1Case() sendCase {
	return sendCase{
		app: douyinApp,
		prepare: func(tb testing.TB, c *http.Client, base string, _ int) (string, http.Header, [][]byte) {
			var tok struct {
				ErrNo int `json:"err_no"`
				Data  struct {
					AccessToken string `json:"access_token"`
				} `json:"data"`
			}
			postJSON(tb, c, base+"/api/apps/v2/token", map[string]string{"appid": seed.DemoDouyinAppID,
				"secret": seed.DemoDouyinSecret, "grant_type": "client_credential"}, &tok)
			if tok.Data.AccessToken == "" {
				tb.Fatalf("getAccessToken: err_no %d", tok.ErrNo)
			}
			bodies := douyinBodies(tb, func(i int) any {
				return douyinV1Body{AccessToken: tok.Data.AccessToken, AppID: seed.DemoDouyinAppID,
					TplID: douyin.DemoTemplateRemind, OpenID: douyinUser(i), Data: douyinData, Page: "pages/order/detail?id=42"}
			})
			return "/api/apps/subscribe_notification/developer/v1/notify", http.Header{"Content-Type": {"application/json"}}, bodies
		},
		ok: `{"err_no":0,"err_tips":""}`,
		baseline: jsonBaseline[douyinV1Body](douyinContentType, func(int64) any {
			return douyinV1Answer{}
		}),
	}
}

// --- Kuaishou -------------------------------------------------------------

// kuaishouCase: the form send with the token in the body (POST
// /oauth2/access_token), to the demo user holding a long-term grant.
func kuaishouCase() sendCase {
	return sendCase{
		app: func() mockapi.App {
			a := demoApp(mockapi.PlatformKuaishou)
			a.Grants = append(a.Grants, mockapi.Grant{OpenID: seed.DemoKuaishouUser, TemplateID: seed.DemoKuaishouTemplate, LongTerm: true})
			a.Quotas = []mockapi.Quota{{Endpoint: kuaishou.EndpointTemplateSend, Limit: unlimited, Per: "second"}}
			return a
		},
		prepare: func(tb testing.TB, c *http.Client, base string, _ int) (string, http.Header, [][]byte) {
			var tok struct {
				Result      int    `json:"result"`
				AccessToken string `json:"access_token"`
			}
			postForm(tb, c, base+"/oauth2/access_token", url.Values{"app_id": {seed.DemoKuaishouAppID},
				"app_secret": {seed.DemoKuaishouSecret}, "grant_type": {"client_credentials"}}, &tok)
			if tok.AccessToken == "" {
				tb.Fatalf("access_token: result %d", tok.Result)
			}
			data := `{"thing01":{"value":"无线耳机"},"thing02":{"value":"顺丰速运"},` +
				`"date01":{"value":"2024年05月01号"},"amount01":{"value":"199.00"}}`
			body := url.Values{"app_id": {seed.DemoKuaishouAppID}, "access_token": {tok.AccessToken},
				"template_id": {seed.DemoKuaishouTemplate}, "to_user": {seed.DemoKuaishouUser},
				"page": {"pages/order/detail?id=42"}, "data": {data}}
			return "/openapi/mp/developer/message/template/send",
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, [][]byte{[]byte(body.Encode())}
		},
		ok: `{"result":1}`, okExact: true,
		baseline: formBaseline("application/json;charset=UTF-8", func(int64) any {
			return struct {
				Result int `json:"result"`
			}{1}
		}),
	}
}

// --- Baidu ----------------------------------------------------------------

// baiduCase: the form send with the token in the query (POST
// /oauth/2.0/token). Every send spends its own subscribe_id (Baidu lets an
// id carry one message), so there is one body per send.
func baiduCase() sendCase {
	return sendCase{
		app: func() mockapi.App {
			a := demoApp(mockapi.PlatformBaidu)
			a.Grants = append(a.Grants, mockapi.Grant{OpenID: seed.DemoBaiduUser, TemplateID: seed.DemoBaiduTemplate, LongTerm: true})
			return a
		},
		prepare: func(tb testing.TB, c *http.Client, base string, n int) (string, http.Header, [][]byte) {
			var tok struct {
				AccessToken string `json:"access_token"`
				Error       string `json:"error"`
			}
			postForm(tb, c, base+"/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {seed.DemoBaiduAppKey}, "client_secret": {seed.DemoBaiduSecret},
				"scope": {"smartapp_snsapi_base"}}, &tok)
			if tok.AccessToken == "" {
				tb.Fatalf("token: %s", tok.Error)
			}
			data := `{"keyword1":{"value":"年度体检"},"keyword2":{"value":"2024年5月1日 15:01"}}`
			bodies := buildBodies(n, func(i int) []byte {
				return []byte(url.Values{"template_id": {seed.DemoBaiduTemplate}, "touser_openId": {seed.DemoBaiduUser},
					"subscribe_id": {"bench-sub-" + strconv.Itoa(i)}, "data": {data},
					"page": {"pages/order/detail?id=42"}}.Encode())
			})
			return "/rest/2.0/smartapp/template/message/subscribe/send?access_token=" + url.QueryEscape(tok.AccessToken),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, bodies
		},
		ok:       `{"errno":0,"msg":"success","data":{"msg_key":`,
		baseline: baiduBaseline(),
	}
}

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

// baiduTemplateSendCase: the legacy template message on a form scene;
// every send spends its own scene id (a form carries one message), so
// there is one body per send.
func baiduTemplateSendCase() sendCase {
	return sendCase{
		app: func() mockapi.App { return demoApp(mockapi.PlatformBaidu) },
		prepare: func(tb testing.TB, c *http.Client, base string, n int) (string, http.Header, [][]byte) {
			var tok struct {
				AccessToken string `json:"access_token"`
				Error       string `json:"error"`
			}
			postForm(tb, c, base+"/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {seed.DemoBaiduAppKey}, "client_secret": {seed.DemoBaiduSecret},
				"scope": {"smartapp_snsapi_base"}}, &tok)
			if tok.AccessToken == "" {
				tb.Fatalf("token: %s", tok.Error)
			}
			data := `{"keyword1":{"value":"年度体检"},"keyword2":{"value":"2024年5月1日 15:01"}}`
			bodies := buildBodies(n, func(i int) []byte {
				// The last digit 1: a logged-in user, addressed by open id.
				return []byte(url.Values{"template_id": {seed.DemoBaiduTemplate}, "touser_openId": {seed.DemoBaiduUser},
					"scene_id": {"bench-form-" + strconv.Itoa(i) + ".1"}, "scene_type": {"1"}, "data": {data},
					"page": {"pages/order/detail?id=42"}}.Encode())
			})
			return "/rest/2.0/smartapp/template/send?access_token=" + url.QueryEscape(tok.AccessToken),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, bodies
		},
		ok:       `{"errno":0,"msg":"success","data":{"msg_key":`,
		baseline: baiduBaseline(),
	}
}

// kuaishouJSONBody is template/send with a JSON body, data as an object.
type kuaishouJSONBody struct {
	AppID       string                       `json:"app_id"`
	AccessToken string                       `json:"access_token"`
	TemplateID  string                       `json:"template_id"`
	ToUser      string                       `json:"to_user"`
	Page        string                       `json:"page"`
	Data        map[string]map[string]string `json:"data"`
}

// kuaishouJSONCase: the same send as kuaishouCase with a JSON body (the
// mock's lenient reading; the documented way is a form).
func kuaishouJSONCase() sendCase {
	sc := kuaishouCase()
	form := sc.prepare
	sc.prepare = func(tb testing.TB, c *http.Client, base string, n int) (string, http.Header, [][]byte) {
		path, _, bodies := form(tb, c, base, n)
		f, err := url.ParseQuery(string(bodies[0]))
		if err != nil {
			tb.Fatalf("form body: %v", err)
		}
		body := kuaishouJSONBody{AppID: f.Get("app_id"), AccessToken: f.Get("access_token"), TemplateID: f.Get("template_id"),
			ToUser: f.Get("to_user"), Page: f.Get("page")}
		if err := json.Unmarshal([]byte(f.Get("data")), &body.Data); err != nil {
			tb.Fatalf("data: %v", err)
		}
		raw, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("marshal: %v", err)
		}
		return path, http.Header{"Content-Type": {"application/json"}}, [][]byte{raw}
	}
	sc.baseline = jsonBaseline[kuaishouJSONBody]("application/json;charset=UTF-8", func(int64) any {
		return struct {
			Result int `json:"result"`
		}{1}
	})
	return sc
}

// --- Alipay ---------------------------------------------------------------

const alipaySendMethod = "alipay.open.app.mini.templatemessage.send"

// alipayCase: every parameter in the form body (a style the gateway
// accepts; the official SDKs put the common ones in the query), signed
// SHA256withRSA with the demo app key exactly as the SDKs do. Signing costs
// the client about as much as the gateway's own answer signature, so the
// requests are signed before the run (alipayPool of them, one per user,
// sent in rotation) and the signing time is reported as client_sign_µs.
func alipayCase() sendCase {
	var signPerReq time.Duration
	users := make([]string, alipayPool)
	for i := range users {
		users[i] = fmt.Sprintf("2088%012d", 900_000_000_000+i) // 16 digits, as Alipay user ids
	}
	return sendCase{
		app: func() mockapi.App {
			a := demoApp(mockapi.PlatformAlipay)
			for _, u := range users {
				a.Users = append(a.Users, u)
				a.Grants = append(a.Grants, mockapi.Grant{OpenID: u, TemplateID: seed.DemoAlipayTemplate, LongTerm: true})
			}
			return a
		},
		prepare: func(tb testing.TB, _ *http.Client, _ string, _ int) (string, http.Header, [][]byte) {
			key := alipayKey(tb)
			data := `{"keyword1":{"value":"SO20240601001"},"keyword2":{"value":"已发货"},"keyword3":{"value":"2024-06-01 12:00"}}`
			start := time.Now()
			bodies := buildBodies(alipayPool, func(i int) []byte {
				biz, err := json.Marshal(map[string]string{"to_user_id": users[i], "user_template_id": seed.DemoAlipayTemplate,
					"page": "pages/order/detail?id=42", "data": data})
				if err != nil {
					tb.Fatal(err)
				}
				p := map[string]string{"app_id": seed.DemoAlipayAppID, "method": alipaySendMethod, "format": "JSON",
					"charset": "utf-8", "sign_type": "RSA2", "timestamp": time.Now().Format("2006-01-02 15:04:05"),
					"version": "1.0", "biz_content": string(biz)}
				p["sign"] = alipaySign(tb, key, p)
				form := url.Values{}
				for k, v := range p {
					form.Set(k, v)
				}
				return []byte(form.Encode())
			})
			signPerReq = time.Since(start) / alipayPool
			return "/gateway.do", http.Header{"Content-Type": {"application/x-www-form-urlencoded;charset=utf-8"}}, bodies
		},
		ok: `{"alipay_open_app_mini_templatemessage_send_response":{"code":"10000","msg":"Success"}`,
		baseline: formBaseline("text/html;charset=utf-8", func(int64) any {
			return alipayAnswer{Response: alipayNode{Code: "10000", Msg: "Success"}, Sign: alipayFakeSign}
		}),
		metrics: func(b *testing.B) {
			b.ReportMetric(micros(signPerReq), "client_sign_µs")
		},
	}
}

type alipayNode struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
}

type alipayAnswer struct {
	Response alipayNode `json:"alipay_open_app_mini_templatemessage_send_response"`
	Sign     string     `json:"sign"`
}

// alipayFakeSign is as long as a base64 RSA-2048 signature; the baseline
// does not sign.
var alipayFakeSign = strings.Repeat("A", 342) + "=="

func alipayKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	blk, _ := pem.Decode([]byte(seed.DemoAlipayAppPrivateKey))
	if blk == nil {
		tb.Fatal("demo alipay app key: not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		tb.Fatalf("demo alipay app key: %v", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		tb.Fatal("demo alipay app key: not RSA")
	}
	return rk
}

// alipaySign is AlipaySignature.getSignContent + SHA256withRSA: every
// parameter but sign with a name and a value, sorted by name, raw
// "name=value" joined with "&".
func alipaySign(tb testing.TB, k *rsa.PrivateKey, p map[string]string) string {
	tb.Helper()
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
		tb.Fatalf("sign: %v", err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
