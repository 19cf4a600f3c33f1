package sender_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	demo "github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender/internal/config"
)

// demoConfig is a sender for the mock's demo world: one app per platform
// (the WeChat, Douyin and Baidu apps list their templates from the mock;
// the Kuaishou one declares its template), plus an Alipay app without a
// default page.
func demoConfig(t *testing.T, mockURL string) *config.Config {
	t.Helper()
	c := testConfig(t, mockURL)
	c.Storage.Path = filepath.Join(t.TempDir(), "demo.db")
	c.Apps = []config.App{
		{Name: "wx", Platform: "wechat", AppID: demo.DemoWeChatAppID, Secret: demo.DemoWeChatSecret, BaseURL: mockURL},
		{Name: "dy", Platform: "douyin", AppID: demo.DemoDouyinAppID, Secret: demo.DemoDouyinSecret, BaseURL: mockURL},
		{Name: "bd", Platform: "baidu", AppID: demo.DemoBaiduAppKey, Secret: demo.DemoBaiduSecret, BaseURL: mockURL},
		{Name: "ks", Platform: "kuaishou", AppID: demo.DemoKuaishouAppID, Secret: demo.DemoKuaishouSecret, BaseURL: mockURL,
			DefaultPage: "pages/index/index", Templates: map[string][]string{demo.DemoKuaishouTemplate: {"thing01", "thing02", "date01", "amount01"}}},
		{Name: "ks-nopage", Platform: "kuaishou", AppID: demo.DemoKuaishouAppID, Secret: demo.DemoKuaishouSecret, BaseURL: mockURL},
		{Name: "ali", Platform: "alipay", AppID: demo.DemoAlipayAppID, PrivateKey: demo.DemoAlipayAppPrivateKey,
			AlipayPublicKey: demo.DemoAlipayPublicKey, BaseURL: mockURL, DefaultPage: "pages/index/index"},
		{Name: "ali-nopage", Platform: "alipay", AppID: demo.DemoAlipayAppID, PrivateKey: demo.DemoAlipayAppPrivateKey,
			AlipayPublicKey: demo.DemoAlipayPublicKey, BaseURL: mockURL},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("demo configuration: %v", err)
	}
	return c
}

type problemAnswer struct {
	Error    string `json:"error"`
	Reason   string `json:"reason"`
	Problems []struct {
		Field, Rule, Message string
	} `json:"problems"`
}

// sendEndpoints are the mock's endpoints that deliver a message.
var sendEndpoints = map[string]bool{"subscribe_send": true, "notify_v1": true, "notify_v2": true,
	"template_send": true, "alipay.open.app.mini.templatemessage.send": true, "send": true}

