package ui_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

// page is one HTTP answer of the UI.
type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

// noRedirects sees a post's 303 instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, m *mocktest.Mock, path string) page {
	t.Helper()
	resp, err := noRedirects.Get(m.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

// post sends a form as a browser on the mock's own page would: same-origin
// fetch metadata, the page's CSRF token unless the form carries its own.
func post(t *testing.T, m *mocktest.Mock, path string, form url.Values, header map[string]string) page {
	t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", token(t, m))
	}
	req, err := http.NewRequest(http.MethodPost, m.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", m.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b), location: resp.Header.Get("Location")}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// token reads the CSRF token from a page, as the browser submits it.
func token(t *testing.T, m *mocktest.Mock) string {
	t.Helper()
	match := csrfField.FindStringSubmatch(get(t, m, "/_ui/control").body)
	if match == nil {
		t.Fatal("no CSRF token on the control page")
	}
	return match[1]
}

func (p page) expect(t *testing.T, status int, contains ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d: %s", p.status, status, p.body)
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Fatalf("the page lacks %q:\n%s", c, p.body)
		}
	}
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	m := start(t)
	sel := "?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {carol}}.Encode()
	tests := []struct {
		path     string
		status   int
		contains []string
	}{
		{"/_ui/phone" + sel, 200, []string{"服务通知", carol, `data-stream="/_ui/events/inbox?`}},
		{"/_ui/subscriptions" + sel, 200, []string{"预约提醒", "long-term", `id="popup"`}},
		{"/_ui/journal", 200, []string{"Journal", `data-stream="/_ui/events/journal?`}},
		{"/_ui/control", 200, []string{"Faults", "Clock", "Content rules", "Quotas and usage", "Reset the mock"}},
		{"/_ui/nothing-here", 404, []string{"No page /_ui/nothing-here"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			p := get(t, m, tc.path)
			p.expect(t, tc.status, tc.contains...)
			if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			csp := p.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if p.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if strings.Contains(p.body, "<script>") {
				t.Error("inline script on the page: the CSP forbids it")
			}
		})
	}
	if p := get(t, m, "/_ui/"); p.status != http.StatusFound || p.location != "/_ui/phone" {
		t.Fatalf("/_ui/ answered %d → %q", p.status, p.location)
	}
	if p := get(t, m, "/_ui"); p.status != http.StatusFound || p.location != "/_ui/" {
		t.Fatalf("/_ui answered %d → %q", p.status, p.location)
	}
	for path, ct := range map[string]string{"/_ui/static/app.css": "text/css", "/_ui/static/app.js": "text/javascript"} {
		p := get(t, m, path)
		if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), ct) || len(p.body) < 500 {
			t.Errorf("%s: %d %q (%d bytes)", path, p.status, p.header.Get("Content-Type"), len(p.body))
		}
	}
	if p := get(t, m, "/_ui/static/"); p.status != http.StatusNotFound {
		t.Errorf("the static folder is listed: %d", p.status)
	}
	// Pages are GET; actions are POST.
	p := post(t, m, "/_ui/phone", url.Values{}, nil)
	if p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /_ui/phone: %d, Allow %q", p.status, p.header.Get("Allow"))
	}
	if p := get(t, m, "/_ui/reset"); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "POST" {
		t.Errorf("GET /_ui/reset: %d, Allow %q", p.status, p.header.Get("Allow"))
	}
}

// The UI is a library option, off by default; the control API does not
// depend on it.
func TestUIIsOffUnlessAskedFor(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t, mockserver.WithSeed(seed.Demo()))
	if p := get(t, m, "/_ui/phone"); p.status != http.StatusNotFound {
		t.Fatalf("/_ui/phone without WithUI: %d", p.status)
	}
	if p := get(t, m, "/_mock/apps"); p.status != http.StatusOK {
		t.Fatalf("/_mock/apps: %d", p.status)
	}
}

