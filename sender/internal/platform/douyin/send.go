package douyin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/minipush/minipush/sender/internal/platform"
)

const (
	// pathNotifyUser is notify_user v2 (§1.5); trailing slash as documented.
	pathNotifyUser = "/api/notification/v2/subscription/notify_user/"
	// pathNotifyV1 is the legacy v1 notify (§1.4).
	pathNotifyV1 = "/api/apps/subscribe_notification/developer/v1/notify"
	// headerToken carries the client token on the open.douyin.com APIs.
	headerToken = "access-token"
)

// notifyUserRequest is the notify_user body. data is the flat
// {keyword name: value} map: SKIT-ByteDance types it map<string,string>, the
// same as v1 (one unattributed note says {key:{value}}; the flat map is the
// better-supported reading, UNCONFIRMED). notify_type is left out: the
// platform's default delivers both the real-time reminder and the in-app
// message. page is left out when empty (no feed card is made then).
type notifyUserRequest struct {
	MsgID  string            `json:"msg_id"`
	OpenID string            `json:"open_id"`
	Data   map[string]string `json:"data"`
	Page   string            `json:"page,omitempty"`
}

// notifyV1Request is the legacy body; the token travels in it.
type notifyV1Request struct {
	AccessToken string            `json:"access_token"`
	AppID       string            `json:"app_id"`
	TplID       string            `json:"tpl_id"`
	OpenID      string            `json:"open_id"`
	Data        map[string]string `json:"data"`
	Page        string            `json:"page,omitempty"`
}

// Send delivers one subscribe message. s.Data's keys go to the platform as
// they are: Douyin's keys are the template's keyword names ("物品名称"). A
// token error gets one refetch and one immediate retry; the error then has
// class token. On v2 Result.MsgID is the answer's log_id (notify_user gives
// no message id); v1 gives none.
func (c *Client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	data := s.Data
	if data == nil {
		data = map[string]string{} // "data" is required: {} rather than null
	}
	var res platform.Result
	err := platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
		var (
			b    []byte
			perr *platform.Error
			path = pathNotifyUser
		)
		if c.legacyMode {
			path = pathNotifyV1
			req := notifyV1Request{AccessToken: token, AppID: c.cfg.AppID, TplID: s.TemplateID, OpenID: s.To, Data: data, Page: s.Page}
			b, perr = c.postOK(ctx, c.legacyURL, path, nil, req, token)
		} else {
			req := notifyUserRequest{MsgID: s.TemplateID, OpenID: s.To, Data: data, Page: s.Page}
			b, perr = c.postOK(ctx, c.openURL, path, http.Header{headerToken: {token}}, req, token)
		}
		if perr != nil {
			return perr
		}
		res, perr = c.parseSend(path, b, token)
		return perr
	})
	if err != nil {
		return platform.Result{}, err
	}
	return res, nil
}

// sendAnswer is the union of v1's {"err_no","err_tips"} and the
// open.douyin.com {"err_no","err_msg","log_id"}.
// Every field is read leniently (text): an answer must not turn from a
// delivery or a classified refusal into "malformed" over a field's type.
type sendAnswer struct {
	ErrNo   json.RawMessage `json:"err_no"`
	ErrTips json.RawMessage `json:"err_tips"`
	ErrMsg  json.RawMessage `json:"err_msg"`
	LogID   json.RawMessage `json:"log_id"`
}

// parseSend reads a send answer. err_no 0 is a delivery even without a
// log_id: calling it a failure would send the message twice.
func (c *Client) parseSend(path string, b []byte, token string) (platform.Result, *platform.Error) {
	var a sendAnswer
	if perr := decode(path, b, &a); perr != nil {
		return platform.Result{}, perr
	}
	code, ok := errNo(a.ErrNo)
	switch {
	case !ok:
		return platform.Result{}, malformed(path, "no err_no")
	case code != CodeOK:
		return platform.Result{}, c.classify(businessRules, code, c.api.Scrub(first(text(a.ErrMsg), text(a.ErrTips)), token))
	}
	return platform.Result{MsgID: text(a.LogID)}, nil
}
