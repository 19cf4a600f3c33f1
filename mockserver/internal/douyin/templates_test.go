package douyin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

const subPath = "/api/notification/v2/subscription/"

// open calls an open.douyin.com API with a client token: GET with query q,
// or POST with body.
func (m *mock) open(tok, method, name string, q url.Values, body any) reply {
	m.t.Helper()
	path := subPath + name + "/"
	if q != nil {
		path += "?" + q.Encode()
	}
	return m.do(method, path, body, "access-token", tok)
}

func listLen(t *testing.T, r reply) (total int64, items []any) {
	t.Helper()
	total = r.num(t, "data.total_count")
	v, ok := r.get("data.template_list")
	if !ok {
		t.Fatalf("no data.template_list: %s", r.Body)
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("template_list is %T: %s", v, r.Body)
	}
	return total, list
}

func TestQueryTplList(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	q := func(kv ...string) url.Values {
		v := url.Values{"classification": {"1"}, "template_type": {"1"}, "page_num": {"1"}, "page_size": {"10"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		q      url.Values
		errNo  int64
		total  int64
		onPage int
	}{
		{"one-time templates", q(), 0, 3, 3},
		{"long-term templates", q("classification", "2"), 0, 1, 1},
		{"category filter", q("category_ids", "117,158"), 0, 1, 1},
		{"keyword in the title", q("keyword", "发货"), 0, 1, 1},
		{"keyword in a keyword name", q("keyword", "购买金额"), 0, 1, 1},
		{"second page", q("page_num", "2", "page_size", "2"), 0, 3, 1},
		{"past the last page", q("page_num", "9"), 0, 3, 0},
		{"template_type left out", q("template_type", ""), 0, 3, 3},
		{"classification missing", q("classification", ""), 28001038, 0, 0},
		{"classification 3", q("classification", "3"), 28001038, 0, 0},
		{"template_type 2", q("template_type", "2"), 28001038, 0, 0},
		{"page_num 0", q("page_num", "0"), 28001038, 0, 0},
		{"page_size missing", q("page_size", ""), 28001038, 0, 0},
		{"page_size 51", q("page_size", "51"), 28001038, 0, 0},
		{"page_size not a number", q("page_size", "ten"), 28001038, 0, 0},
		{"bad category_ids", q("category_ids", "79;117"), 28001038, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.open(tok, http.MethodGet, "query_tpl_list", tc.q, nil)
			wantErrNo(t, r, tc.errNo)
			if !logIDPattern.MatchString(r.str(t, "log_id")) {
				t.Errorf("log_id %q", r.str(t, "log_id"))
			}
			if tc.errNo != 0 {
				if msg := r.str(t, "err_msg"); !strings.HasPrefix(msg, "参数错误: ") {
					t.Errorf("err_msg %q does not name the parameter", msg)
				}
				return
			}
			total, list := listLen(t, r)
			if total != tc.total || len(list) != tc.onPage {
				t.Fatalf("total %d with %d on the page, want %d and %d: %s", total, len(list), tc.total, tc.onPage, r.Body)
			}
		})
	}
	// The shape of one entry, as SKIT's model reads it.
	r := m.open(tok, http.MethodGet, "query_tpl_list", q("keyword", "订单发货"), nil)
	item := r.Fields["data"].(map[string]any)["template_list"].([]any)[0].(map[string]any)
	if item["template_id"].(interface{ String() string }).String() != "12259" || item["category_name"] != "电商平台" ||
		item["title"] != "订单发货通知" || len(item["host_list"].([]any)) != 3 || len(item["keyword_list"].([]any)) != 6 {
		t.Fatalf("entry %v", item)
	}
}

func TestTemplateManagementTokenAndMethod(t *testing.T) {
	t.Parallel()
	m := start(t)
	client := m.clientToken(appA, secretA)
	access := m.token(appA, secretA)
	page := url.Values{"classification": {"1"}, "page_num": {"1"}, "page_size": {"10"}}
	calls := []struct {
		method, name string
		q            url.Values
		body         any
	}{
		{http.MethodGet, "query_tpl_list", page, nil},
		{http.MethodPost, "create_tpl", nil, map[string]any{}},
		{http.MethodGet, "query_created_tpl_list", page, nil},
		{http.MethodPost, "add_app_tpl", nil, map[string]any{}},
		{http.MethodGet, "query_app_tpl", page, nil},
		{http.MethodPost, "delete_app_tpl", nil, map[string]any{}},
		{http.MethodPost, "query_user_subscribe", nil, map[string]any{}},
	}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name, tok string
				want      int64
			}{{"no token", "", 28001003}, {"unknown token", "clt.nope", 28001003}, {"getAccessToken token", access, 28001003}} {
				r := m.open(tc.tok, call.method, call.name, call.q, call.body)
				if wantErrNo(t, r, tc.want); r.str(t, "err_msg") == "" {
					t.Errorf("%s: no err_msg", tc.name)
				}
			}
			other := http.MethodGet
			if call.method == http.MethodGet {
				other = http.MethodPost
			}
			if r := m.open(client, other, call.name, call.q, call.body); r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s with %s: status %d, want 405", call.name, other, r.Status)
			}
		})
	}
	// An expired client token.
	m.advance(7201 * time.Second)
	if r := m.open(client, http.MethodGet, "query_app_tpl", page, nil); r.num(t, "err_no") != 28001008 {
		t.Fatalf("expired token: %s", r.Body)
	}
}

