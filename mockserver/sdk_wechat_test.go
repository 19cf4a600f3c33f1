package mockserver_test

// These tests prove that an unmodified public WeChat SDK,
// github.com/silenceper/wechat/v2, works against the mock when only its HTTP
// transport is swapped (docs/platforms/wechat.md, "Pointing public SDKs at the mock", way 2). Whatever the SDK
// decodes, the real api.weixin.qq.com must answer in the same shape, so a
// disagreement here is a bug in the mock — unless the platform docs side
// with the mock (see TestSilenceperSDKPubTemplateTitleList).
//
// SetHTTPClient writes the package-global util.DefaultHTTPClient, so none of
// these tests may call t.Parallel: Go runs top-level parallel tests only
// after every sequential one has finished, which keeps the global ours for
// the length of each test. Each test restores the client it found.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	wechat "github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/miniprogram"
	miniConfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/miniprogram/security"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	"github.com/silenceper/wechat/v2/util"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

const (
	sdkAppID    = "wx5d8f0a1c3b7e9f20"
	sdkSecret   = "4f1c7a9e2b8d6053e1a4c7f9b2d8e605"
	sdkUser     = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" // granted one send of sdkTemplate
	sdkUserLong = "o6_bmjrPTlm6_2sgVt7hMZOLong1" // long-term grant of sdkLongTmpl
	sdkStranger = "o6_bmjrPTlm6_2sgVt7hMZNoGrnt" // a user with no grant
	sdkTemplate = "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ7wjdw80"
	sdkLongTmpl = "lOnGtErMtEmPlAtE0000000000000000000000000001"
	weixinHost  = "api.weixin.qq.com"
)

// rewriteTransport sends every call for api.weixin.qq.com to the mock and
// refuses any other host, so a test can never reach the real platform.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (rt rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != weixinHost {
		return nil, fmt.Errorf("test transport: refusing call to %s (only %s goes to the mock)", r.URL.Host, weixinHost)
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = rt.target.Scheme, rt.target.Host, rt.target.Host
	return rt.next.RoundTrip(out)
}

func sdkSeed() mockapi.Seed {
	return mockapi.Seed{Apps: []mockapi.App{{
		Platform: mockapi.PlatformWeChat, AppID: sdkAppID, Secret: sdkSecret,
		Users: []string{sdkUser, sdkUserLong, sdkStranger},
		Templates: []mockapi.Template{
			{TemplateID: sdkTemplate, Title: "订单发货通知", Keywords: []string{"thing1", "character_string2", "date3"},
				KeywordNames: map[string]string{"thing1": "商品名称", "character_string2": "快递单号", "date3": "发货时间"}},
			{TemplateID: sdkLongTmpl, Title: "预约提醒", Keywords: []string{"name1", "time2"}, Type: mockapi.TemplateLongTerm},
		},
		Grants: []mockapi.Grant{
			{OpenID: sdkUser, TemplateID: sdkTemplate, Count: 1},
			{OpenID: sdkUserLong, TemplateID: sdkLongTmpl, LongTerm: true},
		},
	}}}
}

// startSDK runs a mock seeded with sdkSeed and points the SDK's global HTTP
// client at it until the test ends.
func startSDK(t *testing.T) *mocktest.Mock {
	t.Helper()
	m := mocktest.Start(t, mockserver.WithSeed(sdkSeed()))
	target, err := url.Parse(m.URL)
	if err != nil {
		t.Fatalf("mock URL: %v", err)
	}
	prev := util.DefaultHTTPClient
	wechat.NewWechat().SetHTTPClient(&http.Client{Transport: rewriteTransport{target: target, next: m.Control.HTTP.Transport}})
	t.Cleanup(func() { util.DefaultHTTPClient = prev })
	return m
}

// newMini is an SDK mini-program client with its own token cache.
func newMini(appID, secret string, stable bool) *miniprogram.MiniProgram {
	return wechat.NewWechat().GetMiniProgram(&miniConfig.Config{
		AppID: appID, AppSecret: secret, Cache: cache.NewMemory(), UseStableAK: stable,
	})
}

func shippedMessage(openID string) *subscribe.Message {
	return &subscribe.Message{
		ToUser: openID, TemplateID: sdkTemplate, Page: "pages/order/detail?id=42",
		Data: map[string]*subscribe.DataItem{
			"thing1":            {Value: "无线耳机"},
			"character_string2": {Value: "SF1234567890"},
			"date3":             {Value: "2024年5月1日"},
		},
	}
}

