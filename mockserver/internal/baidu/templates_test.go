package baidu_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const tmplPath = "/rest/2.0/smartapp/template/"

// tmplCall calls a template-management API the three ways clients do:
// "query" puts every parameter in the query (the doc's curl), "form" in a
// urlencoded body (the official Go SDK), "json" in the query and a JSON
// body (SKIT-Baidu; the body carries the parameters too).
func (m *mock) tmplCall(how, method, name, tok string, p url.Values) reply {
	m.t.Helper()
	path := withToken(tmplPath+name, tok)
	switch how {
	case "query":
		if len(p) > 0 {
			path += "&" + p.Encode()
		}
		return m.raw(method, path, "", nil)
	case "form":
		return m.form(method, path, p)
	}
	obj := map[string]any{}
	for k := range p {
		var v any = p.Get(k)
		if k == "keyword_id_list" {
			v = json.RawMessage(p.Get(k))
		}
		obj[k] = v
	}
	b, _ := json.Marshal(obj)
	if len(p) > 0 {
		path += "&" + p.Encode()
	}
	return m.raw(method, path, "application/json", bytes.NewReader(b))
}

func data(t *testing.T, r reply) map[string]any {
	t.Helper()
	d, ok := r.Fields["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object: %s", r.Body)
	}
	return d
}

func TestLibrary(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	for _, how := range []string{"query", "form", "json"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			method := http.MethodGet
			if how != "query" {
				method = http.MethodPost
			}
			r := m.tmplCall(how, method, "librarylist", tok, url.Values{"offset": {"1"}, "count": {"2"}})
			wantErrno(t, r, baidu.ErrnoOK)
			d := data(t, r)
			list := d["list"].([]any)
			if d["total_count"].(json.Number).String() != "4" || len(list) != 2 || list[0].(map[string]any)["id"] != "BD0002" {
				t.Fatalf("librarylist: %s", r.Body)
			}
			r = m.tmplCall(how, method, "libraryget", tok, url.Values{"id": {"BD0016"}})
			wantErrno(t, r, baidu.ErrnoOK)
			d = data(t, r)
			kws := d["keyword_list"].([]any)
			if d["id"] != "BD0016" || d["title"] != "取票成功通知" || d["keyword_count"].(json.Number).String() != "13" || len(kws) != 13 {
				t.Fatalf("libraryget: %s", r.Body)
			}
			if k := kws[0].(map[string]any); k["keyword_id"].(json.Number).String() != "1" || k["name"] != "金额" || k["example"] != "300元" {
				t.Fatalf("first keyword %v", k)
			}
		})
	}
	cases := []struct {
		name string
		call string
		p    url.Values
		want baidu.Errno
	}{
		{"count over 20", "librarylist", url.Values{"count": {"21"}}, baidu.ErrnoParam},
		{"negative offset", "librarylist", url.Values{"offset": {"-1"}, "count": {"1"}}, baidu.ErrnoParam},
		{"count not a number", "templatelist", url.Values{"count": {"x"}}, baidu.ErrnoParam},
		{"libraryget without id", "libraryget", nil, baidu.ErrnoParam},
		{"libraryget unknown id", "libraryget", url.Values{"id": {"BD9999"}}, baidu.ErrnoParam},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.tmplCall("query", http.MethodGet, tc.call, tok, tc.p)
			wantErrno(t, r, tc.want)
		})
	}
	// Count defaults to 0 ("默认值为0"): an empty page with the total.
	r := m.tmplCall("query", http.MethodGet, "librarylist", tok, nil)
	wantErrno(t, r, baidu.ErrnoOK)
	if d := data(t, r); len(d["list"].([]any)) != 0 || d["total_count"].(json.Number).String() != "4" {
		t.Fatalf("default page: %s", r.Body)
	}
}

