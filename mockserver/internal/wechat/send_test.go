package wechat_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestSendDeliversAndAnswersAnInt64MsgID(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/order/detail"} })
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 1})
	tok := m.token(appA, secretA)
	msg := goodMsg()
	msg.Page = "pages/order/detail?id=42"
	msg.MiniprogramState = "trial"
	msg.Lang = "en_US"
	r := m.send(tok, msg)
	wantCode(t, r, 0)
	if r.errMsg() != "ok" {
		t.Errorf("errmsg %q, want ok", r.errMsg())
	}
	id := r.int(t, "msgid")
	if id <= 1<<53 {
		t.Errorf("msgid %d does not exceed 2^53; clients would not meet the float64 trap", id)
	}

	got := m.messages()
	if len(got) != 1 {
		t.Fatalf("inbox holds %d messages, want 1", len(got))
	}
	in := got[0]
	want := map[string]string{"thing1": "小米手机", "time2": "2019年10月1日 15:01", "amount3": "¥100.00", "number4": "3"}
	if in.AppID != appA || in.OpenID != userA || in.TemplateID != tmplA || in.Page != msg.Page ||
		in.MsgID != strconv.FormatInt(id, 10) || in.State != "trial" || in.Lang != "en_US" {
		t.Errorf("inbox message %+v does not match the send (msgid %d)", in, id)
	}
	for k, v := range want {
		if in.Data[k] != v {
			t.Errorf("inbox data %s = %q, want %q", k, in.Data[k], v)
		}
	}
}

func TestSendTokenErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	expired := m.token(appA, secretA)
	m.advance(7201 * time.Second)
	tests := []struct {
		name string
		path string
		code int64
		msg  string
	}{
		{"missing", "/cgi-bin/message/subscribe/send", 41001, "access_token missing"},
		{"empty", "/cgi-bin/message/subscribe/send?access_token=", 41001, "access_token missing"},
		{"invalid", sendPath("not-a-token"), 40001, "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"},
		{"expired", sendPath(expired), 42001, "access_token expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantMsg(t, m.do(http.MethodPost, tt.path, goodMsg()), tt.code, tt.msg)
		})
	}
	// The token is checked before the body.
	wantCode(t, m.do(http.MethodPost, sendPath("not-a-token"), "{"), 40001)
}

func TestSendRecipientAndTemplateErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 5})
	tok := m.token(appA, secretA)
	tests := []struct {
		name         string
		user, tmplID string
		code         int64
		msg          string
	}{
		{"unknown user", "oUNKNOWNUNKNOWNUNKNOWNUNKNOW", tmplA, 40003, "invalid openid"},
		{"empty touser", "", tmplA, 40003, "invalid openid"},
		{"user of another app", userB, tmplA, 40003, "invalid openid"},
		{"unknown template", userA, "nope", 40037, "invalid template_id"},
		{"empty template", userA, "", 40037, "invalid template_id"},
		{"template of another app", userA, tmplB, 40037, "invalid template_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := goodMsg()
			msg.ToUser, msg.TemplateID = tt.user, tt.tmplID
			wantMsg(t, m.send(tok, msg), tt.code, tt.msg)
		})
	}
	if n := len(m.messages()); n != 0 {
		t.Errorf("rejected sends delivered %d messages", n)
	}
}

// withValue is goodData with one keyword's value replaced.
func withValue(key string, v any) map[string]any {
	d := goodData()
	d[key] = map[string]any{"value": v}
	return d
}

