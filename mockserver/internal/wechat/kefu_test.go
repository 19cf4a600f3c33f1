package wechat_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

const (
	kefuSend     = "/cgi-bin/message/custom/send"
	kefuBusiness = "/cgi-bin/message/custom/business/send"
	kefuTyping   = "/cgi-bin/message/custom/typing"
)

// TestKefuSendMessageTypes delivers each message type through both paths
// and checks what lands in the inbox.
func TestKefuSendMessageTypes(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/index/index"} })
	tok := m.token(appA, secretA)
	media := m.upload(tok, pngImage(t, 4, 4, 1))
	tests := []struct {
		name string
		path string
		body map[string]any
		data map[string]string
		page string
	}{
		{"text", kefuSend, text(userA, "您好，订单已发货"), map[string]string{"content": "您好，订单已发货"}, ""},
		{"text with a link to this mini-program", kefuBusiness,
			text(userA, `<a href="https://x.example" data-miniprogram-appid="`+appA+`" data-miniprogram-path="pages/index/index">查看</a>`),
			map[string]string{"content": `<a href="https://x.example" data-miniprogram-appid="` + appA + `" data-miniprogram-path="pages/index/index">查看</a>`}, ""},
		{"image", kefuBusiness, map[string]any{"touser": userA, "msgtype": "image", "image": map[string]any{"media_id": media}},
			map[string]string{"media_id": media}, ""},
		{"link", kefuSend, map[string]any{"touser": userA, "msgtype": "link", "link": map[string]any{
			"title": "订单详情", "description": "点击查看", "url": "https://shop.example/o/1", "thumb_url": "https://shop.example/t.png"}},
			map[string]string{"title": "订单详情", "description": "点击查看", "url": "https://shop.example/o/1", "thumb_url": "https://shop.example/t.png"}, ""},
		{"miniprogrampage, silenceper's empty appid", kefuSend, map[string]any{"touser": userA, "msgtype": "miniprogrampage",
			"miniprogrampage": map[string]any{"title": "订单", "appid": "", "pagepath": "pages/index/index?id=1", "thumb_media_id": media}},
			map[string]string{"title": "订单", "pagepath": "pages/index/index?id=1", "thumb_media_id": media}, "pages/index/index?id=1"},
	}
	// Each case is one reply; the window allows 5.
	m.openWindow(userA, "")
	for i, tt := range tests {
		wantMsg(t, m.do(http.MethodPost, api(tt.path, tok), tt.body), 0, "ok")
		got := m.kefuMessages()
		if len(got) != i+1 {
			t.Fatalf("%s: inbox holds %d customer-service messages, want %d", tt.name, len(got), i+1)
		}
		in := got[i]
		if in.Kind != mockapi.KindCustomerService || in.MsgType != tt.body["msgtype"] || in.OpenID != userA ||
			in.AppID != appA || in.Page != tt.page || in.TemplateID != "" || len(in.Data) != len(tt.data) {
			t.Errorf("%s: inbox message %+v", tt.name, in)
		}
		for k, v := range tt.data {
			if in.Data[k] != v {
				t.Errorf("%s: data %s = %q, want %q", tt.name, k, in.Data[k], v)
			}
		}
	}
	// Customer-service messages are not subscribe messages.
	sub, err := m.Control.Messages(m.ctx, mockclientKind(mockapi.KindSubscribe))
	if err != nil || sub.Total != 0 {
		t.Fatalf("subscribe messages = %+v, %v; want none", sub, err)
	}
}

