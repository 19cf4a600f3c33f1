package kuaishou

import (
	"context"
	"net/url"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/reason"
)

// pathSend is the subscribe-message API (docs/platforms/kuaishou.md).
const pathSend = "/openapi/mp/developer/message/template/send"

type keywordValue struct {
	Value string `json:"value"`
}

// encodeData writes data as the JSON string the form field carries:
// {"thing01":{"value":"会员卡"},…}. Chinese text and "&" go as they are.
func encodeData(data map[string]string) (string, error) {
	m := make(map[string]keywordValue, len(data))
	for k, v := range data {
		m[k] = keywordValue{Value: v}
	}
	return call.JSONText(m)
}

// Send delivers one subscribe message: a form POST with app_id,
// access_token, template_id, to_user (the open id), page and data (a JSON
// string). app_id and access_token go in the form, as the doc's parameter
// table lists them (one SDK also appends access_token to the query; the
// body keeps it out of URLs). A token error gets one refetch and one
// immediate retry; the error then has class token. Kuaishou answers no
// message id (none is documented), so Result.MsgID is empty.
func (c *Client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	data, err := encodeData(s.Data)
	if err != nil {
		// Strings always encode; kept so a future value type cannot panic.
		return platform.Result{}, &platform.Error{Platform: Platform, Code: call.CodeMalformed,
			Class: message.OutcomePermanent, Reason: reason.InvalidRequest, Message: "encode data: " + c.api.Scrub(err.Error())}
	}
	page := s.Page
	if page == "" {
		page = c.cfg.DefaultPage
	}
	err = platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
		form := url.Values{"app_id": {c.cfg.AppID}, "access_token": {token}, "template_id": {s.TemplateID},
			"to_user": {s.To}, "data": {data}}
		if page != "" {
			form.Set("page", page)
		}
		b, perr := c.post(ctx, pathSend, form, token)
		if perr != nil {
			return perr
		}
		return c.parseSend(b)
	})
	if err != nil {
		return platform.Result{}, err
	}
	return platform.Result{}, nil
}

// parseSend reads {"result":1} or {"result":N,"error","error_msg"}.
func (c *Client) parseSend(b []byte) *platform.Error {
	a, perr := c.decodeAnswer(pathSend, b)
	if perr != nil {
		return perr
	}
	result, ok := call.Number(a.Result)
	switch {
	case !ok:
		return malformed(pathSend, "no result")
	case Result(result) != ResultOK:
		return c.classify(sendRules, Result(result), a.errText())
	}
	return nil
}

// CheckContent: Kuaishou's text detection needs an e-mail application and
// its endpoint, request and answer are not documented anywhere retrievable
// (docs/platforms/kuaishou.md), so there is nothing to call.
func (c *Client) CheckContent(context.Context, string, []string) (platform.Verdict, error) {
	return platform.Verdict{}, platform.ErrUnsupported
}