func TestSendKeywordRules(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) {
		s.Apps[0].Templates = append(s.Apps[0].Templates, mockapi.Template{
			TemplateID: "all-types", Title: "all",
			Keywords: []string{"thing1", "number2", "letter3", "symbol4", "character_string5", "time6", "date7",
				"amount8", "phone_number9", "car_number10", "name11", "phrase12", "enum13"},
			Enums: map[string][]string{"enum13": {"已发货", "已签收"}},
		})
	})
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: "all-types", LongTerm: true})
	tok := m.token(appA, secretA)
	valid := map[string]string{
		"thing1": "小米手机 x2", "number2": "3.14", "letter3": "abc", "symbol4": "%", "character_string5": "A2019-100_1",
		"time6": "15:01", "date7": "2019年10月1日", "amount8": "¥100.00", "phone_number9": "+86-0766-66888866",
		"car_number10": "粤A8Z888挂", "name11": "张三", "phrase12": "配送中", "enum13": "已发货",
	}
	data := func(key, value string) map[string]any {
		d := map[string]any{}
		for k, v := range valid {
			d[k] = map[string]any{"value": v}
		}
		if key != "" {
			d[key] = map[string]any{"value": value}
		}
		return d
	}
	wantCode(t, m.send(tok, sendMsg{ToUser: userA, TemplateID: "all-types", Data: data("", "")}), 0)

	tests := []struct {
		key, value, reason string
	}{
		{"thing1", strings.Repeat("长", 21), "exceeds limit"},
		{"thing1", "", "is empty"},
		{"thing1", "   ", "is empty"},
		{"thing1", "line\nbreak", "invalid"},
		{"number2", "12a", "invalid"},
		{"number2", strings.Repeat("1", 33), "exceeds limit"},
		{"letter3", "abc1", "invalid"},
		{"letter3", strings.Repeat("a", 33), "exceeds limit"},
		{"symbol4", "a", "invalid"},
		{"symbol4", "%%%%%%", "exceeds limit"},
		{"character_string5", "中文", "invalid"},
		{"character_string5", strings.Repeat("a", 33), "exceeds limit"},
		{"time6", "25:00", "invalid"},
		{"time6", "15:01～16:00", "invalid"},
		{"date7", "2019年13月1日", "invalid"},
		{"date7", "", "is empty"},
		{"amount8", "¥12a", "invalid"},
		{"amount8", "¥12345678901", "exceeds limit"},
		{"phone_number9", "138abc", "invalid"},
		{"phone_number9", strings.Repeat("1", 18), "exceeds limit"},
		{"car_number10", "粤A12345678", "exceeds limit"},
		{"car_number10", "粤A8挂Z888", "invalid"},
		{"name11", strings.Repeat("张", 11), "exceeds limit"},
		{"phrase12", "abc", "invalid"},
		{"phrase12", "配送中配送中", "exceeds limit"},
		{"enum13", "已取消", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.reason+"/"+tt.value, func(t *testing.T) {
			r := m.send(tok, sendMsg{ToUser: userA, TemplateID: "all-types", Data: data(tt.key, tt.value)})
			wantMsg(t, r, 47003, "argument invalid! data."+tt.key+".value "+tt.reason)
		})
	}
}

func TestSendDataShapes(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	tok := m.token(appA, secretA)
	missing := goodData()
	delete(missing, "time2")
	extra := goodData()
	extra["thing9"] = map[string]any{"value": "x"}
	tests := []struct {
		name string
		data map[string]any
		code int64
		msg  string
	}{
		{"numeric value for a number keyword", withValue("number4", 42), 0, ""},
		{"decimal value for a number keyword", withValue("number4", 4.5), 0, ""},
		{"silenceper color is ignored", map[string]any{
			"thing1":  map[string]any{"value": "小米手机", "color": ""},
			"time2":   map[string]any{"value": "15:01", "color": "#173177"},
			"amount3": map[string]any{"value": "¥1", "color": ""},
			"number4": map[string]any{"value": 1, "color": ""},
		}, 0, ""},
		{"missing keyword", missing, 47003, "argument invalid! data.time2.value is empty"},
		{"null value", withValue("time2", nil), 47003, "argument invalid! data.time2.value is empty"},
		{"no data", nil, 47003, "argument invalid! data.thing1.value is empty"},
		{"boolean value", withValue("thing1", true), 47003, "argument invalid! data.thing1.value invalid"},
		{"object value", withValue("thing1", map[string]any{"a": 1}), 47003, "argument invalid! data.thing1.value invalid"},
		{"keyword not an object", func() map[string]any { d := goodData(); d["thing1"] = "x"; return d }(), 47003, "argument invalid! data.thing1.value invalid"},
		{"numeric value for a thing keyword", withValue("thing1", 1.5), 0, ""},
		{"extra keyword", extra, 47003, "argument invalid! data.thing9 is not a keyword of the template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.send(tok, sendMsg{ToUser: userA, TemplateID: tmplA, Data: tt.data})
			if tt.code == 0 {
				wantCode(t, r, 0)
				return
			}
			wantMsg(t, r, tt.code, tt.msg)
		})
	}
}

