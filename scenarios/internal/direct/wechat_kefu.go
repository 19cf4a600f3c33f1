package direct

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
)

// WeChat customer-service (客服) messages and the temporary media they
// show: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/customer-message/api_send_msg_custom.html

// KefuText answers a user with a text message through customer service.
func (c *Client) KefuText(ctx context.Context, token, to, content string) (Answer, error) {
	return c.kefuSend(ctx, token, map[string]any{"touser": to, "msgtype": "text", "text": map[string]string{"content": content}})
}

// KefuImage answers a user with an uploaded image.
func (c *Client) KefuImage(ctx context.Context, token, to, mediaID string) (Answer, error) {
	return c.kefuSend(ctx, token, map[string]any{"touser": to, "msgtype": "image", "image": map[string]string{"media_id": mediaID}})
}

func (c *Client) kefuSend(ctx context.Context, token string, body map[string]any) (Answer, error) {
	b, _ := json.Marshal(body)
	status, raw, err := c.do(ctx, http.MethodPost, "/cgi-bin/message/custom/send?access_token="+url.QueryEscape(token),
		jsonHeader(), bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	_, ans := readWeChat(status, raw)
	return ans, nil
}

// UploadImage uploads a temporary image (multipart part "media") and
// returns its media_id.
func (c *Client) UploadImage(ctx context.Context, token, filename string, data []byte) (string, Answer, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("media", filename)
	if err != nil {
		return "", Answer{}, err
	}
	if _, err := fw.Write(data); err != nil {
		return "", Answer{}, err
	}
	if err := mw.Close(); err != nil {
		return "", Answer{}, err
	}
	q := url.Values{"access_token": {token}, "type": {"image"}}
	status, raw, err := c.do(ctx, http.MethodPost, "/cgi-bin/media/upload?"+q.Encode(),
		http.Header{"Content-Type": {mw.FormDataContentType()}}, &b)
	if err != nil {
		return "", Answer{}, err
	}
	_, ans := readWeChat(status, raw)
	var out struct {
		MediaID string `json:"media_id"`
	}
	_ = json.Unmarshal(raw, &out)
	return out.MediaID, ans, nil
}