// TestValidationBeforeAccept drives the checks before the 202 over HTTP,
// platform by platform, against the mock's demo apps: the template's
// keywords (listed by WeChat, Douyin and Baidu, declared for Kuaishou),
// each platform's value rules and Alipay's page. A refused message never
// reaches the platform.
func TestValidationBeforeAccept(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t, mockserver.WithSeed(demo.Demo()))
	s := startService(t, mock, demoConfig(t, mock.URL), nil)

	wxData := func(mod func(map[string]string)) map[string]string {
		d := map[string]string{"thing1": "咖啡豆", "character_string2": "SF1234567890", "date3": "2026年11月25日", "phrase4": "已发货"}
		if mod != nil {
			mod(d)
		}
		return d
	}
	dyData := map[string]string{"物品名称": "咖啡豆", "快递单号": "SF1234567890", "发货时间": "2026年11月25日"}
	ksData := func(mod func(map[string]string)) map[string]string {
		d := map[string]string{"thing01": "咖啡豆", "thing02": "顺丰", "date01": "2026年11月25号", "amount01": "59.90"}
		if mod != nil {
			mod(d)
		}
		return d
	}
	bdData := map[string]string{"keyword1": "年度体检", "keyword2": "2026-11-25 15:00"}
	aliData := map[string]string{"keyword1": "A2026112500001", "keyword2": "已发货", "keyword3": "2026-11-25 15:00"}
	without := func(d map[string]string, k string) map[string]string {
		out := map[string]string{}
		for kk, v := range d {
			if kk != k {
				out[kk] = v
			}
		}
		return out
	}
	with := func(d map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for kk, vv := range d {
			if kk != k {
				out[kk] = vv
			}
		}
		return out
	}
	type tc struct {
		name, app, to, template string
		data                    map[string]string
		page                    string
		field, rule, reason     string // "" field: accepted
	}
	refused := []tc{
		{"wechat missing keyword", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(func(d map[string]string) { delete(d, "phrase4") }), "",
			"data.phrase4", "missing_keyword", "invalid_template"},
		{"wechat unknown keyword", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(func(d map[string]string) { d["thing9"] = "x" }), "",
			"data.thing9", "unknown_keyword", "invalid_template"},
		{"wechat unknown template", "wx", demo.DemoUserAlice, "no-such-template", wxData(nil), "",
			"template_id", "unknown_template", "invalid_template"},
		{"wechat thing over 20", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(func(d map[string]string) { d["thing1"] = strings.Repeat("豆", 21) }), "",
			"data.thing1", "keyword_exceeds_limit", "invalid_data"},
		{"wechat phrase over 5", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(func(d map[string]string) { d["phrase4"] = "正在配送途中" }), "",
			"data.phrase4", "keyword_exceeds_limit", "invalid_data"},
		{"wechat date malformed", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(func(d map[string]string) { d["date3"] = "next tuesday" }), "",
			"data.date3", "keyword_invalid", "invalid_data"},
		{"wechat page is a URL", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(nil), "https://example.com/x",
			"page", "page_invalid", "invalid_data"},
		{"douyin missing keyword", "dy", demo.DemoDouyinUser, demo.DemoDouyinTemplate, without(dyData, "快递单号"), "",
			"data.快递单号", "missing_keyword", "invalid_template"},
		{"douyin value over 50", "dy", demo.DemoDouyinUser, demo.DemoDouyinTemplate, with(dyData, "物品名称", strings.Repeat("豆", 51)), "",
			"data.物品名称", "keyword_exceeds_limit", "invalid_data"},
		{"douyin unknown template", "dy", demo.DemoDouyinUser, "MSG_NOT_THE_APPS", dyData, "",
			"template_id", "unknown_template", "invalid_template"},
		{"baidu missing keyword", "bd", demo.DemoBaiduUser, demo.DemoBaiduTemplate, without(bdData, "keyword2"), "",
			"data.keyword2", "missing_keyword", "invalid_template"},
		{"baidu value on two lines", "bd", demo.DemoBaiduUser, demo.DemoBaiduTemplate, with(bdData, "keyword1", "年度\n体检"), "",
			"data.keyword1", "keyword_invalid", "invalid_data"},
		{"kuaishou date format", "ks", demo.DemoKuaishouUser, demo.DemoKuaishouTemplate, ksData(func(d map[string]string) { d["date01"] = "2026-11-25" }), "",
			"data.date01", "keyword_invalid", "invalid_data"},
		{"kuaishou amount with unit", "ks", demo.DemoKuaishouUser, demo.DemoKuaishouTemplate, ksData(func(d map[string]string) { d["amount01"] = "59.90元" }), "",
			"data.amount01", "keyword_invalid", "invalid_data"},
		{"kuaishou missing declared keyword", "ks", demo.DemoKuaishouUser, demo.DemoKuaishouTemplate, ksData(func(d map[string]string) { delete(d, "thing02") }), "",
			"data.thing02", "missing_keyword", "invalid_template"},
		{"kuaishou undeclared template", "ks", demo.DemoKuaishouUser, "ks-other", ksData(nil), "",
			"template_id", "unknown_template", "invalid_template"},
		{"kuaishou without page or default_page", "ks-nopage", demo.DemoKuaishouUser, demo.DemoKuaishouTemplate, ksData(nil), "",
			"page", "page_required", "invalid_data"},
		{"alipay without page or default_page", "ali-nopage", demo.DemoAlipayUser, demo.DemoAlipayTemplate, aliData, "",
			"page", "page_required", "invalid_data"},
	}
	// The lists are fetched with the app's own token, never with one
	// fetched for them: each listing app's first send fetches it.
	for _, first := range []map[string]any{
		{"app": "wx", "to": demo.DemoUserAlice, "template_id": demo.DemoTemplateOrder, "data": wxData(nil)},
		{"app": "dy", "to": demo.DemoDouyinUser, "template_id": demo.DemoDouyinTemplate, "data": dyData},
		{"app": "bd", "to": demo.DemoBaiduUser, "template_id": demo.DemoBaiduTemplate, "data": bdData},
	} {
		s.wait(s.send(first), "delivered", 30*time.Second)
	}
	for _, app := range []string{"wx", "dy", "bd"} {
		waitTemplates(t, s, app, func(v appTemplates) bool { return v.Source == "platform" })
	}
	before, err := mock.Control.Requests(context.Background(), mockclient.RequestFilter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			code, b := s.do(http.MethodPost, "/v1/messages", map[string]any{"app": c.app, "to": c.to,
				"template_id": c.template, "data": c.data, "page": c.page})
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s, want 422", code, b)
			}
			var a problemAnswer
			mustJSON(t, b, &a)
			if a.Reason != c.reason {
				t.Errorf("reason %q, want %q (%s)", a.Reason, c.reason, b)
			}
			found := false
			for _, p := range a.Problems {
				if p.Field == c.field && p.Rule == c.rule && strings.Contains(p.Message, strings.TrimPrefix(c.field, "data.")) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem {field %s, rule %s} naming the field in %s", c.field, c.rule, b)
			}
		})
	}
	// The same checks hold for a broadcast: its data is checked once.
	code, b := s.do(http.MethodPost, "/v1/broadcasts", map[string]any{"app": "wx", "to": []string{demo.DemoUserAlice, demo.DemoUserBob},
		"template_id": demo.DemoTemplateOrder, "data": wxData(func(d map[string]string) { delete(d, "thing1") })})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"data.thing1"`) {
		t.Errorf("broadcast missing thing1: %d %s, want 422 naming data.thing1", code, b)
	}
	// Nothing refused reached a platform: the mock saw token and
	// template-list calls only.
	got, err := mock.Control.Requests(context.Background(), mockclient.RequestFilter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, r := range before.Requests {
		seen[r.Seq] = true
	}
	for _, r := range got.Requests {
		if seen[r.Seq] {
			continue
		}
		if sendEndpoints[r.Endpoint] || strings.Contains(r.Endpoint, "send") || strings.Contains(r.Endpoint, "notify") {
			t.Errorf("a refused message reached the platform: %s %s (%s)", r.Platform, r.Endpoint, r.Path)
		}
	}

	accepted := []tc{
		{"wechat", "wx", demo.DemoUserAlice, demo.DemoTemplateOrder, wxData(nil), "pages/order/detail?id=1", "", "", ""},
		{"douyin", "dy", demo.DemoDouyinUser, demo.DemoDouyinTemplate, dyData, "", "", "", ""},
		{"baidu with its subscribe_id", "bd", demo.DemoBaiduUser, demo.DemoBaiduTemplate, with(bdData, "subscribe_id", "order-1"), "", "", "", ""},
		{"kuaishou", "ks", demo.DemoKuaishouUser, demo.DemoKuaishouTemplate, ksData(nil), "", "", "", ""},
		{"alipay on its default_page", "ali", demo.DemoAlipayUser, demo.DemoAlipayTemplate, aliData, "", "", "", ""},
		{"alipay with a page", "ali-nopage", demo.DemoAlipayUser, demo.DemoAlipayTemplate, aliData, "pages/order/detail", "", "", ""},
	}
	// (s.send and s.wait fail the test itself: no subtests here.)
	for _, c := range accepted {
		id := s.send(map[string]any{"app": c.app, "to": c.to, "template_id": c.template, "data": c.data, "page": c.page})
		if m := s.wait(id, "delivered", 30*time.Second); m.Status != "delivered" {
			t.Errorf("%s: %s, want delivered (%+v)", c.name, m.Status, m.Attempts)
		}
	}
	// The apps show where their templates came from.
	for app, want := range map[string]string{"wx": "platform", "dy": "platform", "bd": "platform", "ks": "config", "ali": "none"} {
		code, b := s.do(http.MethodGet, "/v1/apps/"+app, nil)
		var v struct {
			Templates struct {
				Source string `json:"source"`
				Count  int    `json:"count"`
			} `json:"templates"`
		}
		if code != http.StatusOK {
			t.Fatalf("GET /v1/apps/%s: %d %s", app, code, b)
		}
		mustJSON(t, b, &v)
		if v.Templates.Source != want || (want != "none" && v.Templates.Count == 0) {
			t.Errorf("%s: templates %+v, want source %s with templates", app, v.Templates, want)
		}
	}
}

type appTemplates struct {
	Source string `json:"source"`
	Count  int    `json:"count"`
	Error  string `json:"error"`
}

// waitTemplates polls GET /v1/apps/{app} until its templates satisfy ok.
func waitTemplates(t *testing.T, s *svc, app string, ok func(appTemplates) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, b := s.do(http.MethodGet, "/v1/apps/"+app, nil)
		var v struct {
			Templates appTemplates `json:"templates"`
		}
		mustJSON(t, b, &v)
		if code == http.StatusOK && ok(v.Templates) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/apps/%s: %d %s: the templates never came as wanted", app, code, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestValidationWhenTheListIsDown: a platform whose template list cannot
// be fetched does not block sends; what is declared is still checked, and
// the app shows the fetch's error. Once the list answers, an unknown
// keyword is refused again.
func TestValidationWhenTheListIsDown(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t, mockserver.WithSeed(demo.Demo()))
	addFault(t, mock, mockapi.Fault{Platform: "wechat", Endpoint: "gettemplate", HTTPStatus: http.StatusServiceUnavailable})
	cfg := demoConfig(t, mock.URL)
	cfg.Apps = cfg.Apps[:1]
	cfg.Apps[0].Templates = map[string][]string{"declared-only": {"thing1"}}
	s := startService(t, mock, cfg, nil)

	data := map[string]string{"thing1": "咖啡豆", "character_string2": "SF1", "date3": "2026年11月25日", "phrase4": "已发货", "thing9": "extra"}
	// The token the list needs comes with the first send.
	s.wait(s.send(map[string]any{"app": "wx", "to": demo.DemoUserAlice, "template_id": demo.DemoTemplateOrder,
		"data": map[string]string{"thing1": "咖啡豆", "character_string2": "SF1", "date3": "2026年11月25日", "phrase4": "已发货"}}),
		"delivered", 30*time.Second)
	waitTemplates(t, s, "wx", func(v appTemplates) bool { return strings.Contains(v.Error, "503") })
	// Not refused for want of a list (the platform will judge it).
	code, b := s.do(http.MethodPost, "/v1/messages", map[string]any{"app": "wx", "to": demo.DemoUserAlice,
		"template_id": demo.DemoTemplateOrder, "data": data})
	if code != http.StatusAccepted {
		t.Fatalf("list down: %d %s, want 202", code, b)
	}
	// The declared template is checked.
	code, b = s.do(http.MethodPost, "/v1/messages", map[string]any{"app": "wx", "to": demo.DemoUserAlice,
		"template_id": "declared-only", "data": map[string]string{"thing2": "x"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"data.thing1"`) {
		t.Fatalf("declared template, list down: %d %s, want 422 naming data.thing1", code, b)
	}
	code, b = s.do(http.MethodGet, "/v1/apps/wx", nil)
	var v struct {
		Templates struct {
			Source string `json:"source"`
			Error  string `json:"error"`
		} `json:"templates"`
	}
	mustJSON(t, b, &v)
	if code != http.StatusOK || v.Templates.Source != "config" || !strings.Contains(v.Templates.Error, "503") {
		t.Fatalf("GET /v1/apps/wx: %d %s, want source config and the fetch's 503", code, b)
	}
	if err := mock.Control.ClearFaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The list is fetched again once the refetch floor has passed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b = s.do(http.MethodPost, "/v1/messages", map[string]any{"app": "wx", "to": demo.DemoUserAlice,
			"template_id": demo.DemoTemplateOrder, "data": data})
		if code == http.StatusUnprocessableEntity {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the list came back: %d %s, want 422 for data.thing9", code, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var a problemAnswer
	if err := json.Unmarshal(b, &a); err != nil || len(a.Problems) == 0 || a.Problems[0].Field != "data.thing9" {
		t.Fatalf("%s, want the problem data.thing9", b)
	}
}