func TestSendAcceptsSilenceperShapedBody(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/index/index"} })
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 1})
	tok := m.token(appA, secretA)
	// Exactly what silenceper's subscribe.Message marshals to: every field,
	// empty ones included, and a color in each keyword.
	body := `{"touser":"` + userA + `","template_id":"` + tmplA + `","page":"","data":{` +
		`"thing1":{"value":"小米手机","color":""},"time2":{"value":"15:01","color":""},` +
		`"amount3":{"value":"¥100.00","color":""},"number4":{"value":"3","color":""}},` +
		`"miniprogram_state":"","lang":"","color":""}`
	wantCode(t, m.send(tok, body), 0)
	ms := m.messages()
	if len(ms) != 1 || ms[0].State != "formal" || ms[0].Lang != "zh_CN" {
		t.Fatalf("inbox %+v: want one message with the default state and lang", ms)
	}
}

func TestSendPageStateAndLang(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/index/index", "pages/order/detail"} })
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	tok := m.token(appA, secretA)
	tests := []struct {
		name, page, state, lang string
		code                    int64
		msg                     string
	}{
		{"listed page", "pages/index/index", "", "", 0, ""},
		{"listed page with query", "pages/order/detail?id=1&from=push", "", "", 0, ""},
		{"listed page with leading slash", "/pages/index/index", "", "", 0, ""},
		{"unknown page", "pages/nope/nope", "", "", 41030, "invalid page"},
		{"unknown page with query", "pages/nope?x=1", "", "", 41030, "invalid page"},
		{"URL instead of page", "https://example.com/pages/index/index", "", "", 41030, "invalid page"},
		{"developer", "", "developer", "", 0, ""},
		{"trial", "", "trial", "zh_TW", 0, ""},
		{"formal", "", "formal", "zh_HK", 0, ""},
		{"bad state", "", "production", "", 47003, "argument invalid! miniprogram_state invalid"},
		{"bad lang", "", "", "fr_FR", 47003, "argument invalid! lang invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := goodMsg()
			msg.Page, msg.MiniprogramState, msg.Lang = tt.page, tt.state, tt.lang
			r := m.send(tok, msg)
			if tt.code == 0 {
				wantCode(t, r, 0)
				return
			}
			wantMsg(t, r, tt.code, tt.msg)
		})
	}

	// An app without a pages list accepts any well-formed page.
	msg := sendMsg{ToUser: userB, TemplateID: tmplB, Page: "pages/anything?x=1",
		Data: map[string]any{"thing1": map[string]any{"value": "x"}}}
	m.grant(mockapi.Grant{Platform: mockapi.PlatformWeChat, AppID: appB, OpenID: userB, TemplateID: tmplB, Count: 1})
	wantCode(t, m.send(m.token(appB, secretB), msg), 0)
}

func TestSendGrants(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) {
		s.Apps[0].Templates = append(s.Apps[0].Templates,
			mockapi.Template{TemplateID: "long", Title: "long", Keywords: []string{"thing1"}, Type: mockapi.TemplateLongTerm})
	})
	tok := m.token(appA, secretA)

	t.Run("no grant", func(t *testing.T) {
		wantMsg(t, m.send(tok, goodMsg()), 43101, "user refuse to accept the msg")
	})
	t.Run("one-time grants are consumed", func(t *testing.T) {
		msg := goodMsg()
		msg.ToUser = userA2
		m.grant(mockapi.Grant{OpenID: userA2, TemplateID: tmplA, Count: 2})
		// A failed send does not spend a credit.
		bad := msg
		bad.Data = withValue("thing1", "")
		wantCode(t, m.send(tok, bad), 47003)
		wantCode(t, m.send(tok, msg), 0)
		wantCode(t, m.send(tok, msg), 0)
		wantCode(t, m.send(tok, msg), 43101)
		gs, err := m.Control.Grants(m.ctx, mockapi.PlatformWeChat, appA, userA2)
		if err != nil || len(gs) != 1 || gs[0].Remaining != 0 {
			t.Fatalf("grants after two sends: %+v %v, want one with 0 remaining", gs, err)
		}
	})
	t.Run("long-term grants are not consumed", func(t *testing.T) {
		m.grant(mockapi.Grant{OpenID: userA, TemplateID: "long", LongTerm: true})
		msg := sendMsg{ToUser: userA, TemplateID: "long", Data: map[string]any{"thing1": map[string]any{"value": "x"}}}
		for i := range 5 {
			if r := m.send(tok, msg); r.errCode(t) != 0 {
				t.Fatalf("long-term send %d: %s", i+1, r.Body)
			}
		}
	})
}

