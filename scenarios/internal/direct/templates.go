package direct

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Template management and the other calls a backend makes beside the send:
// Douyin's v2 subscription APIs and image check, Baidu's templateadd,
// Kuaishou's send with a JSON body.

// openAnswer reads Douyin's open.douyin.com envelope into an Answer and
// decodes data into out (when not nil).
func openAnswer(status int, body []byte, out any) Answer {
	var a struct {
		ErrNo  *int64          `json:"err_no"`
		ErrMsg string          `json:"err_msg"`
		LogID  string          `json:"log_id"`
		Data   json.RawMessage `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil || a.ErrNo == nil {
		return httpFailure(status, body)
	}
	ans := Answer{OK: *a.ErrNo == 0, Code: strconv.FormatInt(*a.ErrNo, 10), Message: a.ErrMsg, MsgID: a.LogID,
		Status: status, Body: string(body)}
	if ans.OK && out != nil && json.Unmarshal(a.Data, out) != nil {
		ans.OK, ans.Message = false, "data does not decode"
	}
	return ans
}

func (c *Client) douyinPost(ctx context.Context, token, path string, in, out any) (Answer, error) {
	b, _ := json.Marshal(in)
	h := jsonHeader()
	h.Set("access-token", token)
	status, body, err := c.do(ctx, http.MethodPost, path, h, bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	return openAnswer(status, body, out), nil
}

// DouyinAddAppTemplate makes an app template (msg_id) from public template
// id with keywords (add_app_tpl); token is a client token.
func (c *Client) DouyinAddAppTemplate(ctx context.Context, token string, id int64, keywords []string) (string, Answer, error) {
	var d struct {
		MsgID string `json:"msg_id"`
	}
	ans, err := c.douyinPost(ctx, token, "/api/notification/v2/subscription/add_app_tpl/",
		map[string]any{"template_id": id, "keyword_list": keywords}, &d)
	return d.MsgID, ans, err
}

// DouyinSubscription asks query_user_subscribe about a user and an app
// template: subscribe_status (0 none, 1 one-time, 2 long-term).
func (c *Client) DouyinSubscription(ctx context.Context, token, msgID, openID string) (int, Answer, error) {
	var d struct {
		SubscribeStatus int `json:"subscribe_status"`
	}
	ans, err := c.douyinPost(ctx, token, "/api/notification/v2/subscription/query_user_subscribe/",
		map[string]string{"msg_id": msgID, "open_id": openID}, &d)
	return d.SubscribeStatus, ans, err
}

// DouyinImageRisky asks the V3 image check (censor/image) about an image
// link: whether any model hit.
func (c *Client) DouyinImageRisky(ctx context.Context, app App, token, link string) (bool, Answer, error) {
	b, _ := json.Marshal(map[string]string{"app_id": app.AppID, "image": link})
	h := jsonHeader()
	h.Set("access-token", token)
	status, body, err := c.do(ctx, http.MethodPost, "/api/apps/v1/censor/image/", h, bytes.NewReader(b))
	if err != nil {
		return false, Answer{}, err
	}
	ans := openAnswer(status, body, nil)
	var d struct {
		Predicts []struct {
			Hit bool `json:"hit"`
		} `json:"predicts"`
	}
	if json.Unmarshal(body, &d) != nil || (ans.OK && len(d.Predicts) == 0) {
		return false, httpFailure(status, body), nil
	}
	for _, p := range d.Predicts {
		if p.Hit {
			return true, ans, nil
		}
	}
	return false, ans, nil
}

// BaiduAddTemplate makes an app template from library title id with
// keyword ids (templateadd), the parameters in a form body as Baidu's
// official SDK sends them.
func (c *Client) BaiduAddTemplate(ctx context.Context, token, id string, keywordIDs []int) (string, Answer, error) {
	list, _ := json.Marshal(keywordIDs)
	form := url.Values{"id": {id}, "keyword_id_list": {string(list)}}
	status, body, err := c.do(ctx, http.MethodPost, "/rest/2.0/smartapp/template/templateadd?access_token="+url.QueryEscape(token),
		formHeader(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", Answer{}, err
	}
	var a struct {
		ErrorCode *int64 `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Errno     *int64 `json:"errno"`
		Msg       string `json:"msg"`
		Data      struct {
			TemplateID string `json:"template_id"`
		} `json:"data"`
	}
	switch {
	case status != http.StatusOK || json.Unmarshal(body, &a) != nil:
		return "", httpFailure(status, body), nil
	case a.ErrorCode != nil:
		return "", Answer{Code: strconv.FormatInt(*a.ErrorCode, 10), Message: a.ErrorMsg, Status: status, Body: string(body)}, nil
	case a.Errno == nil:
		return "", httpFailure(status, body), nil
	}
	ans := Answer{OK: *a.Errno == 0 && a.Data.TemplateID != "", Code: strconv.FormatInt(*a.Errno, 10), Message: a.Msg,
		Status: status, Body: string(body)}
	return a.Data.TemplateID, ans, nil
}

// KuaishouSendJSON sends m with a JSON body, data as an object (the mock
// accepts it beside the documented form).
func (c *Client) KuaishouSendJSON(ctx context.Context, app App, token string, m Message) (Answer, error) {
	b, _ := json.Marshal(map[string]any{"app_id": app.AppID, "access_token": token, "template_id": m.TemplateID,
		"to_user": m.To, "page": m.Page, "data": keywordValues(m.Data)})
	status, body, err := c.do(ctx, http.MethodPost, "/openapi/mp/developer/message/template/send", jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	_, ans := readKuaishou(status, body)
	return ans, nil
}