func journal(t *testing.T, m *mocktest.Mock, endpoint string) []mockapi.Request {
	t.Helper()
	rs, err := m.Control.Requests(context.Background(), mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: endpoint})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	return rs.Requests
}

func inbox(t *testing.T, m *mocktest.Mock, openID string) []mockapi.Message {
	t.Helper()
	ms, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{Platform: mockapi.PlatformWeChat, OpenID: openID})
	if err != nil {
		t.Fatalf("read inbox: %v", err)
	}
	return ms.Messages
}

func TestSilenceperSDKToken(t *testing.T) {
	tests := []struct {
		name       string
		stable     bool
		endpoint   string // the one the SDK must call
		notCalled  string // the one it must not
		wantPrefix string
	}{
		{"default /cgi-bin/token", false, "token", "stable_token", "86_"},
		{"UseStableAK /cgi-bin/stable_token", true, "stable_token", "token", "86_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startSDK(t)
			mini := newMini(sdkAppID, sdkSecret, tt.stable)
			var tokens []string
			for range 3 {
				tok, err := mini.GetContext().GetAccessToken()
				if err != nil {
					t.Fatalf("GetAccessToken: %v", err)
				}
				tokens = append(tokens, tok)
			}
			if !strings.HasPrefix(tokens[0], tt.wantPrefix) || len(tokens[0]) < 64 {
				t.Errorf("token %q does not look like a WeChat token", tokens[0])
			}
			// expires_in 7200 lets the SDK cache the token (it keeps it
			// expires_in-1500 s, or -300 s for stable): one fetch, not three.
			if tokens[1] != tokens[0] || tokens[2] != tokens[0] {
				t.Errorf("tokens %v: the SDK did not cache the first", tokens)
			}
			if got := journal(t, m, tt.endpoint); len(got) != 1 || got[0].ErrCode != 0 || got[0].AppID != sdkAppID {
				t.Errorf("journal of %s = %+v, want one successful call for %s", tt.endpoint, got, sdkAppID)
			}
			if got := journal(t, m, tt.notCalled); len(got) != 0 {
				t.Errorf("the SDK called %s %d times, want 0", tt.notCalled, len(got))
			}
			// The token is one the mock honours.
			if _, err := mini.GetSubscribe().ListTemplates(); err != nil {
				t.Errorf("ListTemplates with the fetched token: %v", err)
			}
		})
	}
}

func TestSilenceperSDKTokenErrors(t *testing.T) {
	tests := []struct {
		name     string
		appID    string
		secret   string
		stable   bool
		wantCode string
	}{
		{"wrong secret", sdkAppID, "0000wrongsecret0000", false, "errcode=40125"},
		{"wrong secret, stable", sdkAppID, "0000wrongsecret0000", true, "errcode=40125"},
		{"unknown appid", "wx0000000000000000", sdkSecret, false, "errcode=40013"},
		{"unknown appid, stable", "wx0000000000000000", sdkSecret, true, "errcode=40013"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startSDK(t)
			mini := newMini(tt.appID, tt.secret, tt.stable)
			_, err := mini.GetContext().GetAccessToken()
			if err == nil || !strings.Contains(err.Error(), tt.wantCode) {
				t.Fatalf("GetAccessToken error = %v, want one mentioning %s", err, tt.wantCode)
			}
			// The SDK reports token failures as plain errors, not
			// *util.CommonError (docs/platforms/wechat.md): a sender must parse the text.
			var ce *util.CommonError
			if errors.As(err, &ce) {
				t.Errorf("token error is a *util.CommonError; docs/platforms/wechat.md says it is not — update the doc")
			}
			for _, secret := range []string{tt.secret, sdkSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes a secret", err)
				}
			}
			// A send needing that token fails the same way and delivers nothing.
			if err := mini.GetSubscribe().Send(shippedMessage(sdkUser)); err == nil || !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("Send with a bad token source: error = %v, want %s", err, tt.wantCode)
			}
			if got := inbox(t, m, ""); len(got) != 0 {
				t.Errorf("inbox holds %d messages, want 0", len(got))
			}
		})
	}
}

