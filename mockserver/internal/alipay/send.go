package alipay

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Field limits from the method's doc table ("最大长度"): to_user_id 20,
// user_template_id 64, page 128, data 2048. to_open_id is not in that (old)
// table: 128 is the mock's UNCONFIRMED bound.
const (
	maxUserIDLen     = 20
	maxOpenIDLen     = 128
	maxTemplateIDLen = 64
	maxPageLen       = 128
	maxDataLen       = 2048
)

// sendBiz is the biz_content of alipay.open.app.mini.templatemessage.send.
// data is a JSON *string* holding {"keyword1":{"value":"…"},…}; an object
// is accepted too (lenient: UNCONFIRMED whether the platform accepts it).
// form_id belongs to the legacy form/payment triggers and is ignored.
type sendBiz struct {
	ToUserID       string          `json:"to_user_id"`
	ToOpenID       string          `json:"to_open_id"`
	UserTemplateID string          `json:"user_template_id"`
	Page           string          `json:"page"`
	Data           json.RawMessage `json:"data"`
	FormID         string          `json:"form_id"`
}

type sendState struct {
	biz  sendBiz
	err  error
	user string // to_user_id, else to_open_id
}

// sendError is a rejection found while checking a send.
type sendError struct {
	sub SubCode
	msg string
}

func (e *sendError) Error() string { return string(e.sub) + " " + e.msg }

func invalid(msg string) *sendError { return &sendError{sub: SubParamIllegal, msg: msg} }

var errNoBizContent = errors.New("biz_content is missing")

func (e *Emulator) prepareSend(q *call) {
	st := readSend([]byte(q.p["biz_content"]))
	q.c.OpenID = st.user
	q.state = st
}

// readSend decodes a send's business fields (biz_content, or the v3 JSON
// body) and names its user.
func readSend(raw []byte) *sendState {
	st := &sendState{}
	if len(raw) == 0 {
		st.err = errNoBizContent
	} else if err := json.Unmarshal(raw, &st.biz); err != nil {
		st.err = err
	}
	st.user = st.biz.ToUserID
	if st.user == "" {
		st.user = st.biz.ToOpenID
	}
	return st
}

// alipay.open.app.mini.templatemessage.send (the gateway method).
func (e *Emulator) serveSend(q *call) {
	if serr := e.send(q.app, q.state.(*sendState)); serr != nil {
		code := CodeBusinessFailed
		if serr.sub == SubUnknownError {
			code = CodeUnavailable
		}
		q.fail(code, serr.sub, serr.msg)
		return
	}
	q.reply(CodeSuccess, errorNode{Code: CodeSuccess, Msg: CodeSuccess.Message()})
}

// send checks and delivers one message for either protocol (the gateway
// and OpenAPI v3 share it); nil is a success.
//
// Checks: the body and its fields, then (atomically, through the store)
// the user, the template, the data keywords, the page and the content,
// then the user's grant; success consumes a one-time grant and lands the
// message in the inbox with openid = the user id (or open id) used.
func (e *Emulator) send(app *store.App, st *sendState) *sendError {
	if st.err != nil {
		if errors.Is(st.err, errNoBizContent) {
			return invalid("biz_content不能为空")
		}
		return invalid("biz_content格式错误")
	}
	if serr := checkSendFields(&st.biz); serr != nil {
		return serr
	}
	data, serr := parseData(st.biz.Data)
	if serr != nil {
		return serr
	}
	var values map[string]string
	err := e.env.Store.Send(Name, app.AppID, st.user, st.biz.UserTemplateID, func(t *store.Template) error {
		var serr *sendError
		values, serr = e.checkSend(app, t, data, st.biz.Page)
		if serr != nil {
			return serr
		}
		return nil
	})
	var se *sendError
	switch {
	case err == nil:
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrUnknownUser):
		return &sendError{sub: SubUserNotExist, msg: SubUserNotExist.Message()}
	case errors.Is(err, store.ErrUnknownTemplate):
		return &sendError{sub: SubTemplateIllegal, msg: SubTemplateIllegal.Message()}
	case errors.Is(err, store.ErrNoGrant):
		return &sendError{sub: SubNotSubscribed, msg: SubNotSubscribed.Message()}
	default:
		return &sendError{sub: SubUnknownError, msg: SubUnknownError.Message()}
	}
	e.env.Deliver(mockapi.Message{
		Platform: Name, AppID: app.AppID, OpenID: st.user, TemplateID: st.biz.UserTemplateID,
		Data: values, Page: st.biz.Page, ReceivedAt: e.env.Clock.Now(),
	})
	return nil
}