// TestKefuWindow: the conversation of the acceptance feature, in Go — the
// user writes, 5 replies pass, the 6th answers 45047; no window 45015; the
// window closes after 48 h; entering the session allows 2 in a minute.
func TestKefuWindow(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	// A fresh token per send: the test moves the clock by days.
	send := func(to string) reply {
		return m.do(http.MethodPost, api(kefuSend, m.token(appA, secretA)), text(to, "hi"))
	}

	wantMsg(t, send(userA), 45015, "response out of time limit or subscription is canceled")
	m.openWindow(userA, "")
	for i := range 5 {
		if r := send(userA); r.errCode(t) != 0 {
			t.Fatalf("reply %d: %s", i+1, r.Body)
		}
	}
	wantMsg(t, send(userA), 45047, "out of response count limit")
	// The user writes again: 5 more.
	m.advance(47 * time.Hour)
	m.openWindow(userA, "")
	wantCode(t, send(userA), 0)
	// 48 hours after the last message the window is closed.
	m.advance(48 * time.Hour)
	wantCode(t, send(userA), 45015)

	// Entering the session: 2 replies within a minute.
	m.openWindow(userA2, "enter")
	wantCode(t, send(userA2), 0)
	m.advance(59 * time.Second)
	wantCode(t, send(userA2), 0)
	wantCode(t, send(userA2), 45047)
	m.openWindow(userA2, "enter")
	m.advance(time.Minute)
	wantCode(t, send(userA2), 45015)

	// Rejected sends spent nothing and delivered nothing.
	if got := len(m.kefuMessages()); got != 8 {
		t.Fatalf("inbox holds %d customer-service messages, want 8", got)
	}
	wins, err := m.Control.KefuSessions(m.ctx, mockapi.PlatformWeChat, appA, userA)
	if err != nil || len(wins) != 1 || wins[0].Sent != 6 || wins[0].Open {
		t.Fatalf("window of %s = %+v, %v; want 6 sent and closed", userA, wins, err)
	}
}

func TestKefuSendErrors(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/index/index"} })
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	media := m.upload(tok, pngImage(t, 2, 2, 3))
	mediaB := m.upload(tokB, pngImage(t, 2, 2, 4))
	m.openWindow(userA, "")
	img := func(id string) map[string]any {
		return map[string]any{"touser": userA, "msgtype": "image", "image": map[string]any{"media_id": id}}
	}
	page := func(path, thumb string) map[string]any {
		return map[string]any{"touser": userA, "msgtype": "miniprogrampage",
			"miniprogrampage": map[string]any{"title": "t", "pagepath": path, "thumb_media_id": thumb}}
	}
	tests := []struct {
		name string
		path string
		body any
		code int64
		msg  string
	}{
		{"no token", kefuSend, text(userA, "x"), 41001, "access_token missing"},
		{"bad token", api(kefuSend, "nope"), text(userA, "x"), 40001, ""},
		{"empty body", api(kefuSend, tok), "", 44002, "empty post data"},
		{"not JSON", api(kefuSend, tok), "{", 47001, "data format error"},
		{"wrong field type", api(kefuSend, tok), `{"touser":"` + userA + `","msgtype":"text","text":{"content":5}}`, 47001, ""},
		{"empty touser", api(kefuSend, tok), text("", "x"), 40003, "invalid openid"},
		{"another app's user", api(kefuSend, tok), text(userB, "x"), 40003, "invalid openid"},
		{"no msgtype", api(kefuSend, tok), map[string]any{"touser": userA}, 40008, "invalid message type"},
		{"unknown msgtype", api(kefuSend, tok), map[string]any{"touser": userA, "msgtype": "sticker"}, 40008, ""},
		{"news is for Official Accounts", api(kefuSend, tok), map[string]any{"touser": userA, "msgtype": "news",
			"news": map[string]any{"articles": []any{}}}, 45162, "invalid type"},
		{"text without object", api(kefuSend, tok), map[string]any{"touser": userA, "msgtype": "text"}, 47001, ""},
		{"empty text", api(kefuSend, tok), text(userA, ""), 47001, ""},
		{"text too long", api(kefuSend, tok), text(userA, strings.Repeat("长", 683)), 45002, "content size out of limit"},
		{"text link to another mini-program", api(kefuSend, tok), text(userA, `<a href="#" data-miniprogram-appid="wx0000000000000000" data-miniprogram-path="p">x</a>`), 40013, "invalid appid"},
		{"image without object", api(kefuSend, tok), map[string]any{"touser": userA, "msgtype": "image"}, 47001, ""},
		{"image without media_id", api(kefuSend, tok), img(""), 41006, "media_id missing"},
		{"unknown media_id", api(kefuSend, tok), img(strings.Repeat("a", 64)), 40007, "invalid media_id"},
		{"another app's media_id", api(kefuSend, tok), img(mediaB), 40007, "invalid media_id"},
		{"link missing a field", api(kefuSend, tok), map[string]any{"touser": userA, "msgtype": "link",
			"link": map[string]any{"title": "t", "url": "https://x.example", "thumb_url": "https://x.example/t.png"}}, 47001, ""},
		{"card without thumb", api(kefuSend, tok), page("pages/index/index", ""), 47001, ""},
		{"card on an unpublished page", api(kefuSend, tok), page("pages/secret/secret", media), 41030, "invalid page"},
		{"card with an unknown thumb", api(kefuBusiness, tok), page("pages/index/index", "x"), 40007, ""},
		{"GET", api(kefuSend, tok), nil, 43002, "require POST method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.name == "GET" {
				method = http.MethodGet
			}
			r := m.do(method, tt.path, tt.body)
			wantAnswer(t, r, tt.code, tt.msg)
		})
	}
	// None of them spent a reply of the window, or reached the inbox.
	wins, err := m.Control.KefuSessions(m.ctx, mockapi.PlatformWeChat, appA, userA)
	if err != nil || len(wins) != 1 || wins[0].Remaining != 5 || wins[0].Sent != 0 {
		t.Fatalf("window after failing sends = %+v, %v", wins, err)
	}
	if got := m.kefuMessages(); len(got) != 0 {
		t.Fatalf("inbox holds %d messages after failing sends", len(got))
	}
	// The image message is refused once its media expires (3 days).
	wantCode(t, m.do(http.MethodPost, api(kefuSend, tok), img(media)), 0)
	m.advance(72 * time.Hour)
	tok = m.token(appA, secretA)
	m.openWindow(userA, "")
	wantMsg(t, m.do(http.MethodPost, api(kefuSend, tok), img(media)), 40007, "invalid media_id")
}