func TestSilenceperSDKSend(t *testing.T) {
	m := startSDK(t)
	sub := newMini(sdkAppID, sdkSecret, false).GetSubscribe()

	// Send: the SDK writes every field, "" ones and "color" included.
	if err := sub.Send(shippedMessage(sdkUser)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := inbox(t, m, sdkUser)
	if len(got) != 1 {
		t.Fatalf("inbox for %s holds %d messages, want 1", sdkUser, len(got))
	}
	msg := got[0]
	wantData := map[string]string{"thing1": "无线耳机", "character_string2": "SF1234567890", "date3": "2024年5月1日"}
	if msg.AppID != sdkAppID || msg.TemplateID != sdkTemplate || fmt.Sprint(msg.Data) != fmt.Sprint(wantData) {
		t.Errorf("inbox message = %+v, want app %s template %s data %v", msg, sdkAppID, sdkTemplate, wantData)
	}
	// Empty miniprogram_state and lang mean the documented defaults.
	if msg.Page != "pages/order/detail?id=42" || msg.State != "formal" || msg.Lang != "zh_CN" {
		t.Errorf("page/state/lang = %q/%q/%q, want the page, formal, zh_CN", msg.Page, msg.State, msg.Lang)
	}

	// SendGetMsgID: the id the SDK returns is the one in the inbox. Message
	// ids exceed 2^53; the SDK decodes them as int64, without loss.
	for i := range 3 {
		long := &subscribe.Message{ToUser: sdkUserLong, TemplateID: sdkLongTmpl,
			Data: map[string]*subscribe.DataItem{"name1": {Value: "张三"}, "time2": {Value: "2024年5月1日 15:01"}}}
		id, err := sub.SendGetMsgID(long)
		if err != nil {
			t.Fatalf("SendGetMsgID #%d: %v", i, err)
		}
		if id <= 1<<53 {
			t.Errorf("msgid %d fits in a float64; the mock should issue ids above 2^53", id)
		}
		held := inbox(t, m, sdkUserLong)
		if len(held) != i+1 {
			t.Fatalf("inbox for %s holds %d messages after %d sends", sdkUserLong, len(held), i+1)
		}
		if last := held[len(held)-1]; last.MsgID != strconv.FormatInt(id, 10) {
			t.Errorf("SendGetMsgID = %d, inbox msgid = %s", id, last.MsgID)
		}
	}
}

func TestSilenceperSDKSendErrors(t *testing.T) {
	withData := func(openID, templateID string, data map[string]*subscribe.DataItem) *subscribe.Message {
		return &subscribe.Message{ToUser: openID, TemplateID: templateID, Data: data}
	}
	tooLong := shippedMessage(sdkUser)
	tooLong.Data["thing1"] = &subscribe.DataItem{Value: strings.Repeat("长", 21)} // thing: ≤ 20 characters
	badNumber := shippedMessage(sdkUser)
	badNumber.Data["character_string2"] = &subscribe.DataItem{Value: "SF-12 34"}
	tests := []struct {
		name    string
		msg     *subscribe.Message
		code    int64
		msgHint string // text the errmsg must carry, if any
	}{
		{"no grant", shippedMessage(sdkStranger), 43101, "user refuse to accept the msg"},
		{"keyword too long", tooLong, 47003, "data.thing1"},
		{"keyword bad characters", badNumber, 47003, "data.character_string2"},
		{"missing keyword", withData(sdkUser, sdkTemplate, map[string]*subscribe.DataItem{"thing1": {Value: "x"}}), 47003, "data.character_string2"},
		{"unknown user", shippedMessage("o6_nobody_at_all_000000000000"), 40003, "invalid openid"},
		{"unknown template", withData(sdkUser, "no-such-template", shippedMessage(sdkUser).Data), 40037, "invalid template_id"},
		{"empty touser", shippedMessage(""), 40003, ""},
		{"sensitive word", withData(sdkUser, sdkTemplate, map[string]*subscribe.DataItem{
			"thing1": {Value: "限时违禁品特卖"}, "character_string2": {Value: "A1"}, "date3": {Value: "2024年5月1日"},
		}), 45168, ""},
	}
	m := startSDK(t)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{Risky: []mockapi.ContentWord{{Word: "违禁品"}}}); err != nil {
		t.Fatalf("set content rules: %v", err)
	}
	sub := newMini(sdkAppID, sdkSecret, false).GetSubscribe()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sub.Send(tt.msg)
			var ce *util.CommonError
			if !errors.As(err, &ce) {
				t.Fatalf("Send error = %v (%T), want *util.CommonError", err, err)
			}
			if ce.ErrCode != tt.code || !strings.Contains(ce.ErrMsg, tt.msgHint) || !strings.Contains(ce.ErrMsg, "rid: ") {
				t.Errorf("Send: errcode %d errmsg %q, want %d with %q and a rid", ce.ErrCode, ce.ErrMsg, tt.code, tt.msgHint)
			}
			// SendGetMsgID reports the same code, as text only.
			_, err = sub.SendGetMsgID(tt.msg)
			if want := fmt.Sprintf("errcode=%d ", tt.code); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("SendGetMsgID error = %v, want one containing %q", err, want)
			}
		})
	}
	// None of the rejected sends spent the one grant or reached the inbox.
	if got := inbox(t, m, ""); len(got) != 0 {
		t.Fatalf("inbox holds %d messages after only failing sends", len(got))
	}
	if err := sub.Send(shippedMessage(sdkUser)); err != nil {
		t.Fatalf("the grant was spent by a failing send: %v", err)
	}
	// The one-time grant is now used up.
	var ce *util.CommonError
	if err := sub.Send(shippedMessage(sdkUser)); !errors.As(err, &ce) || ce.ErrCode != 43101 {
		t.Fatalf("second send on a one-time grant: %v, want errcode 43101", err)
	}
}

