package wechat

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Customer-service (客服) messages. Send: the old page
// (customerServiceMessage.send, https://developers.weixin.qq.com/miniprogram/dev/api-backend/open-api/customer-message/customerServiceMessage.send.html)
// and the SDKs use /cgi-bin/message/custom/send; the current page
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/customer-message/api_send_msg_custom.html)
// names /cgi-bin/message/custom/business/send. Both are served, as one
// endpoint. Replies are allowed only inside the window a user's action
// opens (store/kefu.go): none open → 45015, replies used up → 45047.

// EmulatesKefu marks WeChat as a platform with customer-service messages,
// so the control API opens windows for its apps.
func (e *Emulator) EmulatesKefu() {}

// maxKefuTextBytes bounds a text message. The mini-program page states no
// limit; 2,048 bytes is the Official Account figure for text messages
// (UNCONFIRMED), answered with 45002.
const maxKefuTextBytes = 2048

type kefuText struct {
	Content string `json:"content"`
}

type kefuImage struct {
	MediaID string `json:"media_id"`
}

type kefuLink struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	ThumbURL    string `json:"thumb_url"`
}

// kefuPage is a mini-program card. silenceper always sends "appid":"".
type kefuPage struct {
	Title        string `json:"title"`
	AppID        string `json:"appid"`
	PagePath     string `json:"pagepath"`
	ThumbMediaID string `json:"thumb_media_id"`
}

type kefuRequest struct {
	ToUser          string     `json:"touser"`
	MsgType         string     `json:"msgtype"`
	Text            *kefuText  `json:"text"`
	Image           *kefuImage `json:"image"`
	Link            *kefuLink  `json:"link"`
	MiniProgramPage *kefuPage  `json:"miniprogrampage"`
}

// kefuFlat is kefuRequest as platform.DecodeFlat reads it: each message
// object as its raw members.
type kefuFlat struct {
	ToUser  string                     `json:"touser"`
	MsgType string                     `json:"msgtype"`
	Text    map[string]json.RawMessage `json:"text"`
	Image   map[string]json.RawMessage `json:"image"`
	Link    map[string]json.RawMessage `json:"link"`
	Page    map[string]json.RawMessage `json:"miniprogrampage"`
}

func (q *kefuFlat) flatFields() []platform.FlatField {
	return []platform.FlatField{{Name: "touser", Str: &q.ToUser}, {Name: "msgtype", Str: &q.MsgType},
		{Name: "text", Obj: &q.Text}, {Name: "image", Obj: &q.Image}, {Name: "link", Obj: &q.Link},
		{Name: "miniprogrampage", Obj: &q.Page}}
}

// decodeKefu is decodeJSON(body, req) with the usual body — a text message,
// {"touser","msgtype","text":{"content"}} — read in one pass
// (platform.DecodeFlat). Any other message object, any member of text but
// content (spelt exactly) or a content that is not a plain string goes to
// encoding/json, whose verdict that is (FuzzKefuBody holds both to it).
func decodeKefu(body []byte, req *kefuRequest) ErrCode {
	var f kefuFlat
	if platform.DecodeFlat(body, f.flatFields()) && f.Image == nil && f.Link == nil && f.Page == nil {
		if text, ok := kefuTextOf(f.Text); ok {
			*req = kefuRequest{ToUser: f.ToUser, MsgType: f.MsgType, Text: text}
			return CodeOK
		}
	}
	return decodeJSON(body, req)
}

// kefuTextOf is the text object of members m (nil: none), false when it is
// not the plain shape.
func kefuTextOf(m map[string]json.RawMessage) (*kefuText, bool) {
	if m == nil {
		return nil, true
	}
	t := &kefuText{}
	for k, raw := range m {
		if k != "content" {
			return nil, false
		}
		s, ok := platform.JSONString(raw)
		if !ok {
			return nil, false
		}
		t.Content = s
	}
	return t, true
}

// officialAccountTypes are customer-service types of Official Accounts
// that mini-programs cannot send: 45162 "invalid type" was observed for
// news; the others are the same case (UNCONFIRMED).
var officialAccountTypes = map[string]bool{"news": true, "mpnews": true, "mpnewsarticle": true, "voice": true,
	"video": true, "music": true, "msgmenu": true, "wxcard": true}

// miniprogramAppID finds the data-miniprogram-appid attributes of text
// links: "appid 必须是该小程序的 appid" (send page, text message note).
var miniprogramAppID = regexp.MustCompile(`data-miniprogram-appid\s*=\s*["']([^"']*)["']`)

// POST /cgi-bin/message/custom/send?access_token=TOKEN (and business/send)
//
// Checks: token; body (44002/47001); quota custom_send; touser a user of
// the app (40003); msgtype and its object (see checkKefu); the window
// (45015/45047). Success spends one reply, cancels typing and lands the
// message in the inbox as kind customer_service.
func (e *Emulator) handleCustomSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req kefuRequest
	decode := func(b []byte) ErrCode { return decodeKefu(b, &req) }
	app, ok := e.begin(w, r, c, decode, func() string { return req.ToUser })
	if !ok || !e.take(w, c, app, EndpointCustomSend, CodeMinuteQuota) {
		return
	}
	if req.ToUser == "" || !e.env.Store.HasUser(Name, app.AppID, req.ToUser) {
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	}
	now := e.env.Clock.Now()
	data, page, code := e.checkKefu(app, &req)
	if code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	if _, err := e.env.Store.TakeKefuReply(Name, app.AppID, req.ToUser, now); err != nil {
		e.fail(w, c, kefuCode(err), "")
		return
	}
	e.env.Deliver(mockapi.Message{Platform: Name, Kind: mockapi.KindCustomerService, AppID: app.AppID,
		OpenID: req.ToUser, MsgType: req.MsgType, Data: data, Page: page, ReceivedAt: now})
	e.ok(w, c)
}

