package direct

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Baidu: an OAuth token endpoint, then /rest/2.0/ APIs answering either in
// the gateway shape {"error_code"} or the business shape {"errno"}.

func (c *Client) baiduToken(ctx context.Context, app App) (string, Answer, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"scope": {"smartapp_snsapi_base"}}
	status, body, err := c.do(ctx, http.MethodPost, "/oauth/2.0/token", formHeader(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", Answer{}, err
	}
	var a struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &a) != nil {
		return "", httpFailure(status, body), nil
	}
	if a.Error != "" || a.AccessToken == "" {
		return "", Answer{Code: a.Error, Message: a.Description, Status: status, Body: string(body)}, nil
	}
	return a.AccessToken, Answer{OK: true, Code: "0", Status: status, Body: string(body)}, nil
}

func (c *Client) baiduSend(ctx context.Context, token string, m Message) (Answer, error) {
	data, _ := json.Marshal(keywordValues(m.Data))
	sub := m.SubscribeID
	if sub == "" {
		sub = m.TemplateID
	}
	form := url.Values{"template_id": {m.TemplateID}, "touser_openId": {m.To}, "subscribe_id": {sub},
		"data": {string(data)}}
	if m.Page != "" {
		form.Set("page", m.Page)
	}
	status, body, err := c.do(ctx, http.MethodPost,
		"/rest/2.0/smartapp/template/message/subscribe/send?access_token="+url.QueryEscape(token), formHeader(),
		strings.NewReader(form.Encode()))
	if err != nil {
		return Answer{}, err
	}
	var a struct {
		ErrorCode *int64 `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Errno     *int64 `json:"errno"`
		Msg       string `json:"msg"`
		Data      struct {
			MsgKey json.Number `json:"msg_key"`
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil {
		return httpFailure(status, body), nil
	}
	switch {
	case a.ErrorCode != nil:
		return Answer{Code: strconv.FormatInt(*a.ErrorCode, 10), Message: a.ErrorMsg, Status: status, Body: string(body)}, nil
	case a.Errno == nil:
		return httpFailure(status, body), nil
	}
	return Answer{OK: *a.Errno == 0, Code: strconv.FormatInt(*a.Errno, 10), Message: a.Msg, MsgID: a.Data.MsgKey.String(),
		Status: status, Body: string(body)}, nil
}