// A fault injected on the platform surfaces through the SDK like a real
// platform error; the SDK does not refresh its token on 40001 (docs/platforms/wechat.md).
func TestSilenceperSDKInjectedFault(t *testing.T) {
	m := startSDK(t)
	code := 40001
	if _, err := m.Control.AddFault(context.Background(), mockapi.Fault{
		Platform: mockapi.PlatformWeChat, Endpoint: "subscribe_send", ErrCode: &code, Times: 1,
	}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	sub := newMini(sdkAppID, sdkSecret, false).GetSubscribe()
	var ce *util.CommonError
	if err := sub.Send(shippedMessage(sdkUser)); !errors.As(err, &ce) || ce.ErrCode != 40001 {
		t.Fatalf("Send under a 40001 fault: %v, want *util.CommonError 40001", err)
	}
	if err := sub.Send(shippedMessage(sdkUser)); err != nil {
		t.Fatalf("Send after the fault was spent: %v", err)
	}
	if n := len(journal(t, m, "token")); n != 1 {
		t.Errorf("token fetched %d times, want 1 (the SDK keeps its cached token)", n)
	}
}

func TestSilenceperSDKTemplates(t *testing.T) {
	m := startSDK(t)
	sub := newMini(sdkAppID, sdkSecret, false).GetSubscribe()

	list, err := sub.ListTemplates()
	if err != nil {
		t.Fatalf("ListTemplates: %v", err)
	}
	i := slices.IndexFunc(list.Data, func(it subscribe.TemplateItem) bool { return it.PriTmplID == sdkTemplate })
	if len(list.Data) != 2 || i < 0 {
		t.Fatalf("ListTemplates = %+v, want the 2 seeded templates", list.Data)
	}
	if it := list.Data[i]; it.Title != "订单发货通知" || it.Type != 2 || !strings.Contains(it.Content, "商品名称:{{thing1.DATA}}") {
		t.Errorf("template = %+v, want title 订单发货通知, type 2, content naming {{thing1.DATA}}", it)
	}

	cats, err := sub.GetCategory()
	if err != nil {
		t.Fatalf("GetCategory: %v", err)
	}
	if !slices.Contains(cats, subscribe.Category{ID: 616, Name: "公益"}) {
		t.Errorf("GetCategory = %+v, want 616 公益 among them", cats)
	}

	kws, err := sub.GetPubTemplateKeywordsByID("99")
	if err != nil {
		t.Fatalf("GetPubTemplateKeywordsByID: %v", err)
	}
	if kws.Count != 4 || len(kws.Data) != 4 || kws.Data[0] != (subscribe.PubTemplateKeywords{KID: 1, Name: "物品名称", Example: "名称", Rule: "thing"}) {
		t.Errorf("GetPubTemplateKeywordsByID(99) = %+v, want the 4 keywords of 付款成功通知", kws)
	}
	var ce *util.CommonError
	if _, err := sub.GetPubTemplateKeywordsByID("424242"); !errors.As(err, &ce) || ce.ErrCode != 200014 {
		t.Errorf("GetPubTemplateKeywordsByID(unknown) = %v, want errcode 200014", err)
	}

	// Add a private template from library tid 1432, send with it, delete it.
	id, err := sub.Add("1432", []int{1, 2, 3}, "发货提醒")
	if err != nil || id == "" {
		t.Fatalf("Add = %q, %v", id, err)
	}
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: mockapi.PlatformWeChat, AppID: sdkAppID,
		OpenID: sdkStranger, TemplateID: id, Count: 1}); err != nil {
		t.Fatalf("grant on the added template: %v", err)
	}
	// Keys are the library rule + kid: thing1, character_string2, date3.
	if err := sub.Send(&subscribe.Message{ToUser: sdkStranger, TemplateID: id, Data: shippedMessage("").Data}); err != nil {
		t.Errorf("Send with the added template: %v", err)
	}
	if _, err := sub.Add("1432", []int{1, 2, 3}, "发货提醒"); !errors.As(err, &ce) || ce.ErrCode != 200022 {
		t.Errorf("Add of the same tid and kids again = %v, want errcode 200022", err)
	}
	if _, err := sub.Add("1432", []int{1}, ""); !errors.As(err, &ce) || ce.ErrCode != 200020 {
		t.Errorf("Add with one kid = %v, want errcode 200020", err)
	}
	list, err = sub.ListTemplates()
	if err != nil || !slices.ContainsFunc(list.Data, func(it subscribe.TemplateItem) bool { return it.PriTmplID == id && it.Title == "订单发货通知" }) {
		t.Fatalf("ListTemplates after Add = %+v, %v; want %s among them", list, err, id)
	}
	if err := sub.Delete(id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	list, err = sub.ListTemplates()
	if err != nil || len(list.Data) != 2 {
		t.Fatalf("ListTemplates after Delete = %+v, %v; want the 2 seeded templates", list, err)
	}
	if err := sub.Delete(id); !errors.As(err, &ce) || ce.ErrCode == 0 {
		t.Errorf("Delete of a deleted template = %v, want a *util.CommonError", err)
	}
}

