package wechat_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func secPath(tok string) string { return "/wxa/msg_sec_check?access_token=" + url.QueryEscape(tok) }

var officialRisky = []string{
	"特3456书yuuo莞6543李zxcz蒜7782法fgnv级",
	"完2347全dfji试3726测asad感3847知qwez到",
}

func TestMsgSecCheckV1(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tests := []struct {
		name    string
		content string
		code    int64
	}{
		{"clean text", "今天天气很好", 0},
		{"official test string 1", officialRisky[0], 87014},
		{"official test string 2", officialRisky[1], 87014},
		{"official test string inside text", "前缀" + officialRisky[0] + "后缀", 87014},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(http.MethodPost, secPath(tok), map[string]string{"content": tt.content})
			if tt.code == 0 {
				wantCode(t, r, 0)
				if r.errMsg() != "ok" {
					t.Errorf("errmsg %q, want ok", r.errMsg())
				}
				return
			}
			wantMsg(t, r, tt.code, "risky content")
		})
	}
}

type secV2 struct {
	Content   string `json:"content"`
	Version   int    `json:"version"`
	Scene     int    `json:"scene"`
	OpenID    string `json:"openid"`
	Title     string `json:"title,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	Signature string `json:"signature,omitempty"`
}

type secAnswer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Result  *struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	} `json:"result"`
	Detail []struct {
		Strategy string `json:"strategy"`
		ErrCode  *int   `json:"errcode"`
		Suggest  string `json:"suggest"`
		Label    int    `json:"label"`
		Prob     int    `json:"prob"`
		Level    int    `json:"level"`
		Keyword  string `json:"keyword"`
	} `json:"detail"`
	TraceID string `json:"trace_id"`
}

var traceID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

func TestMsgSecCheckV2Verdicts(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "赌博", Label: 20006}, {Word: "Spam", Label: 10001}},
		Review: []mockapi.ContentWord{{Word: "红包", Label: 20012}, {Word: "加微信"}},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		req      secV2
		suggest  string
		label    int
		keywords []string
	}{
		{"pass", secV2{Content: "今天天气很好"}, "pass", 100, nil},
		{"review", secV2{Content: "领红包啦"}, "review", 20012, []string{"红包"}},
		{"review without label", secV2{Content: "加微信聊"}, "review", 21000, []string{"加微信"}},
		{"risky", secV2{Content: "在线赌博"}, "risky", 20006, []string{"赌博"}},
		{"risky is case-insensitive", secV2{Content: "buy SPAM now"}, "risky", 10001, []string{"Spam"}},
		{"risky beats review", secV2{Content: "红包赌博"}, "risky", 20006, []string{"赌博", "红包"}},
		{"risky in the title", secV2{Content: "正常", Title: "赌博"}, "risky", 20006, []string{"赌博"}},
		{"risky in the nickname", secV2{Content: "正常", Nickname: "赌博王"}, "risky", 20006, []string{"赌博"}},
		{"review in the signature", secV2{Content: "正常", Signature: "红包"}, "review", 20012, []string{"红包"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Version, tt.req.Scene, tt.req.OpenID = 2, 2, userA
			r := m.do(http.MethodPost, secPath(tok), tt.req)
			wantCode(t, r, 0)
			var ans secAnswer
			if err := json.Unmarshal(r.Body, &ans); err != nil {
				t.Fatal(err)
			}
			if ans.ErrMsg != "ok" || ans.Result == nil {
				t.Fatalf("answer %s lacks errmsg ok or result", r.Body)
			}
			if ans.Result.Suggest != tt.suggest || ans.Result.Label != tt.label {
				t.Errorf("result %+v, want %s/%d", *ans.Result, tt.suggest, tt.label)
			}
			if !traceID.MatchString(ans.TraceID) {
				t.Errorf("trace_id %q is not in the platform's shape", ans.TraceID)
			}
			if len(ans.Detail) == 0 || ans.Detail[0].Strategy != "content_model" {
				t.Fatalf("detail %s does not start with the content_model strategy", r.Body)
			}
			if d := ans.Detail[0]; d.Suggest != tt.suggest || d.Label != tt.label || d.Prob < 0 || d.Prob > 100 {
				t.Errorf("content_model detail %+v", d)
			}
			var kws []string
			for _, d := range ans.Detail {
				if d.ErrCode == nil || *d.ErrCode != 0 {
					t.Errorf("detail item %+v lacks errcode 0 (only such items are valid)", d)
				}
				if d.Strategy == "keyword" {
					kws = append(kws, d.Keyword)
					if d.Level <= 0 || d.Level > 100 {
						t.Errorf("keyword detail %+v has no level", d)
					}
				}
			}
			if len(kws) != len(tt.keywords) {
				t.Fatalf("keyword details %v, want %v", kws, tt.keywords)
			}
			for i := range kws {
				if kws[i] != tt.keywords[i] {
					t.Errorf("keyword details %v, want %v", kws, tt.keywords)
				}
			}
		})
	}
}

func TestMsgSecCheckErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	good := func(edit func(*secV2)) secV2 {
		r := secV2{Content: "hello", Version: 2, Scene: 1, OpenID: userA}
		edit(&r)
		return r
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		code   int64
		msg    string
	}{
		// v2 content is limited to 2500 characters; the code over it is
		// UNCONFIRMED (the mock answers 47001).
		{"content over 2500 chars", http.MethodPost, secPath(tok), good(func(r *secV2) { r.Content = strings.Repeat("字", 2501) }), 47001, "data format error"},
		{"empty content", http.MethodPost, secPath(tok), good(func(r *secV2) { r.Content = "" }), 47001, "data format error"},
		{"version 3", http.MethodPost, secPath(tok), `{"content":"x","version":3}`, 47001, "data format error"},
		{"scene 0", http.MethodPost, secPath(tok), good(func(r *secV2) { r.Scene = 0 }), 40129, "invalid scene"},
		{"scene 5", http.MethodPost, secPath(tok), good(func(r *secV2) { r.Scene = 5 }), 40129, "invalid scene"},
		{"scene -1", http.MethodPost, secPath(tok), good(func(r *secV2) { r.Scene = -1 }), 40129, "invalid scene"},
		{"unknown openid", http.MethodPost, secPath(tok), good(func(r *secV2) { r.OpenID = "oNOBODY" }), 40003, "invalid openid"},
		{"openid of another app", http.MethodPost, secPath(tok), good(func(r *secV2) { r.OpenID = userB }), 40003, "invalid openid"},
		{"missing openid", http.MethodPost, secPath(tok), good(func(r *secV2) { r.OpenID = "" }), 40003, "invalid openid"},
		{"GET", http.MethodGet, secPath(tok), nil, 43002, "require POST method"},
		{"empty body", http.MethodPost, secPath(tok), "", 44002, "empty post data"},
		{"malformed JSON", http.MethodPost, secPath(tok), `{"content":`, 47001, "data format error"},
		{"content not a string", http.MethodPost, secPath(tok), `{"content":1}`, 47001, "data format error"},
		{"no token", http.MethodPost, "/wxa/msg_sec_check", good(func(*secV2) {}), 41001, "access_token missing"},
		{"bad token", http.MethodPost, secPath("nope"), good(func(*secV2) {}), 40001, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(tt.method, tt.path, tt.body)
			if tt.msg == "" {
				wantCode(t, r, tt.code)
				return
			}
			wantMsg(t, r, tt.code, tt.msg)
		})
	}
	// 2500 characters is within the limit; scenes 1..4 are all valid.
	wantCode(t, m.do(http.MethodPost, secPath(tok), good(func(r *secV2) { r.Content = strings.Repeat("字", 2500) })), 0)
	for scene := 1; scene <= 4; scene++ {
		wantCode(t, m.do(http.MethodPost, secPath(tok), good(func(r *secV2) { r.Scene = scene })), 0)
	}
}
