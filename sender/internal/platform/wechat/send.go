package wechat

import (
	"context"
	"net/url"

	"github.com/minipush/minipush/sender/internal/platform"
)

const pathSubscribeSend = "/cgi-bin/message/subscribe/send"

// sendRequest is the subscribe-message body (docs/platforms/wechat.md).
// Optional fields are omitted when empty, unlike silenceper's SDK, which
// sends them as "" and relies on the platform reading "" as the default.
type sendRequest struct {
	ToUser           string                  `json:"touser"`
	TemplateID       string                  `json:"template_id"`
	Page             string                  `json:"page,omitempty"`
	Data             map[string]keywordValue `json:"data"`
	MiniprogramState string                  `json:"miniprogram_state,omitempty"`
	Lang             string                  `json:"lang,omitempty"`
}

type keywordValue struct {
	Value string `json:"value"`
}

// Send delivers one subscribe message. A token error gets one refetch and
// one immediate retry; the error then has class token.
func (c *Client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	req := sendRequest{ToUser: s.To, TemplateID: s.TemplateID, Page: s.Page,
		Data:             make(map[string]keywordValue, len(s.Data)),
		MiniprogramState: c.cfg.MiniprogramState, Lang: c.cfg.Lang}
	for k, v := range s.Data {
		req.Data[k] = keywordValue{Value: v}
	}
	var res platform.Result
	err := platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
		b, perr := c.post(ctx, pathSubscribeSend, url.Values{"access_token": {token}}, req, token)
		if perr != nil {
			return perr
		}
		res, perr = c.parseSend(b)
		return perr
	})
	if err != nil {
		return platform.Result{}, err
	}
	return res, nil
}

// parseSend reads {"errcode":0,"errmsg":"ok","msgid":N}. An answer with
// errcode 0 is a delivery even if msgid is missing (the doc's own example
// has none) or unreadable: calling it a failure would send it twice.
func (c *Client) parseSend(b []byte) (platform.Result, *platform.Error) {
	a, perr := c.decodeAnswer(pathSubscribeSend, b)
	if perr != nil {
		return platform.Result{}, perr
	}
	switch {
	case a.ErrCode == nil:
		return platform.Result{}, malformed(pathSubscribeSend, "no errcode")
	case *a.ErrCode != 0:
		return platform.Result{}, c.classify(businessRules, Code(*a.ErrCode), a.ErrMsg)
	}
	return platform.Result{MsgID: numberText(a.MsgID)}, nil
}