// The platform documents tid as a number ("tid": 99 in the official example,
// type number in the field table; medivhzhan/weapp decodes it as int), and
// the mock answers that way. silenceper v2.1.10 declares
// PubTemplateTitle.TID as a string, so its GetPubTemplateTitleList cannot
// decode the platform's answer — a bug in the SDK, reproduced faithfully
// here. If this test starts failing, either the SDK changed TID's type (then
// assert the titles instead) or the mock started writing tid as a string
// (then the mock is wrong: see the official getPubTemplateTitleList page).
func TestSilenceperSDKPubTemplateTitleList(t *testing.T) {
	m := startSDK(t)
	sub := newMini(sdkAppID, sdkSecret, false).GetSubscribe()
	_, err := sub.GetPubTemplateTitleList(&subscribe.GetPubTemplateTitleListRequest{IDs: "616,307", Start: 0, Limit: 30})
	if err == nil || !strings.Contains(err.Error(), "tid") || !strings.Contains(err.Error(), "of type string") {
		t.Fatalf("GetPubTemplateTitleList error = %v, want the SDK's decode failure on numeric tid", err)
	}
	// The call itself succeeded on the mock: the failure is the SDK's decoding.
	if got := journal(t, m, "getpubtemplatetitles"); len(got) != 1 || got[0].ErrCode != 0 {
		t.Errorf("journal = %+v, want one successful getpubtemplatetitles", got)
	}
	// Error paths carry no tid and decode fine.
	var ce *util.CommonError
	for _, tt := range []struct {
		req  subscribe.GetPubTemplateTitleListRequest
		code int64
	}{
		{subscribe.GetPubTemplateTitleListRequest{IDs: "616", Start: 0, Limit: 31}, 200017},
		{subscribe.GetPubTemplateTitleListRequest{IDs: "616", Start: -1, Limit: 10}, 200016},
		{subscribe.GetPubTemplateTitleListRequest{IDs: "abc", Start: 0, Limit: 10}, 200019},
		{subscribe.GetPubTemplateTitleListRequest{IDs: "616", Start: 5, Limit: 10}, 0},
	} {
		_, err := sub.GetPubTemplateTitleList(&tt.req)
		switch {
		case tt.code == 0 && err != nil:
			// start past the end: an empty page, which the SDK decodes.
			t.Errorf("GetPubTemplateTitleList(%+v) = %v, want an empty page", tt.req, err)
		case tt.code != 0 && (!errors.As(err, &ce) || ce.ErrCode != tt.code):
			t.Errorf("GetPubTemplateTitleList(%+v) = %v, want errcode %d", tt.req, err, tt.code)
		}
	}
}

