package baidu

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/reason"
)

// pathSend is the subscribe-message API (docs/platforms/baidu.md).
const pathSend = "/rest/2.0/smartapp/template/message/subscribe/send"

// SubscribeIDKey is the Data key a message may carry its subscribe_id
// under. It is taken out of the data before sending. Baidu's keyword keys
// are keyword1, keyword2, … (a name and digits), so this key cannot clash
// with one.
const SubscribeIDKey = "subscribe_id"

// SubscribeID is the subscribe_id a send uses, and whether it came from
// the message itself.
//
// Baidu requires subscribe_id: the developer-chosen id the user authorized
// the template under, in the mini-program's subscription form or call.
// "同一用户在同一个订阅id 下的多次授权不累积下发权限，只能下发一条。若要订阅多条，需要不同订阅 id":
// an authorization allows one message under that id. The sender cannot
// observe the authorization, so the id comes from, in order:
//
//  1. the message: Data[SubscribeIDKey] (when the mini-program uses
//     per-order ids, e.g. the order number, the producer knows it);
//  2. Config.SubscribeIDs[template id] (the fixed id the mini-program uses
//     for that template);
//  3. Config.SubscribeID;
//  4. the template id itself (a common convention; configure the above when
//     the mini-program uses another).
func (c *Client) SubscribeID(s platform.Send) (id string, fromMessage bool) {
	if id := strings.TrimSpace(s.Data[SubscribeIDKey]); id != "" {
		return id, true
	}
	if id := c.cfg.SubscribeIDs[s.TemplateID]; id != "" {
		return id, false
	}
	if c.cfg.SubscribeID != "" {
		return c.cfg.SubscribeID, false
	}
	return s.TemplateID, false
}

type keywordValue struct {
	Value string `json:"value"`
}

// encodeData writes the keywords as the JSON string the form field carries:
// {"keyword1":{"value":"2018-09-06"},…}, without SubscribeIDKey. Chinese
// text and "&" go as they are.
func encodeData(data map[string]string) (string, error) {
	m := make(map[string]keywordValue, len(data))
	for k, v := range data {
		if k != SubscribeIDKey {
			m[k] = keywordValue{Value: v}
		}
	}
	return call.JSONText(m)
}

// Send delivers one subscribe message: POST ?access_token= with the form
// template_id, touser_openId (camel-case), subscribe_id (see SubscribeID),
// data (a JSON string) and page (optional: the home page by default). A
// token error (gateway 110/111) gets one refetch and one immediate retry;
// the error then has class token. Result.MsgID is data.msg_key.
func (c *Client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	data, err := encodeData(s.Data)
	if err != nil {
		// Strings always encode; kept so a future value type cannot panic.
		return platform.Result{}, &platform.Error{Platform: Platform, Code: call.CodeMalformed,
			Class: message.OutcomePermanent, Reason: reason.InvalidRequest, Message: "encode data: " + c.api.Scrub(err.Error())}
	}
	subID, _ := c.SubscribeID(s)
	form := url.Values{"template_id": {s.TemplateID}, "touser_openId": {s.To}, "subscribe_id": {subID}, "data": {data}}
	if s.Page != "" {
		form.Set("page", s.Page)
	}
	var res platform.Result
	err = platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
		a, perr := c.api.PostForm(ctx, call.Request{URL: c.tokenURL(pathSend, token), Name: pathSend,
			ContentType: contentForm, Token: token}, form)
		if perr != nil {
			return perr
		}
		res, perr = c.parseSend(a.Body)
		return perr
	})
	if err != nil {
		return platform.Result{}, err
	}
	return res, nil
}

// parseSend reads {"errno":0,"msg":"success","data":{"msg_key":158}}, a
// business error {"errno":N,"msg"} or a gateway error
// {"error_code","error_msg"}. An errno of 0 is a delivery even if msg_key
// is missing or unreadable: calling it a failure would send it twice.
func (c *Client) parseSend(b []byte) (platform.Result, *platform.Error) {
	a, perr := c.decodeAnswer(pathSend, b)
	if perr != nil {
		return platform.Result{}, perr
	}
	if code, ok := a.gateway(); ok {
		return platform.Result{}, c.gatewayError(gatewayRules, code, call.Text(a.ErrorMsg))
	}
	errno, ok := call.Number(a.Errno)
	switch {
	case !ok:
		return platform.Result{}, malformed(pathSend, "no errno")
	case errno != 0:
		return platform.Result{}, c.errnoError(sendRules, Errno(errno), call.Text(a.Msg))
	}
	var data struct {
		MsgKey json.RawMessage `json:"msg_key"`
	}
	var res platform.Result
	if json.Unmarshal(a.Data, &data) == nil {
		if n, ok := call.Number(data.MsgKey); ok {
			res.MsgID = strconv.FormatInt(n, 10)
		}
	}
	return res, nil
}
