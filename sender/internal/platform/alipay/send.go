package alipay

import (
	"context"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
	"github.com/minipush/minipush/sender/internal/reason"
)

// MethodTemplateSend sends a mini-program template (subscription) message.
const MethodTemplateSend = "alipay.open.app.mini.templatemessage.send"

// sendBiz is the biz_content of MethodTemplateSend. data is a JSON
// *string* holding {"keyword1":{"value":"…"},…}, as the Java SDK's model
// declares it (AlipayOpenAppMiniTemplatemessageSendModel.data is a String).
// form_id belongs to the legacy form/payment triggers and is not sent.
type sendBiz struct {
	ToUserID       string `json:"to_user_id,omitempty"`
	ToOpenID       string `json:"to_open_id,omitempty"`
	UserTemplateID string `json:"user_template_id"`
	Page           string `json:"page,omitempty"`
	Data           string `json:"data"`
}

type keywordValue struct {
	Value string `json:"value"`
}

// isUserID reports whether to is an Alipay user id: "2088" and 12 more
// digits. Apps created in open-id mode (since 2023) get an open_id instead
// (letters and digits, longer), sent as to_open_id (UNCONFIRMED field name:
// the SDK models in the index predate it; the mock reads it).
func isUserID(to string) bool {
	if len(to) != 16 || to[:4] != "2088" {
		return false
	}
	for i := 4; i < len(to); i++ {
		if to[i] < '0' || to[i] > '9' {
			return false
		}
	}
	return true
}

// Send delivers one template message. Data keys go through as given:
// Alipay addresses a template's placeholders as keyword1…keywordN, which is
// what the sender's callers send for Alipay apps. Alipay answers no message
// id, so Result.MsgID is empty.
func (c *Client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	data := make(map[string]keywordValue, len(s.Data))
	for k, v := range s.Data {
		data[k] = keywordValue{Value: v}
	}
	dataJSON, err := call.JSONText(data) // map keys are sorted: a stable body
	if err != nil {
		return platform.Result{}, &platform.Error{Platform: Platform, Code: call.CodeMalformed, Class: message.OutcomePermanent, Reason: reason.InvalidRequest,
			Message: MethodTemplateSend + ": encode data: " + err.Error()}
	}
	biz := sendBiz{UserTemplateID: s.TemplateID, Page: s.Page, Data: dataJSON}
	if biz.Page == "" {
		biz.Page = c.cfg.DefaultPage
	}
	if isUserID(s.To) {
		biz.ToUserID = s.To
	} else {
		biz.ToOpenID = s.To
	}
	if _, perr := c.invoke(ctx, MethodTemplateSend, biz); perr != nil {
		return platform.Result{}, perr
	}
	return platform.Result{}, nil
}
