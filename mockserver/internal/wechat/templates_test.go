package wechat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func tmplPath(api, tok string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	q.Set("access_token", tok)
	return "/wxaapi/newtmpl/" + api + "?" + q.Encode()
}

type privateTemplate struct {
	PriTmplID string `json:"priTmplId"`
	Title     string `json:"title"`
	Content   string `json:"content"`
	Example   string `json:"example"`
	Type      int    `json:"type"`
	EnumList  []struct {
		KeywordCode   string   `json:"keywordCode"`
		EnumValueList []string `json:"enumValueList"`
	} `json:"keywordEnumValueList"`
}

func (m *mock) templates(tok string) []privateTemplate {
	m.t.Helper()
	r := m.do(http.MethodGet, tmplPath("gettemplate", tok, nil), nil)
	wantCode(m.t, r, 0)
	var ans struct {
		Data []privateTemplate `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &ans); err != nil {
		m.t.Fatal(err)
	}
	if _, ok := r.Fields["data"].([]any); !ok {
		m.t.Fatalf("gettemplate data is not a list: %s", r.Body)
	}
	return ans.Data
}

func TestGetTemplateShape(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) {
		s.Apps[0].Templates = append(s.Apps[0].Templates, mockapi.Template{
			TemplateID: "long", Title: "长期", Keywords: []string{"thing1", "enum2"}, Type: mockapi.TemplateLongTerm,
			KeywordNames: map[string]string{"thing1": "事项"}, Enums: map[string][]string{"enum2": {"甲", "乙"}},
		})
	})
	list := m.templates(m.token(appA, secretA))
	if len(list) != 2 {
		t.Fatalf("gettemplate lists %d templates, want 2", len(list))
	}
	one, long := list[0], list[1]
	if one.PriTmplID != tmplA || one.Title != "订单通知" || one.Type != 2 {
		t.Errorf("first template %+v", one)
	}
	if !strings.Contains(one.Content, "{{thing1.DATA}}") || !strings.Contains(one.Content, "{{number4.DATA}}") {
		t.Errorf("content %q does not list the keywords as {{key.DATA}}", one.Content)
	}
	if one.Example == "" {
		t.Error("example is empty")
	}
	if long.Type != 3 || !strings.Contains(long.Content, "事项:{{thing1.DATA}}") {
		t.Errorf("long-term template %+v", long)
	}
	if len(long.EnumList) != 1 || long.EnumList[0].KeywordCode != "enum2.DATA" || len(long.EnumList[0].EnumValueList) != 2 {
		t.Errorf("keywordEnumValueList %+v", long.EnumList)
	}
	// Another app sees only its own.
	if got := m.templates(m.token(appB, secretB)); len(got) != 1 || got[0].PriTmplID != tmplB {
		t.Errorf("app B templates %+v", got)
	}
}

func addTmpl(tid any, kids []int, scene string) map[string]any {
	return map[string]any{"tid": tid, "kidList": kids, "sceneDesc": scene}
}

func TestAddTemplateThenSendWithIt(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)

	// The keywords of public template 1432, as the library lists them.
	r := m.do(http.MethodGet, tmplPath("getpubtemplatekeywords", tok, url.Values{"tid": {"1432"}}), nil)
	wantCode(t, r, 0)
	var kws struct {
		Count int `json:"count"`
		Data  []struct {
			KID     int    `json:"kid"`
			Name    string `json:"name"`
			Example string `json:"example"`
			Rule    string `json:"rule"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &kws); err != nil {
		t.Fatal(err)
	}
	if kws.Count != len(kws.Data) || kws.Count < 3 {
		t.Fatalf("getpubtemplatekeywords count %d, %d items", kws.Count, len(kws.Data))
	}
	for _, k := range kws.Data {
		if k.KID == 0 || k.Name == "" || k.Example == "" || k.Rule == "" {
			t.Errorf("keyword %+v lacks a field", k)
		}
	}

	kids := []int{kws.Data[0].KID, kws.Data[2].KID}
	r = m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("1432", kids, "发货提醒"))
	wantCode(t, r, 0)
	id := r.str("priTmplId")
	if len(id) != 43 {
		t.Fatalf("priTmplId %q is not 43 chars like the platform's", id)
	}
	list := m.templates(tok)
	if got := list[len(list)-1]; got.PriTmplID != id || got.Title != "订单发货通知" || got.Type != 2 {
		t.Fatalf("new template listed as %+v", got)
	}

	// Data keys are the rule followed by the kid.
	key1 := kws.Data[0].Rule + "1"
	key3 := kws.Data[2].Rule + "3"
	if key1 != "thing1" || key3 != "date3" {
		t.Fatalf("library changed: keys %s %s", key1, key3)
	}
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: id, Count: 1})
	msg := sendMsg{ToUser: userA, TemplateID: id, Data: map[string]any{
		"thing1": map[string]any{"value": "小米手机"}, "date3": map[string]any{"value": "2019年10月1日"}}}
	bad := msg
	bad.Data = map[string]any{"thing1": map[string]any{"value": "x"}, "date3": map[string]any{"value": "10月1日"}}
	wantMsg(t, m.send(tok, bad), 47003, "argument invalid! data.date3.value invalid")
	wantCode(t, m.send(tok, msg), 0)

	// A number tid works as well as a string one.
	r = m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl(99, []int{1, 2, 3}, ""))
	wantCode(t, r, 0)

	// deltemplate removes it: sends then answer 40037.
	wantCode(t, m.do(http.MethodPost, tmplPath("deltemplate", tok, nil), map[string]string{"priTmplId": id}), 0)
	wantCode(t, m.send(tok, msg), 40037)
	for _, tm := range m.templates(tok) {
		if tm.PriTmplID == id {
			t.Fatal("deleted template still listed")
		}
	}
	wantCode(t, m.do(http.MethodPost, tmplPath("deltemplate", tok, nil), map[string]string{"priTmplId": id}), 200002)
	wantCode(t, m.do(http.MethodPost, tmplPath("deltemplate", tok, nil), map[string]string{}), 200002)
}

func TestAddTemplateErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("99", []int{1, 2}, "付款")), 0)
	tests := []struct {
		name string
		body any
		code int64
	}{
		{"unknown tid", addTmpl("424242", []int{1, 2}, ""), 200014},
		{"tid not a number", addTmpl("abc", []int{1, 2}, ""), 200014},
		{"no tid", map[string]any{"kidList": []int{1, 2}}, 200014},
		{"one kid", addTmpl("99", []int{1}, ""), 200020},
		{"no kids", addTmpl("99", nil, ""), 200020},
		{"six kids", addTmpl("1432", []int{1, 2, 3, 4, 5, 6}, ""), 200020},
		{"unknown kid", addTmpl("99", []int{1, 9}, ""), 200020},
		{"repeated kid", addTmpl("99", []int{1, 1}, ""), 200020},
		{"sceneDesc of 16 chars", addTmpl("99", []int{1, 3}, strings.Repeat("场", 16)), 200021},
		{"duplicate", addTmpl("99", []int{1, 2}, "again"), 200022},
		{"empty body", "", 44002},
		{"malformed JSON", `{"tid":`, 47001},
		{"kidList not numbers", `{"tid":"99","kidList":["a"]}`, 47001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), tt.body), tt.code)
		})
	}
	// 15 characters is the limit, not over it.
	wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("99", []int{1, 4}, strings.Repeat("场", 15))), 0)
}

func TestAddTemplateLimit(t *testing.T) {
	t.Parallel()
	// App A starts with 48 private templates; the platform allows 50.
	m := start(t, func(s *mockapi.Seed) {
		for i := range 47 {
			s.Apps[0].Templates = append(s.Apps[0].Templates, mockapi.Template{
				TemplateID: "seeded-" + strconv.Itoa(i), Title: "t", Keywords: []string{"thing1"}})
		}
	})
	tok := m.token(appA, secretA)
	wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("99", []int{1, 2}, "")), 0)
	wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("99", []int{1, 3}, "")), 0)
	wantCode(t, m.do(http.MethodPost, tmplPath("addtemplate", tok, nil), addTmpl("99", []int{1, 4}, "")), 200012)
	if n := len(m.templates(tok)); n != 50 {
		t.Fatalf("gettemplate lists %d templates, want 50", n)
	}
}