func TestSendConcurrentSendsSpendEachCreditOnce(t *testing.T) {
	t.Parallel()
	m := start(t)
	const credits, senders = 7, 50
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: credits})
	tok := m.token(appA, secretA)
	body, _ := json.Marshal(goodMsg())
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int64]int{}
		ids   = map[int64]bool{}
	)
	for range senders {
		wg.Go(func() {
			resp, err := http.Post(m.URL+sendPath(tok), "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Errorf("send: %v", err)
				return
			}
			defer resp.Body.Close()
			dec := json.NewDecoder(resp.Body)
			dec.UseNumber()
			var ans struct {
				ErrCode int64       `json:"errcode"`
				MsgID   json.Number `json:"msgid"`
			}
			if err := dec.Decode(&ans); err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			codes[ans.ErrCode]++
			if ans.ErrCode == 0 {
				id, _ := ans.MsgID.Int64()
				if ids[id] {
					t.Errorf("msgid %d answered twice", id)
				}
				ids[id] = true
			}
		})
	}
	wg.Wait()
	if codes[0] != credits || codes[43101] != senders-credits {
		t.Fatalf("answers %v, want %d ok and %d 43101", codes, credits, senders-credits)
	}
	if n := len(m.messages()); n != credits {
		t.Fatalf("inbox holds %d messages, want %d", n, credits)
	}
}

func TestSendRiskyContent(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, Count: 1})
	tok := m.token(appA, secretA)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "赌博", Label: 20006}},
		Review: []mockapi.ContentWord{{Word: "红包"}},
	}); err != nil {
		t.Fatal(err)
	}
	wantMsg(t, m.send(tok, sendMsg{ToUser: userA, TemplateID: tmplA, Data: withValue("thing1", "在线赌博")}),
		45168, "content hit sensitive word")
	// Review-level words pass; the credit survived the rejection.
	wantCode(t, m.send(tok, sendMsg{ToUser: userA, TemplateID: tmplA, Data: withValue("thing1", "领红包")}), 0)
}

func TestSendRequestErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tests := []struct {
		name   string
		method string
		body   any
		code   int64
	}{
		{"GET", http.MethodGet, nil, 43002},
		{"PUT", http.MethodPut, goodMsg(), 43002},
		{"empty body", http.MethodPost, "", 44002},
		{"malformed JSON", http.MethodPost, `{"touser":`, 47001},
		{"trailing garbage", http.MethodPost, `{"touser":"x"} x`, 47001},
		{"array", http.MethodPost, `[]`, 47001},
		{"null", http.MethodPost, `null`, 47001},
		{"wrong field type", http.MethodPost, `{"touser":1}`, 47001},
		{"data not an object", http.MethodPost, `{"touser":"x","data":[1]}`, 47001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, m.do(tt.method, sendPath(tok), tt.body), tt.code)
		})
	}
}

func TestSendMsgIDsAreUniqueAndIncreasing(t *testing.T) {
	t.Parallel()
	m := start(t)
	m.grant(mockapi.Grant{OpenID: userA, TemplateID: tmplA, LongTerm: true})
	tok := m.token(appA, secretA)
	var last int64 = math.MinInt64
	for i := range 5 {
		id := m.send(tok, goodMsg()).int(t, "msgid")
		if id <= last {
			t.Fatalf("send %d: msgid %d not after %d", i, id, last)
		}
		last = id
	}
	if got := fmt.Sprint(len(m.messages())); got != "5" {
		t.Fatalf("inbox holds %s messages, want 5", got)
	}
}
