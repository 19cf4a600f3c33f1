package douyin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/douyin"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// TestUnknownPaths: paths under Douyin's prefixes that are not APIs, and
// wrong methods, answer JSON in Douyin's shape (the /oauth/ ones in
// client_token's), never the mock's generic 404.
func TestUnknownPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method, path string
		status       int
		oauth        bool
	}{
		{http.MethodPost, "/api/apps/v2/nope", 404, false},
		{http.MethodPost, "/api/v2/tags/image/nope", 404, false},
		{http.MethodPost, "/mgplatform/api/apps/nope", 404, false},
		// The documented paths end in a slash; dropping it is not forgiven.
		{http.MethodPost, "/api/notification/v2/subscription/notify_user", 404, false},
		{http.MethodPost, "/api/apps/v1/censor/text", 404, false},
		{http.MethodPost, "/oauth/client_token", 404, true},
		{http.MethodPost, "/oauth/nope/", 404, true},
		{http.MethodGet, pathToken, 405, false},
		{http.MethodGet, pathNotifyV2, 405, false},
		{http.MethodPut, pathAntidirt, 405, false},
		{http.MethodGet, pathClientToken, 405, true},
	}
	m := start(t)
	for _, tc := range cases {
		r := m.do(tc.method, tc.path, nil)
		if r.Status != tc.status {
			t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Body)
			continue
		}
		code := "err_no"
		if tc.oauth {
			code = "data.error_code"
			if r.str(t, "message") != "error" {
				t.Errorf("%s %s: message %q", tc.method, tc.path, r.str(t, "message"))
			}
		} else if r.str(t, "err_tips") == "" || r.str(t, "err_msg") == "" {
			t.Errorf("%s %s: no err_tips/err_msg: %s", tc.method, tc.path, r.Body)
		}
		if got := r.num(t, code); got != int64(tc.status) {
			t.Errorf("%s %s: %s %d, want %d", tc.method, tc.path, code, got, tc.status)
		}
	}
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformDouyin})
	if err != nil {
		t.Fatal(err)
	}
	if reqs.Total != len(cases) {
		t.Errorf("%d douyin journal entries, want %d", reqs.Total, len(cases))
	}
}

// TestBaiduOAuthNotClaimed: /oauth/2.0/ belongs to Baidu; Douyin's
// unknown-path handler must not answer it.
func TestBaiduOAuthNotClaimed(t *testing.T) {
	t.Parallel()
	m := start(t)
	resp, err := m.Control.HTTP.Post(m.URL+"/oauth/2.0/token?grant_type=client_credentials", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformDouyin})
	if err != nil {
		t.Fatal(err)
	}
	if reqs.Total != 0 {
		t.Errorf("douyin answered a Baidu path: %+v", reqs.Requests)
	}
}