// templateadd makes a template the control API lists and subscribe/send
// accepts with keyword1…N; templatelist shows it and the control API's
// templates; templatedel removes it everywhere.
func TestTemplateAddListDel(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"query", "form", "json"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			r := m.tmplCall(how, http.MethodPost, "templateadd", tok, url.Values{"id": {"BD0016"}, "keyword_id_list": {"[2,1]"}})
			wantErrno(t, r, baidu.ErrnoOK)
			id, _ := data(t, r)["template_id"].(string)
			if len(id) != 43 {
				t.Fatalf("template_id %q: %s", id, r.Body)
			}
			tmpls, err := m.Control.Templates(m.ctx, mockapi.PlatformBaidu, appA)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, tp := range tmpls {
				if tp.TemplateID == id {
					found = strings.Join(tp.Keywords, ",") == "keyword1,keyword2" && tp.KeywordNames["keyword1"] == "订单号" && tp.Title == "取票成功通知"
				}
			}
			if !found {
				t.Fatalf("control API templates %+v: want %s with keyword1 订单号, keyword2 金额", tmpls, id)
			}
			// templatelist shows it after the two seeded ones.
			method := http.MethodPost // a form body rides on POST only
			if how == "query" {
				method = http.MethodGet
			}
			r = m.tmplCall(how, method, "templatelist", tok, url.Values{"offset": {"0"}, "count": {"20"}})
			wantErrno(t, r, baidu.ErrnoOK)
			d := data(t, r)
			list := d["list"].([]any)
			if d["total_count"].(json.Number).String() != "3" || len(list) != 3 {
				t.Fatalf("templatelist: %s", r.Body)
			}
			added := list[2].(map[string]any)
			if added["template_id"] != id || added["content"] != "订单号{{keyword1.DATA}}\n金额{{keyword2.DATA}}" ||
				added["example"] != "订单号: 321254555\n金额: 300元" {
				t.Fatalf("added template in templatelist: %v", added)
			}
			if seeded := list[0].(map[string]any); seeded["template_id"] != tmplA || seeded["content"] != "thing1{{thing1.DATA}}\nnumber2{{number2.DATA}}" {
				t.Fatalf("seeded template in templatelist: %v", seeded)
			}
			// A user authorizes it; subscribe/send delivers with keyword1/keyword2.
			if _, err := m.Control.Grant(m.ctx, mockapi.Grant{Platform: mockapi.PlatformBaidu, AppID: appA, OpenID: userA2, TemplateID: id, Count: 1}); err != nil {
				t.Fatal(err)
			}
			f := url.Values{"template_id": {id}, "touser_openId": {userA2}, "subscribe_id": {"s1"},
				"data": {`{"keyword1":{"value":"T123"},"keyword2":{"value":"88元"}}`}}
			wantErrno(t, m.send(tok, f), baidu.ErrnoOK)
			// templatedel: the doc's answer has no data.
			r = m.tmplCall(how, http.MethodPost, "templatedel", tok, url.Values{"template_id": {id}})
			if r.Status != 200 || r.num(t, "errno") != 0 || r.str("msg") != "success" {
				t.Fatalf("templatedel: %s", r.Body)
			}
			if _, has := r.Fields["data"]; has {
				t.Errorf("templatedel answers data: %s", r.Body)
			}
			f.Set("subscribe_id", "s2")
			wantErrno(t, m.send(tok, f), baidu.ErrnoTemplate)
			if n := len(m.messages()); n != 1 {
				t.Fatalf("%d messages, want 1", n)
			}
		})
	}
}

func TestTemplateAddDelErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	cases := []struct {
		name string
		call string
		p    url.Values
		want baidu.Errno
	}{
		{"add: no id", "templateadd", url.Values{"keyword_id_list": {"[1]"}}, baidu.ErrnoParam},
		{"add: no keyword_id_list", "templateadd", url.Values{"id": {"BD0016"}}, baidu.ErrnoParam},
		{"add: keyword_id_list not JSON", "templateadd", url.Values{"id": {"BD0016"}, "keyword_id_list": {"1,2"}}, baidu.ErrnoParam},
		{"add: empty keyword_id_list", "templateadd", url.Values{"id": {"BD0016"}, "keyword_id_list": {"[]"}}, baidu.ErrnoParam},
		{"add: unknown title", "templateadd", url.Values{"id": {"BD4242"}, "keyword_id_list": {"[1]"}}, baidu.ErrnoParamValue},
		{"add: unknown keyword", "templateadd", url.Values{"id": {"BD0001"}, "keyword_id_list": {"[1,9]"}}, baidu.ErrnoParamValue},
		{"add: keyword twice", "templateadd", url.Values{"id": {"BD0001"}, "keyword_id_list": {"[1,1]"}}, baidu.ErrnoParamValue},
		{"del: no template_id", "templatedel", nil, baidu.ErrnoParam},
		{"del: unknown template", "templatedel", url.Values{"template_id": {"nope"}}, baidu.ErrnoParamValue},
		{"del: another app's template", "templatedel", url.Values{"template_id": {tmplB}}, baidu.ErrnoParamValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantErrno(t, m.tmplCall("form", http.MethodPost, tc.call, tok, tc.p), tc.want)
		})
	}
	// Nothing changed.
	if tmpls, _ := m.Control.Templates(m.ctx, mockapi.PlatformBaidu, appA); len(tmpls) != 2 {
		t.Fatalf("%d templates after refused calls, want 2", len(tmpls))
	}
}

func TestTemplateManagementGatewayQuotasFaults(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"templateadd", "templatedel", "templatelist", "librarylist", "libraryget"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			wantGateway(t, m.tmplCall("query", http.MethodGet, name, "", nil), baidu.GatewayInvalidParameter)
			wantGateway(t, m.tmplCall("query", http.MethodGet, name, "nope", nil), baidu.GatewayTokenInvalid)
			wantErrno(t, m.tmplCall("form", http.MethodPut, name, tok, nil), baidu.ErrnoParam)
			wantErrno(t, m.raw(http.MethodPost, withToken(tmplPath+name, tok), "application/json", strings.NewReader("{")), baidu.ErrnoParam)
			endpoint := map[string]string{"templateadd": "template_add", "templatedel": "template_del", "templatelist": "template_list",
				"librarylist": "library_list", "libraryget": "library_get"}[name]
			m.setQuota(endpoint, 0, "day")
			wantGateway(t, m.tmplCall("query", http.MethodGet, name, tok, nil), baidu.GatewayDailyLimit)
			m.addFault(mockapi.Fault{Endpoint: endpoint, ErrCode: new(6001), Times: 1})
			wantErrno(t, m.tmplCall("query", http.MethodGet, name, tok, nil), 6001)
			// The token expires after 30 days.
			m.advance(31 * 24 * time.Hour)
			wantGateway(t, m.tmplCall("query", http.MethodGet, name, tok, nil), baidu.GatewayTokenExpired)
		})
	}
}