func TestGetCategory(t *testing.T) {
	t.Parallel()
	m := start(t)
	r := m.do(http.MethodGet, tmplPath("getcategory", m.token(appA, secretA), nil), nil)
	wantCode(t, r, 0)
	var ans struct {
		Data []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Data) == 0 || ans.Data[0].ID == 0 || ans.Data[0].Name == "" {
		t.Fatalf("getcategory data %s", r.Body)
	}
}

func TestGetPubTemplateTitles(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	type title struct {
		TID        int    `json:"tid"`
		Title      string `json:"title"`
		Type       int    `json:"type"`
		CategoryID string `json:"categoryId"`
	}
	page := func(ids, start, limit string) (int, []title) {
		t.Helper()
		r := m.do(http.MethodGet, tmplPath("getpubtemplatetitles", tok, url.Values{"ids": {ids}, "start": {start}, "limit": {limit}}), nil)
		wantCode(t, r, 0)
		var ans struct {
			Count int     `json:"count"`
			Data  []title `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Data == nil {
			t.Fatalf("data is null, want a list: %s", r.Body)
		}
		return ans.Count, ans.Data
	}
	count, all := page("616,307,670", "0", "30")
	if count != 3 || len(all) != 3 {
		t.Fatalf("count %d, %d titles; want 3", count, len(all))
	}
	for _, ti := range all {
		if ti.TID == 0 || ti.Title == "" || (ti.Type != 2 && ti.Type != 3) || ti.CategoryID == "" {
			t.Errorf("title %+v lacks a field", ti)
		}
	}
	count, first := page("616,307,670", "0", "2")
	_, rest := page("616,307,670", "2", "2")
	if count != 3 || len(first) != 2 || len(rest) != 1 || rest[0].TID != all[2].TID || first[1].TID != all[1].TID {
		t.Errorf("paging: count %d, first %+v, rest %+v", count, first, rest)
	}
	if _, beyond := page("616", "5", "10"); len(beyond) != 0 {
		t.Errorf("start past the end gives %+v", beyond)
	}
	if count, only := page("307", "0", "30"); count != 1 || len(only) != 1 || only[0].CategoryID != "307" {
		t.Errorf("ids=307: count %d, %+v", count, only)
	}

	errs := []struct {
		name              string
		ids, start, limit string
		code              int64
	}{
		{"no ids", "", "0", "10", 200018},
		{"bad ids", "616,abc", "0", "10", 200019},
		{"no start", "616", "", "10", 200016},
		{"negative start", "616", "-1", "10", 200016},
		{"no limit", "616", "0", "", 200017},
		{"limit 0", "616", "0", "0", 200017},
		{"limit 31", "616", "0", "31", 200017},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"start": {tt.start}, "limit": {tt.limit}}
			if tt.ids != "" {
				q.Set("ids", tt.ids)
			}
			wantCode(t, m.do(http.MethodGet, tmplPath("getpubtemplatetitles", tok, q), nil), tt.code)
		})
	}
}

func TestGetPubTemplateKeywordsErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	for _, tid := range []string{"", "abc", "424242"} {
		wantCode(t, m.do(http.MethodGet, tmplPath("getpubtemplatekeywords", tok, url.Values{"tid": {tid}}), nil), 200014)
	}
}

func TestTemplateAPIsWrongMethodAndToken(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	apis := map[string]string{
		"gettemplate": http.MethodPost, "addtemplate": http.MethodGet, "deltemplate": http.MethodGet,
		"getcategory": http.MethodPost, "getpubtemplatekeywords": http.MethodPost, "getpubtemplatetitles": http.MethodPost,
	}
	for api, wrong := range apis {
		t.Run(api, func(t *testing.T) {
			wantMsg(t, m.do(wrong, tmplPath(api, tok, nil), nil), 404, "404 not found")
			right := http.MethodGet
			if wrong == http.MethodGet {
				right = http.MethodPost
			}
			wantCode(t, m.do(right, "/wxaapi/newtmpl/"+api, "{}"), 41001)
			wantCode(t, m.do(right, tmplPath(api, "nope", nil), "{}"), 40001)
		})
	}
}