// TestFaults: an errcode fault answers in each endpoint's own shape, fires
// the set number of times, and other actions (HTTP status) work too.
func TestFaults(t *testing.T) {
	t.Parallel()
	type call func(m *mock) reply
	cases := []struct {
		endpoint string
		errcode  int
		call     call
		check    func(t *testing.T, r reply)
	}{
		{"token", -1, func(m *mock) reply {
			return m.post(pathToken, map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credential"})
		}, func(t *testing.T, r reply) { wantErrNo(t, r, -1) }},
		{"stable_token", -1, func(m *mock) reply {
			return m.post(pathStableToken, map[string]string{"appid": appA, "secret": secretA, "grant_type": "client_credential"})
		}, func(t *testing.T, r reply) { wantErrNo(t, r, -1) }},
		{"client_token", 10020, func(m *mock) reply {
			return m.post(pathClientToken, map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"})
		}, func(t *testing.T, r reply) {
			if r.num(t, "data.error_code") != 10020 || r.str(t, "message") != "error" {
				t.Errorf("answer %s", r.Body)
			}
		}},
		{"stable_client_token", 10002, func(m *mock) reply {
			return m.post(pathStableClient, map[string]string{"client_key": appA, "client_secret": secretA, "grant_type": "client_credential"})
		}, func(t *testing.T, r reply) {
			if r.num(t, "data.error_code") != 10002 {
				t.Errorf("answer %s", r.Body)
			}
		}},
		{"notify_v1", 2000, func(m *mock) reply {
			return m.notifyV1(m.token(appA, secretA), appA, tmplA, userA, goodData(), "")
		}, func(t *testing.T, r reply) { wantErrNo(t, r, 2000) }},
		{"notify_v2", 28001005, func(m *mock) reply {
			return m.notifyV2(m.clientToken(appA, secretA), tmplA, userA, goodData())
		}, func(t *testing.T, r reply) {
			wantErrNo(t, r, 28001005)
			if !logIDPattern.MatchString(r.str(t, "log_id")) {
				t.Errorf("no log_id: %s", r.Body)
			}
		}},
		{"antidirt", 500, func(m *mock) reply {
			return m.post(pathAntidirt, tasks("x"), "X-Token", m.token(appA, secretA))
		}, func(t *testing.T, r reply) {
			if r.Status != 500 || r.num(t, "code") != 500 {
				t.Errorf("answer %d %s", r.Status, r.Body)
			}
		}},
		{"censor", 28001005, func(m *mock) reply {
			return m.post(pathCensor, map[string]any{"app_id": appA, "content": []string{"x"}}, "access-token", m.clientToken(appA, secretA))
		}, func(t *testing.T, r reply) { wantErrNo(t, r, 28001005) }},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			code := tc.errcode
			if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: tc.endpoint,
				AppID: appA, ErrCode: &code, Times: 1}); err != nil {
				t.Fatalf("add fault: %v", err)
			}
			tc.check(t, tc.call(m))
			// Fired once: the next call is served normally.
			r := tc.call(m)
			if r.Status != http.StatusOK {
				t.Fatalf("after the fault: status %d: %s", r.Status, r.Body)
			}
			for _, path := range []string{"err_no", "data.error_code"} {
				if v, ok := r.get(path); ok && v.(interface{ String() string }).String() != "0" {
					t.Fatalf("after the fault: %s = %v: %s", path, v, r.Body)
				}
			}
		})
	}
	t.Run("http_status and errmsg", func(t *testing.T) {
		t.Parallel()
		m := start(t)
		tok := m.token(appA, secretA)
		if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: "notify_v1",
			HTTPStatus: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
		body := `{"access_token":"` + tok + `","app_id":"` + appA + `","tpl_id":"` + tmplA + `","open_id":"` + userA + `","data":{"物品名称":"a","购买金额":"1","number3":"1"}}`
		resp, err := m.Control.HTTP.Post(m.URL+pathNotifyV1, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("status %d, want 503", resp.StatusCode)
		}
		code := 1009
		if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: "notify_v1",
			ErrCode: &code, ErrMsg: "banned for the test", Times: 1}); err != nil {
			t.Fatal(err)
		}
		r := m.post(pathNotifyV1, body)
		wantErrNo(t, r, 1009)
		if r.str(t, "err_tips") != "banned for the test" {
			t.Errorf("err_tips %q", r.str(t, "err_tips"))
		}
		if n := m.remaining(userA, tmplA); n != 5 {
			t.Errorf("a faulted send consumed a grant: remaining %d", n)
		}
	})
	t.Run("unknown endpoint name", func(t *testing.T) {
		t.Parallel()
		m := start(t)
		code := 1
		if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: "subscribe_send",
			ErrCode: &code}); err == nil {
			t.Fatal("a fault on an endpoint Douyin does not have was accepted")
		}
	})
}

// TestDemoApp: the demo app works end to end with its documented ids.
func TestDemoApp(t *testing.T) {
	t.Parallel()
	mk := mocktest.Start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{douyin.DemoApp()}}))
	m := &mock{t: t, Mock: mk, ctx: t.Context()}
	tok := m.token(douyin.DemoAppID, douyin.DemoSecret)
	r := m.notifyV1(tok, douyin.DemoAppID, douyin.DemoTemplateOrder, douyin.DemoUserAlice,
		map[string]any{"物品名称": "机械键盘", "快递单号": "SF1234567890", "发货时间": "2025年3月14日"}, "")
	wantErrNo(t, r, 0)
	client := m.clientToken(douyin.DemoAppID, douyin.DemoSecret)
	data := map[string]any{"物品名称": "机械键盘", "快递单号": "SF1234567890", "发货时间": "2025年3月14日"}
	wantErrNo(t, m.notifyV2(client, douyin.DemoTemplateOrder, douyin.DemoUserBob, data), 0)
	m.advance(time.Second)
	wantErrNo(t, m.notifyV2(client, douyin.DemoTemplateOrder, douyin.DemoUserBob, data), 28014043)
	wantErrNo(t, m.notifyV2(client, douyin.DemoTemplateRemind, douyin.DemoUserAlice,
		map[string]any{"预约项目": "体检", "预约时间": "2025年3月14日 15:00"}), 0)
}