func TestKefuTyping(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	tok := m.token(appA, secretA)
	typing := func(command string) reply {
		return m.do(http.MethodPost, api(kefuTyping, tok), map[string]any{"touser": userA, "command": command})
	}
	wantCode(t, typing("Typing"), 45015) // no window
	m.openWindow(userA, "")
	steps := []struct {
		name    string
		advance time.Duration
		command string
		code    int64
		msg     string
	}{
		{"typing", 0, "Typing", 0, "ok"},
		{"again while typing", 5 * time.Second, "Typing", 45081, "已经在输入状态，不可重复下发"},
		{"bad command", 0, "typing", 45072, "invalid command"},
		{"typing ends after 15 s", 11 * time.Second, "Typing", 0, "ok"},
		{"cancel", time.Second, "CancelTyping", 0, "ok"},
		{"cancel when not typing", 0, "CancelTyping", 0, "ok"},
		{"no exchange in the last 30 s", 20 * time.Second, "Typing", 45080, "need sending message to user"},
	}
	for _, st := range steps {
		if st.advance > 0 {
			m.advance(st.advance)
		}
		wantMsg(t, typing(st.command), st.code, st.msg)
	}
	// A reply is an exchange: typing may follow; and a reply cancels it.
	wantCode(t, m.do(http.MethodPost, api(kefuSend, tok), text(userA, "稍等")), 0)
	wantCode(t, typing("Typing"), 0)
	wantCode(t, m.do(http.MethodPost, api(kefuSend, tok), text(userA, "好了")), 0)
	wantCode(t, typing("Typing"), 0)
	// The business path is the same API; other errors.
	wantCode(t, m.do(http.MethodPost, api("/cgi-bin/message/custom/business/typing", tok),
		map[string]any{"touser": userA, "command": "CancelTyping"}), 0)
	wantCode(t, m.do(http.MethodPost, api(kefuTyping, tok), map[string]any{"touser": userB, "command": "Typing"}), 40003)
	wantCode(t, m.do(http.MethodPost, api(kefuTyping, tok), ""), 44002)
	// Typing spends no reply.
	wins, err := m.Control.KefuSessions(m.ctx, mockapi.PlatformWeChat, appA, userA)
	if err != nil || len(wins) != 1 || wins[0].Remaining != 3 {
		t.Fatalf("window = %+v, %v; want 3 replies left", wins, err)
	}
}