func TestPhoneRendersEscapedCards(t *testing.T) {
	t.Parallel()
	m := start(t)
	if r := send(t, m, alice, "Phone case & <b>", xss); r.ErrCode != 0 {
		t.Fatalf("send: %+v", r)
	}
	p := get(t, m, "/_ui/phone?"+url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}}.Encode())
	p.expect(t, 200, "订单发货通知", "商品名称", "快递单号", "进入小程序查看", `title="pages/order/detail?id=42"`,
		html.EscapeString(xss), "Phone case &amp; &lt;b&gt;")
	if strings.Contains(p.body, xss) || strings.Contains(p.body, "<b>") {
		t.Fatalf("a keyword value reached the page unescaped:\n%s", p.body)
	}
	// Rows follow the template's keyword order.
	order := []string{"商品名称", "快递单号", "发货时间", "订单状态"}
	last := -1
	for _, label := range order {
		i := strings.Index(p.body, ">"+label+"<")
		if i < last {
			t.Fatalf("%s out of the template's order", label)
		}
		last = i
	}
	// Bob has no message: the phone says so.
	get(t, m, "/_ui/phone?"+url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {bob}}.Encode()).
		expect(t, 200, "No messages for this user yet")
}

// Another platform's card: Kuaishou's labels and link words.
func TestPhoneRendersEachPlatform(t *testing.T) {
	t.Parallel()
	m := start(t)
	form := url.Values{"app_id": {seed.DemoKuaishouAppID}, "app_secret": {seed.DemoKuaishouSecret}, "grant_type": {"client_credentials"}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	postJSON(t, m.URL+"/oauth2/access_token", form, &tok)
	data, _ := json.Marshal(map[string]any{"thing01": map[string]any{"value": "会员卡"}, "thing02": map[string]any{"value": "顺丰"},
		"date01": map[string]any{"value": "2020年02月25号"}, "amount01": map[string]any{"value": "99.50"}})
	var sent struct {
		Result int `json:"result"`
	}
	postJSON(t, m.URL+"/openapi/mp/developer/message/template/send", url.Values{"app_id": {seed.DemoKuaishouAppID},
		"access_token": {tok.AccessToken}, "template_id": {seed.DemoKuaishouTemplate}, "to_user": {seed.DemoKuaishouUser},
		"page": {"pages/card/detail?id=1"}, "data": {string(data)}}, &sent)
	if sent.Result != 1 {
		t.Fatalf("kuaishou send: result %d", sent.Result)
	}
	p := get(t, m, "/_ui/phone?platform=kuaishou")
	p.expect(t, 200, `class="phone ph-kuaishou"`, "c-kuaishou", "物流公司", "顺丰", "查看详情", seed.DemoKuaishouUser)
	// Every platform's tab leads to its demo app and first user.
	for _, pl := range []struct{ name, inbox, app string }{
		{"alipay", "服务提醒", seed.DemoAlipayAppID}, {"douyin", "小程序通知", seed.DemoDouyinAppID},
		{"baidu", "服务通知", seed.DemoBaiduAppKey}, {"wechat", "服务通知", appID},
	} {
		get(t, m, "/_ui/phone?platform="+pl.name).expect(t, 200, "<h2>"+pl.inbox+"</h2>", "<option selected>"+pl.app+"</option>")
	}
	// Unknown names fall back to what exists rather than failing.
	get(t, m, "/_ui/phone?platform=line&app_id=x&openid=y").expect(t, 200, "<option selected>"+appID+"</option>", "<option selected>"+alice+"</option>")
}

func postJSON(t *testing.T, u string, form url.Values, v any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("POST %s: %v: %s", u, err, b)
	}
}

// grantsOf reads a user's grants and rejections through the control API.
func grantsOf(t *testing.T, m *mocktest.Mock, user string) (map[string]mockapi.GrantState, []string) {
	t.Helper()
	var out struct {
		Grants   []mockapi.GrantState `json:"grants"`
		Rejected []mockapi.Rejection  `json:"rejected"`
	}
	getJSON(t, m.URL+"/_mock/grants?"+url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {user}}.Encode(), &out)
	g := map[string]mockapi.GrantState{}
	for _, s := range out.Grants {
		g[s.TemplateID] = s
	}
	var r []string
	for _, x := range out.Rejected {
		r = append(r, x.TemplateID)
	}
	return g, r
}
