package direct

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// Douyin: the v2 APIs of open.douyin.com — a client_token from
// /oauth/client_token/ in the access-token header of notify_user.

func (c *Client) douyinToken(ctx context.Context, app App) (string, Answer, error) {
	b, _ := json.Marshal(map[string]string{"client_key": app.AppID, "client_secret": app.Secret,
		"grant_type": "client_credential"})
	status, body, err := c.do(ctx, http.MethodPost, "/oauth/client_token/", jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return "", Answer{}, err
	}
	var a struct {
		Data struct {
			AccessToken string `json:"access_token"`
			Description string `json:"description"`
			ErrorCode   int64  `json:"error_code"`
		} `json:"data"`
		Message string `json:"message"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil {
		return "", httpFailure(status, body), nil
	}
	ans := Answer{OK: a.Data.ErrorCode == 0 && a.Data.AccessToken != "", Code: strconv.FormatInt(a.Data.ErrorCode, 10),
		Message: a.Data.Description, Status: status, Body: string(body)}
	return a.Data.AccessToken, ans, nil
}

func (c *Client) douyinSend(ctx context.Context, token string, m Message) (Answer, error) {
	b, _ := json.Marshal(map[string]any{"msg_id": m.TemplateID, "open_id": m.To, "data": m.Data, "page": m.Page})
	h := jsonHeader()
	h.Set("access-token", token)
	status, body, err := c.do(ctx, http.MethodPost, "/api/notification/v2/subscription/notify_user/", h, bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	var a struct {
		ErrNo  *int64 `json:"err_no"`
		ErrMsg string `json:"err_msg"`
		LogID  string `json:"log_id"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &a) != nil || a.ErrNo == nil {
		return httpFailure(status, body), nil
	}
	return Answer{OK: *a.ErrNo == 0, Code: strconv.FormatInt(*a.ErrNo, 10), Message: a.ErrMsg, MsgID: a.LogID,
		Status: status, Body: string(body)}, nil
}
