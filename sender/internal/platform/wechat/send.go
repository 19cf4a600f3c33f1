package wechat

import (
	"bytes"
	"context"
	"net/url"

	"github.com/minipush/minipush/sender/internal/jsonstr"
	"github.com/minipush/minipush/sender/internal/platform"
)

const pathSubscribeSend = "/cgi-bin/message/subscribe/send"

// sendRequest is the subscribe-message body (docs/platforms/wechat.md).
// Optional fields are omitted when empty, unlike silenceper's SDK, which
// sends them as "" and relies on the platform reading "" as the default.
// appendSendRequest writes it without reflection; this struct, encoded by
// call.JSON, is the reference the tests hold that writer to.
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
	body := c.appendSendRequest(make([]byte, 0, 256), s)
	var res platform.Result
	err := platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
		b, perr := c.postBody(ctx, pathSubscribeSend, url.Values{"access_token": {token}}, body, token)
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

// appendSendRequest appends s's sendRequest byte for byte as call.JSON
// encodes it — encoding/json without HTML escaping, fields in struct
// order, empty optional fields left out, data keys sorted, a newline at the
// end — without reflection: every send writes one (issue 15,
// docs/performance.md). TestSendRequestMatchesEncoding and
// FuzzSendRequest hold it to call.JSON.
func (c *Client) appendSendRequest(b []byte, s platform.Send) []byte {
	b = append(b, `{"touser":`...)
	b = jsonstr.AppendString(b, s.To, false)
	b = append(b, `,"template_id":`...)
	b = jsonstr.AppendString(b, s.TemplateID, false)
	if s.Page != "" {
		b = append(b, `,"page":`...)
		b = jsonstr.AppendString(b, s.Page, false)
	}
	b = append(b, `,"data":`...)
	b = jsonstr.AppendObject(b, s.Data, false, appendKeywordValue)
	if c.cfg.MiniprogramState != "" {
		b = append(b, `,"miniprogram_state":`...)
		b = jsonstr.AppendString(b, c.cfg.MiniprogramState, false)
	}
	if c.cfg.Lang != "" {
		b = append(b, `,"lang":`...)
		b = jsonstr.AppendString(b, c.cfg.Lang, false)
	}
	return append(b, "}\n"...)
}

// appendKeywordValue appends a keywordValue holding v.
func appendKeywordValue(b []byte, v string) []byte {
	b = append(b, `{"value":`...)
	b = jsonstr.AppendString(b, v, false)
	return append(b, '}')
}

// parseSend reads {"errcode":0,"errmsg":"ok","msgid":N}. An answer with
// errcode 0 is a delivery even if msgid is missing (the doc's own example
// has none) or unreadable: calling it a failure would send it twice.
func (c *Client) parseSend(b []byte) (platform.Result, *platform.Error) {
	if id, ok := parseSendOK(b); ok {
		return platform.Result{MsgID: id}, nil
	}
	return c.parseSendAny(b)
}

// sendOK is how the platform writes a delivery's answer, up to the msgid.
var sendOK = []byte(`{"errcode":0,"errmsg":"ok","msgid":`)

// parseSendOK reads the usual answer of a delivery without reflection:
// exactly sendOK, the msgid's digits (no sign, no leading zero), "}" and
// white space at most. ok is false for anything else, which parseSendAny
// reads with encoding/json as before; where ok, the msgid is what
// parseSendAny gives (TestParseSendFastPath,
// FuzzParseSendFastPath).
func parseSendOK(b []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(b, sendOK)
	if !ok {
		return "", false
	}
	rest = bytes.TrimRight(rest, " \t\r\n")
	digits, ok := bytes.CutSuffix(rest, []byte("}"))
	if !ok || len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return "", false
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return "", false
		}
	}
	return numberText(digits), true
}

// parseSendAny reads any answer to a send (parseSend).
func (c *Client) parseSendAny(b []byte) (platform.Result, *platform.Error) {
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