func TestSilenceperSDKSecurity(t *testing.T) {
	m := startSDK(t)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "代开发票", Label: 10001}},
		Review: []mockapi.ContentWord{{Word: "加微信", Label: 20008}},
	}); err != nil {
		t.Fatalf("set content rules: %v", err)
	}
	mini := newMini(sdkAppID, sdkSecret, false)
	sec := mini.GetSecurity()

	t.Run("v2 verdicts", func(t *testing.T) {
		tests := []struct {
			content string
			suggest security.CheckSuggest
			label   security.CheckLabel
			keyword string
		}{
			{"今天天气很好", security.CheckSuggestPass, 100, ""},
			{"专业代开发票，价格优惠", security.CheckSuggestRisky, 10001, "代开发票"},
			{"有事加微信聊", security.CheckSuggestReview, 20008, "加微信"},
		}
		for _, tt := range tests {
			res, err := sec.MsgCheck(&security.MsgCheckRequest{OpenID: sdkUser, Scene: security.MsgSceneComment, Content: tt.content})
			if err != nil {
				t.Fatalf("MsgCheck(%q): %v", tt.content, err)
			}
			// A v2 verdict is data, never an error: errcode 0 even for risky.
			if res.ErrCode != 0 || res.Result.Suggest != tt.suggest || res.Result.Label != tt.label || res.TraceID == "" {
				t.Errorf("MsgCheck(%q) = %+v, want %s/%d with a trace_id", tt.content, res, tt.suggest, tt.label)
			}
			hit := false
			for _, d := range res.Detail {
				hit = hit || d.Strategy == "keyword" && d.Keyword == tt.keyword && d.Label == tt.label && d.ErrCode == 0
			}
			if tt.keyword != "" && !hit {
				t.Errorf("MsgCheck(%q) detail = %+v, want a keyword item for %q", tt.content, res.Detail, tt.keyword)
			}
			if len(res.Detail) == 0 || res.Detail[0].Strategy != "content_model" || res.Detail[0].Prob == 0 {
				t.Errorf("MsgCheck(%q) detail = %+v, want a content_model item with prob first", tt.content, res.Detail)
			}
		}
	})

	t.Run("v2 errors", func(t *testing.T) {
		tests := []struct {
			name string
			req  security.MsgCheckRequest
			code int64
		}{
			{"unknown openid", security.MsgCheckRequest{OpenID: "o6_nobody", Scene: security.MsgSceneForum, Content: "hi"}, 40003},
			{"bad scene", security.MsgCheckRequest{OpenID: sdkUser, Scene: 9, Content: "hi"}, 40129},
			{"empty content", security.MsgCheckRequest{OpenID: sdkUser, Scene: security.MsgSceneForum}, 47001},
		}
		for _, tt := range tests {
			_, err := sec.MsgCheck(&tt.req)
			var ce *util.CommonError
			if !errors.As(err, &ce) || ce.ErrCode != tt.code {
				t.Errorf("%s: MsgCheck error = %v, want errcode %d", tt.name, err, tt.code)
			}
		}
	})

	t.Run("v1 and content.CheckText", func(t *testing.T) {
		risky := "专业代开发票"
		if _, err := sec.MsgCheckV1("今天天气很好"); err != nil {
			t.Errorf("MsgCheckV1(clean): %v", err)
		}
		// v1 has no review verdict: review-level text passes.
		if _, err := sec.MsgCheckV1("有事加微信聊"); err != nil {
			t.Errorf("MsgCheckV1(review-level): %v", err)
		}
		var ce *util.CommonError
		if _, err := sec.MsgCheckV1(risky); !errors.As(err, &ce) || ce.ErrCode != 87014 {
			t.Errorf("MsgCheckV1(risky) = %v, want errcode 87014", err)
		}
		cs := mini.GetContentSecurity()
		if err := cs.CheckText("今天天气很好"); err != nil {
			t.Errorf("CheckText(clean): %v", err)
		}
		if err := cs.CheckText(risky); !errors.As(err, &ce) || ce.ErrCode != 87014 || !strings.HasPrefix(ce.ErrMsg, "risky content") {
			t.Errorf("CheckText(risky) = %v, want errcode 87014 risky content", err)
		}
	})

	if got := journal(t, m, "msg_sec_check"); len(got) != 11 {
		t.Errorf("journal holds %d msg_sec_check calls, want 11", len(got))
	}
}
