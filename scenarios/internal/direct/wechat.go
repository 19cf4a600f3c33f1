package direct

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// wechatAnswer is every WeChat answer: errcode/errmsg plus the fields of
// the calls used here.
type wechatAnswer struct {
	ErrCode     *int64          `json:"errcode"`
	ErrMsg      string          `json:"errmsg"`
	AccessToken string          `json:"access_token"`
	ExpiresIn   int64           `json:"expires_in"`
	MsgID       json.Number     `json:"msgid"`
	Result      json.RawMessage `json:"result"`
}

func readWeChat(status int, body []byte) (wechatAnswer, Answer) {
	var a wechatAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if status != http.StatusOK || dec.Decode(&a) != nil {
		return a, httpFailure(status, body)
	}
	code := int64(0)
	if a.ErrCode != nil {
		code = *a.ErrCode
	}
	ans := Answer{OK: code == 0, Code: strconv.FormatInt(code, 10), Message: a.ErrMsg, Status: status, Body: string(body),
		MsgID: a.MsgID.String()}
	return a, ans
}

func (c *Client) wechatToken(ctx context.Context, app App) (string, Answer, error) {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {app.AppID}, "secret": {app.Secret}}
	status, body, err := c.do(ctx, http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil, nil)
	if err != nil {
		return "", Answer{}, err
	}
	a, ans := readWeChat(status, body)
	return a.AccessToken, ans, nil
}

// StableToken calls WeChat's /cgi-bin/stable_token.
func (c *Client) StableToken(ctx context.Context, app App, force bool) (string, Answer, error) {
	b, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": app.AppID, "secret": app.Secret,
		"force_refresh": force})
	status, body, err := c.do(ctx, http.MethodPost, "/cgi-bin/stable_token", jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return "", Answer{}, err
	}
	a, ans := readWeChat(status, body)
	return a.AccessToken, ans, nil
}

func (c *Client) wechatSend(ctx context.Context, token string, m Message) (Answer, error) {
	b, _ := json.Marshal(map[string]any{"touser": m.To, "template_id": m.TemplateID, "page": m.Page,
		"data": keywordValues(m.Data)})
	status, body, err := c.do(ctx, http.MethodPost, "/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(token),
		jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	_, ans := readWeChat(status, body)
	return ans, nil
}

// Verdict is a content check's judgement.
type Verdict struct {
	Suggest string // pass, review or risky
	Label   string
}

// MsgSecCheck runs WeChat's msg_sec_check (version 2, scene 1: profile).
func (c *Client) MsgSecCheck(ctx context.Context, token, openID, content string) (Verdict, Answer, error) {
	b, _ := json.Marshal(map[string]any{"version": 2, "scene": 1, "openid": openID, "content": content})
	status, body, err := c.do(ctx, http.MethodPost, "/wxa/msg_sec_check?access_token="+url.QueryEscape(token),
		jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return Verdict{}, Answer{}, err
	}
	a, ans := readWeChat(status, body)
	var r struct {
		Suggest string      `json:"suggest"`
		Label   json.Number `json:"label"`
	}
	if len(a.Result) > 0 {
		dec := json.NewDecoder(bytes.NewReader(a.Result))
		dec.UseNumber()
		_ = dec.Decode(&r)
	}
	return Verdict{Suggest: r.Suggest, Label: r.Label.String()}, ans, nil
}
