package events

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Douyin's webhooks
// (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/tutorial/basic-ability/webhook,
// https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/webhooks/summarize):
// a JSON POST {"event","client_key","from_user_id","content"} signed with
// X-Douyin-Signature = hex(sha1(secret ‖ raw body)) and carrying Msg-Id,
// the same on every re-send. Which secret signs is UNCONFIRMED: the
// webhook pages say the client secret (the app secret), the mini-app page
// a separate webhook secret. Like the mock (docs/mock-douyin.md), the
// sender uses events.token when it is set and the app secret otherwise.
// Douyin signs no timestamp: re-sends are caught by Msg-Id, and there is
// no window to refuse a replay by.
type douyinReceiver struct {
	app App
}

// Douyin event names.
const (
	dyEventVerify          = "verify_webhook"
	dyEventSubscribeAction = "user_subscribe_action"
)

// Douyin's subscribe_action values
// (…/subscribe-notification/subscription-status-push-event).
const (
	dyActionNone           = 0
	dyActionOneTime        = 1
	dyActionLongTerm       = 2
	dyActionLongTermReject = 3
	dyActionOneTimeReject  = 4
)

type douyinBody struct {
	Event      string          `json:"event"`
	ClientKey  string          `json:"client_key"`
	FromUserID string          `json:"from_user_id"`
	Content    json.RawMessage `json:"content"`
}

func (dr *douyinReceiver) receive(r *http.Request, body []byte) (*decoded, *refusal) {
	if r.Method != http.MethodPost {
		return nil, refuse(http.StatusMethodNotAllowed, refusedMalformed, "Douyin's webhooks are POSTs")
	}
	sig := r.Header.Get("X-Douyin-Signature")
	if sig == "" {
		return nil, refuse(http.StatusUnauthorized, refusedSignature, "X-Douyin-Signature is required: Douyin signs every webhook")
	}
	secret := dr.app.Token
	if secret == "" {
		secret = dr.app.Secret
	}
	sum := sha1.Sum(append([]byte(secret), body...))
	if !signatureMatches(sig, hex.EncodeToString(sum[:])) {
		return nil, refuse(http.StatusUnauthorized, refusedSignature, "X-Douyin-Signature does not verify with this app's webhook secret")
	}
	var b douyinBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "malformed JSON body: %s", jsonProblem(err))
	}
	b.Event, b.FromUserID = strings.TrimSpace(b.Event), strings.TrimSpace(b.FromUserID)
	switch {
	case b.Event == "":
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "event is missing")
	case len(b.Event) > maxID || len(b.FromUserID) > maxID:
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "event or from_user_id is longer than %d characters", maxID)
	case b.ClientKey != "" && b.ClientKey != dr.app.AppID:
		return nil, refuse(http.StatusBadRequest, refusedAppID, "client_key %s is not this app (%s)", clip(b.ClientKey, 40), dr.app.AppID)
	}
	content, ref := douyinContent(b.Content)
	if ref != nil {
		return nil, ref
	}
	if b.Event == dyEventVerify {
		return dr.challenge(content)
	}
	p := Payload{Platform: "douyin", Event: b.Event, User: b.FromUserID}
	if id := r.Header.Get("Msg-Id"); len(id) <= maxID {
		p.MsgID = strings.TrimSpace(id)
	} else {
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "Msg-Id is longer than %d characters", maxID)
	}
	if b.Event == dyEventSubscribeAction {
		if ref := checkSubscribeAction(&p, content); ref != nil {
			return nil, ref
		}
	}
	key := "msg:" + p.MsgID
	if p.MsgID == "" {
		// Msg-Id is documented on every push; without it, the signed
		// body itself is what a re-send repeats.
		h := sha256.Sum256(body)
		key = "body:" + hex.EncodeToString(h[:])
	}
	return &decoded{payload: p, key: key}, nil
}

// douyinContent reads content: a JSON object written as a string (events),
// or an object (verify_webhook).
func douyinContent(raw json.RawMessage) (json.RawMessage, *refusal) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, refuse(http.StatusBadRequest, refusedMalformed, "content: %s", jsonProblem(err))
		}
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' || !json.Valid(raw) {
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "content must be a JSON object (or one written as a string)")
	}
	return raw, nil
}

// challenge answers verify_webhook: {"challenge": N}, N as it came.
func (dr *douyinReceiver) challenge(content json.RawMessage) (*decoded, *refusal) {
	var c struct {
		Challenge json.RawMessage `json:"challenge"`
	}
	if content != nil {
		_ = json.Unmarshal(content, &c)
	}
	ch := bytes.TrimSpace(c.Challenge)
	if len(ch) == 0 || len(ch) > maxID || (ch[0] != '"' && (ch[0] < '0' || ch[0] > '9') && ch[0] != '-') {
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "verify_webhook needs content.challenge, a number")
	}
	return &decoded{answer: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"challenge":` + string(ch) + `}`))
	}}, nil
}

func checkSubscribeAction(p *Payload, content json.RawMessage) *refusal {
	bad := func(format string, args ...any) *refusal {
		return refuse(http.StatusBadRequest, refusedMalformed, format, args...)
	}
	var c struct {
		MsgID  flexString `json:"msg_id"`
		Time   flexString `json:"time"`
		Action flexString `json:"subscribe_action"`
	}
	if content == nil {
		return bad("user_subscribe_action needs content")
	}
	if err := json.Unmarshal(content, &c); err != nil {
		return bad("content: %s", jsonProblem(err))
	}
	tpl := strings.TrimSpace(string(c.MsgID))
	action, err := strconv.Atoi(strings.TrimSpace(string(c.Action)))
	switch {
	case p.User == "":
		return bad("from_user_id is missing: the user who acted")
	case tpl == "":
		return bad("content.msg_id is missing: the template the user acted on")
	case len(tpl) > maxID:
		return bad("content.msg_id is longer than %d characters", maxID)
	case err != nil || action < dyActionNone || action > dyActionOneTimeReject:
		return bad("content.subscribe_action must be 0 to 4, got %s", clip(string(c.Action), 20))
	}
	if t, err := strconv.ParseInt(strings.TrimSpace(string(c.Time)), 10, 64); err == nil && t > 0 {
		p.CreateTime = t
	}
	p.Items = []Item{{TemplateID: tpl, Action: action}}
	return nil
}