// checkKefu validates the message object of req.MsgType and returns its
// fields for the inbox. Codes: an empty or unknown msgtype 40008
// (UNCONFIRMED), an Official-Account-only type 45162, a missing object or
// required field 47001 (UNCONFIRMED: "post 数据中参数缺失"), text over
// 2,048 bytes 45002 (UNCONFIRMED), a text link to another mini-program's
// appid 40013 (UNCONFIRMED), image without media_id 41006, an unknown,
// expired or other app's media_id 40007, a card page that is malformed or
// not published 41030.
func (e *Emulator) checkKefu(app *store.App, req *kefuRequest) (data map[string]string, page string, code ErrCode) {
	switch req.MsgType {
	case "text":
		t := req.Text
		switch {
		case t == nil || t.Content == "":
			return nil, "", CodeDataFormat
		case len(t.Content) > maxKefuTextBytes:
			return nil, "", CodeContentTooLong
		}
		for _, m := range miniprogramAppID.FindAllStringSubmatch(t.Content, -1) {
			if m[1] != app.AppID {
				return nil, "", CodeInvalidAppID
			}
		}
		return map[string]string{"content": t.Content}, "", CodeOK
	case "image":
		if req.Image == nil {
			return nil, "", CodeDataFormat
		}
		if code := e.checkMediaID(app, req.Image.MediaID); code != CodeOK {
			return nil, "", code
		}
		return map[string]string{"media_id": req.Image.MediaID}, "", CodeOK
	case "link":
		l := req.Link
		if l == nil || l.Title == "" || l.Description == "" || l.URL == "" || l.ThumbURL == "" {
			return nil, "", CodeDataFormat
		}
		return map[string]string{"title": l.Title, "description": l.Description, "url": l.URL, "thumb_url": l.ThumbURL}, "", CodeOK
	case "miniprogrampage":
		p := req.MiniProgramPage
		if p == nil || p.Title == "" || p.PagePath == "" || p.ThumbMediaID == "" {
			return nil, "", CodeDataFormat
		}
		if !platform.ValidPage(app, p.PagePath) {
			return nil, "", CodeInvalidPage
		}
		if code := e.checkMediaID(app, p.ThumbMediaID); code != CodeOK {
			return nil, "", code
		}
		d := map[string]string{"title": p.Title, "pagepath": p.PagePath, "thumb_media_id": p.ThumbMediaID}
		if p.AppID != "" {
			d["appid"] = p.AppID
		}
		return d, p.PagePath, CodeOK
	}
	if officialAccountTypes[req.MsgType] {
		return nil, "", CodeKefuInvalidType
	}
	return nil, "", CodeInvalidMessageType
}

// kefuCode maps a window refusal to the platform's code.
func kefuCode(err error) ErrCode {
	switch {
	case errors.Is(err, store.ErrKefuClosed):
		return CodeKefuOutOfTime
	case errors.Is(err, store.ErrKefuExhausted):
		return CodeKefuCountLimit
	case errors.Is(err, store.ErrKefuNoInteraction):
		return CodeTypingNoInteraction
	case errors.Is(err, store.ErrKefuTyping):
		return CodeTypingAlready
	}
	return CodeSystemBusy
}

type typingRequest struct {
	ToUser  string `json:"touser"`
	Command string `json:"command"`
}

// POST /cgi-bin/message/custom/typing?access_token=TOKEN (and
// business/typing), {"touser","command":"Typing"|"CancelTyping"}
// (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/typing.html).
//
// Checks: token; body; quota custom_typing; touser (40003); command
// (45072); an open window — "如果不满足发送客服消息的触发条件，则无法下发输入状态",
// answered 45015 (UNCONFIRMED: the page names no code); for Typing, a
// message exchange in the last 30 s (45080) and no typing state showing
// (45081, which lasts 15 s). CancelTyping when not typing succeeds.
func (e *Emulator) handleCustomTyping(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req typingRequest
	app, ok := e.begin(w, r, c, into(&req), func() string { return req.ToUser })
	if !ok || !e.take(w, c, app, EndpointCustomTyping, CodeMinuteQuota) {
		return
	}
	if req.ToUser == "" || !e.env.Store.HasUser(Name, app.AppID, req.ToUser) {
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	}
	var typing bool
	switch req.Command {
	case "Typing":
		typing = true
	case "CancelTyping":
	default:
		e.fail(w, c, CodeTypingCommand, "")
		return
	}
	if _, err := e.env.Store.SetKefuTyping(Name, app.AppID, req.ToUser, typing, e.env.Clock.Now()); err != nil {
		e.fail(w, c, kefuCode(err), "")
		return
	}
	e.ok(w, c)
}