var msgIDPattern = regexp.MustCompile(`^MSG[0-9]{31}$`)

// add_app_tpl makes a template the control API lists and notify_user
// accepts; one registered through the control API is listed by
// query_app_tpl; delete_app_tpl removes it everywhere.
func TestAppTemplatesShareTheStore(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	r := m.open(tok, http.MethodPost, "add_app_tpl", nil, map[string]any{"template_id": 12259, "keyword_list": []string{"快递单号", "物品名称"}})
	wantErrNo(t, r, 0)
	msgID := r.str(t, "data.msg_id")
	if !msgIDPattern.MatchString(msgID) {
		t.Fatalf("msg_id %q", msgID)
	}
	tmpls, err := m.Control.Templates(m.ctx, mockapi.PlatformDouyin, appA)
	if err != nil {
		t.Fatal(err)
	}
	var got *mockapi.Template
	for i := range tmpls {
		if tmpls[i].TemplateID == msgID {
			got = &tmpls[i]
		}
	}
	if got == nil || got.Title != "订单发货通知" || strings.Join(got.Keywords, ",") != "快递单号,物品名称" || got.Type != mockapi.TemplateOneTime {
		t.Fatalf("control API templates %+v: want the added one", tmpls)
	}
	// The user subscribes (the control API grants), then notify_user delivers.
	if _, err := m.Control.Grant(m.ctx, mockapi.Grant{Platform: mockapi.PlatformDouyin, AppID: appA, OpenID: userA2, TemplateID: msgID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	wantErrNo(t, m.notifyV2(tok, msgID, userA2, map[string]any{"快递单号": "SF1", "物品名称": "键盘"}), 0)

	// query_app_tpl lists the added template and the seeded ones.
	q := url.Values{"classification": {"1"}, "page_num": {"1"}, "page_size": {"50"}}
	r = m.open(tok, http.MethodGet, "query_app_tpl", q, nil)
	wantErrNo(t, r, 0)
	total, list := listLen(t, r)
	if total != 2 || len(list) != 2 {
		t.Fatalf("query_app_tpl: %s", r.Body)
	}
	byID := map[string]map[string]any{}
	for _, it := range list {
		o := it.(map[string]any)
		byID[o["msg_id"].(string)] = o
	}
	if o := byID[msgID]; o == nil || o["category_name"] != "电商平台" || o["template_id"].(interface{ String() string }).String() != "12259" {
		t.Fatalf("added template in query_app_tpl: %v", byID[msgID])
	}
	if o := byID[tmplA]; o == nil || o["template_id"].(interface{ String() string }).String() != "0" ||
		strings.Join(anyStrings(o["keyword_list"]), ",") != "物品名称,购买金额,number3" {
		t.Fatalf("seeded template in query_app_tpl: %v", byID[tmplA])
	}
	// Category filter keeps only library-backed templates of the category.
	q.Set("category_ids", "79")
	if total, _ := listLen(t, m.open(tok, http.MethodGet, "query_app_tpl", q, nil)); total != 1 {
		t.Fatalf("category 79: %d templates, want 1", total)
	}
	q.Set("category_ids", "")
	q.Set("classification", "2")
	if total, _ := listLen(t, m.open(tok, http.MethodGet, "query_app_tpl", q, nil)); total != 1 {
		t.Fatalf("long-term: %d templates, want 1 (the seeded reminder)", total)
	}

	// delete_app_tpl removes it from the store: the control API no longer
	// lists it and notify_user refuses it.
	wantErrNo(t, m.open(tok, http.MethodPost, "delete_app_tpl", nil, map[string]any{"msg_id": msgID}), 0)
	tmpls, _ = m.Control.Templates(m.ctx, mockapi.PlatformDouyin, appA)
	for _, tp := range tmpls {
		if tp.TemplateID == msgID {
			t.Fatal("deleted template still listed by the control API")
		}
	}
	m.advance(2 * time.Second)
	wantErrNo(t, m.notifyV2(tok, msgID, userA2, map[string]any{"快递单号": "SF1", "物品名称": "键盘"}), 28001007)
	// A control-API template can be deleted through the platform API too.
	wantErrNo(t, m.open(tok, http.MethodPost, "delete_app_tpl", nil, map[string]any{"msg_id": tmplLong}), 0)
	if n := len(m.messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAddAndDeleteAppTplErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	tokB := m.clientToken(appB, secretB)
	cases := []struct {
		name string
		call string
		body any
	}{
		{"add: body not JSON", "add_app_tpl", `{"template_id":`},
		{"add: template_id a string", "add_app_tpl", `{"template_id":"12259","keyword_list":["物品名称"]}`},
		{"add: no template_id", "add_app_tpl", map[string]any{"keyword_list": []string{"物品名称"}}},
		{"add: unknown template", "add_app_tpl", map[string]any{"template_id": 99999, "keyword_list": []string{"物品名称"}}},
		{"add: no keywords", "add_app_tpl", map[string]any{"template_id": 12259, "keyword_list": []string{}}},
		{"add: six keywords", "add_app_tpl", map[string]any{"template_id": 12259, "keyword_list": []string{"物品名称", "快递单号", "发货时间", "订单状态", "收货地址", "快递公司"}}},
		{"add: keyword of another template", "add_app_tpl", map[string]any{"template_id": 12259, "keyword_list": []string{"购买金额"}}},
		{"add: keyword twice", "add_app_tpl", map[string]any{"template_id": 12259, "keyword_list": []string{"物品名称", "物品名称"}}},
		{"delete: no msg_id", "delete_app_tpl", map[string]any{}},
		{"delete: unknown msg_id", "delete_app_tpl", map[string]any{"msg_id": "MSGnope"}},
		{"delete: another app's template", "delete_app_tpl", map[string]any{"msg_id": tmplB}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.open(tok, http.MethodPost, tc.call, nil, tc.body)
			wantErrNo(t, r, 28001038)
			if !strings.HasPrefix(r.str(t, "err_msg"), "参数错误") {
				t.Errorf("err_msg %q", r.str(t, "err_msg"))
			}
		})
	}
	// Nothing was added or removed.
	for app, tk := range map[string]string{appA: tok, appB: tokB} {
		r := m.open(tk, http.MethodGet, "query_app_tpl", url.Values{"classification": {"1"}, "page_num": {"1"}, "page_size": {"50"}}, nil)
		if total, _ := listLen(t, r); total != 1 {
			t.Errorf("app %s: %d one-time templates after refused calls, want 1", app, total)
		}
	}
}

func TestCreateTpl(t *testing.T) {
	t.Parallel()
	good := func() map[string]any {
		return map[string]any{"category_ids": "79,117", "classification": 1, "title": "退款通知",
			"host_list": []string{"douyin", "toutiao"}, "keyword_list": []string{"退款金额", "退款时间"}}
	}
	cases := []struct {
		name string
		edit func(map[string]any)
		raw  string
	}{
		{name: "not JSON", raw: "{"},
		{name: "no category", edit: func(b map[string]any) { delete(b, "category_ids") }},
		{name: "unknown category", edit: func(b map[string]any) { b["category_ids"] = "79,4242" }},
		{name: "category not a number", edit: func(b map[string]any) { b["category_ids"] = "79,x" }},
		{name: "classification 0", edit: func(b map[string]any) { delete(b, "classification") }},
		{name: "title of one character", edit: func(b map[string]any) { b["title"] = "退" }},
		{name: "title of nine characters", edit: func(b map[string]any) { b["title"] = "一二三四五六七八九" }},
		{name: "no host", edit: func(b map[string]any) { b["host_list"] = []string{} }},
		{name: "unknown host", edit: func(b map[string]any) { b["host_list"] = []string{"wechat"} }},
		{name: "host twice", edit: func(b map[string]any) { b["host_list"] = []string{"douyin", "douyin"} }},
		{name: "no keyword", edit: func(b map[string]any) { b["keyword_list"] = []string{} }},
		{name: "eleven keywords", edit: func(b map[string]any) {
			b["keyword_list"] = strings.Split("甲甲,乙乙,丙丙,丁丁,戊戊,己己,庚庚,辛辛,壬壬,癸癸,子子", ",")
		}},
		{name: "keyword too short", edit: func(b map[string]any) { b["keyword_list"] = []string{"金"} }},
		{name: "keyword twice", edit: func(b map[string]any) { b["keyword_list"] = []string{"退款金额", "退款金额"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.clientToken(appA, secretA)
			var body any = tc.raw
			if tc.raw == "" {
				b := good()
				tc.edit(b)
				body = b
			}
			wantErrNo(t, m.open(tok, http.MethodPost, "create_tpl", nil, body), 28001038)
			r := m.open(tok, http.MethodGet, "query_created_tpl_list", url.Values{"page_num": {"1"}, "page_size": {"10"}}, nil)
			if total, _ := listLen(t, r); total != 0 {
				t.Fatalf("a refused proposal is listed: %s", r.Body)
			}
		})
	}

	t.Run("accepted, approved and usable", func(t *testing.T) {
		t.Parallel()
		m := start(t)
		tok := m.clientToken(appA, secretA)
		r := m.open(tok, http.MethodPost, "create_tpl", nil, good())
		wantErrNo(t, r, 0)
		if _, has := r.Fields["data"]; has {
			t.Errorf("create_tpl answers the envelope only: %s", r.Body)
		}
		page := url.Values{"page_num": {"1"}, "page_size": {"10"}}
		r = m.open(tok, http.MethodGet, "query_created_tpl_list", page, nil)
		total, list := listLen(t, r)
		if total != 1 {
			t.Fatalf("query_created_tpl_list: %s", r.Body)
		}
		it := list[0].(map[string]any)
		if it["title"] != "退款通知" || it["status"].(interface{ String() string }).String() != "1" || it["fail_reason"] != "" ||
			it["operating_time"].(interface{ String() string }).String() == "0" {
			t.Fatalf("created entry %v", it)
		}
		page.Set("status", "0")
		if total, _ := listLen(t, m.open(tok, http.MethodGet, "query_created_tpl_list", page, nil)); total != 0 {
			t.Fatal("status filter 0 (pending) lists the approved proposal")
		}
		page.Set("status", "7")
		wantErrNo(t, m.open(tok, http.MethodGet, "query_created_tpl_list", page, nil), 28001038)
		// Another app sees none of app A's proposals.
		if total, _ := listLen(t, m.open(m.clientToken(appB, secretB), http.MethodGet, "query_created_tpl_list",
			url.Values{"page_num": {"1"}, "page_size": {"10"}}, nil)); total != 0 {
			t.Fatal("app B lists app A's proposals")
		}
		// It joined the public library and can become an app template.
		r = m.open(tok, http.MethodGet, "query_tpl_list", url.Values{"classification": {"1"}, "page_num": {"1"},
			"page_size": {"10"}, "keyword": {"退款"}}, nil)
		_, list = listLen(t, r)
		if len(list) != 1 {
			t.Fatalf("library search for the proposal: %s", r.Body)
		}
		id := list[0].(map[string]any)["template_id"]
		r = m.open(tok, http.MethodPost, "add_app_tpl", nil, `{"template_id":`+id.(interface{ String() string }).String()+`,"keyword_list":["退款时间"]}`)
		wantErrNo(t, r, 0)
		// After a reset the library is the demo one again.
		if err := m.Control.Reset(m.ctx); err != nil {
			t.Fatal(err)
		}
		tok = m.clientToken(appA, secretA)
		if total, _ := listLen(t, m.open(tok, http.MethodGet, "query_tpl_list", url.Values{"classification": {"1"},
			"page_num": {"1"}, "page_size": {"10"}, "keyword": {"退款"}}, nil)); total != 0 {
			t.Fatal("the proposal survived a reset")
		}
	})
}

func TestTemplateManagementQuotasAndFaults(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"query_tpl_list", "create_tpl", "query_created_tpl_list", "add_app_tpl", "query_app_tpl", "delete_app_tpl", "query_user_subscribe"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.clientToken(appA, secretA)
			method, q := http.MethodPost, url.Values(nil)
			if strings.HasPrefix(name, "query_") && name != "query_user_subscribe" {
				method, q = http.MethodGet, url.Values{"classification": {"1"}, "page_num": {"1"}, "page_size": {"1"}}
			}
			m.setQuota(name, 0, "minute")
			wantErrNo(t, m.open(tok, method, name, q, map[string]any{}), 28003018)
			m.setQuota(name, 1000, "minute")
			m.setQuota(name, 0, "day")
			wantErrNo(t, m.open(tok, method, name, q, map[string]any{}), 28003017)
			code := 28001016
			if _, err := m.Control.AddFault(m.ctx, mockapi.Fault{Platform: mockapi.PlatformDouyin, Endpoint: name, ErrCode: &code, Times: 1}); err != nil {
				t.Fatal(err)
			}
			r := m.open(tok, method, name, q, map[string]any{})
			wantErrNo(t, r, 28001016)
			if r.str(t, "err_msg") != "应用已被封禁或下线" {
				t.Errorf("fault err_msg %q", r.str(t, "err_msg"))
			}
		})
	}
}
