package direct

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Kuaishou: form posts; success is "result": 1.

type kuaishouAnswer struct {
	Result      *int64 `json:"result"`
	ErrorMsg    string `json:"error_msg"`
	AccessToken string `json:"access_token"`
}

func readKuaishou(status int, body []byte) (kuaishouAnswer, Answer) {
	var a kuaishouAnswer
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil || a.Result == nil {
		return a, httpFailure(status, body)
	}
	ans := Answer{OK: *a.Result == 1, Code: strconv.FormatInt(*a.Result, 10), Message: a.ErrorMsg, Status: status,
		Body: string(body)}
	if ans.OK {
		ans.Code = "0"
	}
	return a, ans
}

func (c *Client) kuaishouToken(ctx context.Context, app App) (string, Answer, error) {
	form := url.Values{"app_id": {app.AppID}, "app_secret": {app.Secret}, "grant_type": {"client_credentials"}}
	status, body, err := c.do(ctx, http.MethodPost, "/oauth2/access_token", formHeader(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", Answer{}, err
	}
	a, ans := readKuaishou(status, body)
	return a.AccessToken, ans, nil
}

func (c *Client) kuaishouSend(ctx context.Context, app App, token string, m Message) (Answer, error) {
	data, _ := json.Marshal(keywordValues(m.Data))
	form := url.Values{"app_id": {app.AppID}, "access_token": {token}, "template_id": {m.TemplateID},
		"to_user": {m.To}, "page": {m.Page}, "data": {string(data)}}
	status, body, err := c.do(ctx, http.MethodPost, "/openapi/mp/developer/message/template/send", formHeader(),
		strings.NewReader(form.Encode()))
	if err != nil {
		return Answer{}, err
	}
	_, ans := readKuaishou(status, body)
	return ans, nil
}