// checkSendFields checks presence and lengths. page is marked required
// ("必选") in the method's doc table, so an empty page is refused.
func checkSendFields(b *sendBiz) *sendError {
	switch {
	case b.ToUserID == "" && b.ToOpenID == "":
		return invalid("to_user_id和to_open_id不能同时为空")
	case utf8.RuneCountInString(b.ToUserID) > maxUserIDLen:
		return invalid("to_user_id超过最大长度" + fmt.Sprint(maxUserIDLen))
	case b.ToUserID == "" && utf8.RuneCountInString(b.ToOpenID) > maxOpenIDLen:
		return invalid("to_open_id超过最大长度" + fmt.Sprint(maxOpenIDLen))
	case b.UserTemplateID == "":
		return invalid("user_template_id不能为空")
	case utf8.RuneCountInString(b.UserTemplateID) > maxTemplateIDLen:
		return invalid("user_template_id超过最大长度" + fmt.Sprint(maxTemplateIDLen))
	case b.Page == "":
		return invalid("page不能为空")
	case utf8.RuneCountInString(b.Page) > maxPageLen:
		return invalid("page超过最大长度" + fmt.Sprint(maxPageLen))
	}
	return nil
}

// parseData reads data: a JSON string holding the keyword object (or the
// object itself). Each keyword is {"value": string or number}.
func parseData(raw json.RawMessage) (map[string]json.RawMessage, *sendError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("data不能为空")
	}
	text := raw
	if raw[0] == '"' {
		s, ok := platform.JSONString(raw)
		if !ok {
			return nil, invalid("data格式错误")
		}
		if strings.TrimSpace(s) == "" {
			return nil, invalid("data不能为空")
		}
		if utf8.RuneCountInString(s) > maxDataLen {
			return nil, invalid("data超过最大长度" + fmt.Sprint(maxDataLen))
		}
		text = json.RawMessage(s)
	}
	data, _ := platform.RawObject(text)
	if data == nil {
		return nil, invalid("data格式错误，应为{\"keyword1\":{\"value\":\"…\"}}")
	}
	return data, nil
}

// checkSend validates data against the template's keywords, the page and
// the content; it returns the keyword values as text, keyed as sent.
//
// Alipay addresses a template's keywords by position: data keys are
// keyword1…keywordN. The mock maps keywordI to the template's I-th
// registered keyword, whose key only gives the value rule: a WeChat type
// (thing1 → thing's rule, …) or, for untyped keys, mockserver/internal/keyword's
// generic rule — not empty, one line, at most 20 characters (UNCONFIRMED:
// Alipay documents no per-value limit). The docs say the placeholders
// "必须和申请模板时的关键词一一匹配": a missing or an extra key is refused.
func (e *Emulator) checkSend(app *store.App, t *store.Template, data map[string]json.RawMessage, page string) (map[string]string, *sendError) {
	values := make(map[string]string, len(data))
	for i, rule := range t.Keywords {
		key := dataKey(i)
		raw, ok := data[key]
		if !ok {
			return nil, invalid("data." + key + ".value is empty")
		}
		v, ok := platform.KeywordValue(raw)
		if !ok {
			return nil, invalid("data." + key + ".value invalid")
		}
		if err := keyword.Check(rule, v, t.Enums[rule]); err != nil {
			var kv *keyword.Violation
			if errors.As(err, &kv) {
				kv.Key = key // name the key the caller sent, not the rule
			}
			return nil, invalid(err.Error())
		}
		values[key] = v
	}
	if len(data) > len(values) {
		var extra []string
		for k := range data {
			if _, ok := values[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return nil, invalid("data." + extra[0] + " is not a keyword of the template")
	}
	if !platform.ValidPage(app, page) {
		return nil, &sendError{sub: SubPageIllegal, msg: SubPageIllegal.Message()}
	}
	texts := make([]string, 0, len(values))
	for _, v := range values {
		texts = append(texts, v)
	}
	if v := e.env.Content.Check(texts...); v.Suggest == content.Risky {
		return nil, &sendError{sub: SubContentIllegal, msg: SubContentIllegal.Message()}
	}
	return values, nil
}

// dataKey is the Alipay data key of the i-th (0-based) keyword.
func dataKey(i int) string { return "keyword" + strconv.Itoa(i+1) }
