package wechat_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// serveAs is serve with a content type of the caller's choosing.
func (fs *fuzzServer) serveAs(method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	return rec
}

func (fs *fuzzServer) path(p string) string { return p + "?access_token=" + url.QueryEscape(fs.tok) }

func FuzzCustomSend(f *testing.F) {
	fs := newFuzzServer(f)
	if rec := fs.serve(http.MethodPost, "/_mock/kefu/sessions", []byte(`{"platform":"wechat","app_id":"`+appA+`","openid":"`+userA+`"}`)); rec.Code != http.StatusCreated {
		f.Fatalf("open window: %d %s", rec.Code, rec.Body)
	}
	for _, b := range []any{
		text(userA, "hi"),
		map[string]any{"touser": userA, "msgtype": "image", "image": map[string]any{"media_id": "x"}},
		map[string]any{"touser": userA, "msgtype": "link", "link": map[string]any{"title": "t", "description": "d", "url": "u", "thumb_url": "t"}},
		map[string]any{"touser": userA, "msgtype": "miniprogrampage", "miniprogrampage": map[string]any{"title": "t", "appid": "", "pagepath": "pages/index/index", "thumb_media_id": "m"}},
	} {
		raw, _ := json.Marshal(b)
		f.Add(raw)
	}
	f.Add([]byte(`{"touser":"` + userA + `","msgtype":"text","text":{"content":"<a data-miniprogram-appid='wx1'>"}}`))
	f.Add([]byte(`{"touser":"` + userA + `","msgtype":"news","text":null}`))
	f.Add([]byte(`{"touser":1,"msgtype":["text"]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(kefuSend), body), false)
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(kefuTyping), body), false)
	})
}

func FuzzUpdatableSend(f *testing.F) {
	fs := newFuzzServer(f)
	var created struct {
		ActivityID string `json:"activity_id"`
	}
	rec := fs.serve(http.MethodGet, fs.path(activityCreate), nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ActivityID == "" {
		f.Fatalf("create activity: %s", rec.Body)
	}
	id := created.ActivityID
	for _, b := range []any{
		updatable(id, 0, params("member_count", "1", "room_limit", "4")),
		updatable(id, 1, params("path", "pages/index/index", "version_type", "release")),
		updatable(id, 2, nil),
	} {
		raw, _ := json.Marshal(b)
		f.Add(raw)
	}
	f.Add([]byte(`{"activity_id":"` + id + `","target_state":0,"template_info":{"parameter_list":[{"name":"member_count","value":1}]}}`))
	f.Add([]byte(`{"activity_id":"` + id + `","target_state":1.5,"template_info":{"parameter_list":[null,{},[]]}}`))
	f.Add([]byte(`{"activity_id":"` + id + `","template_info":{"parameter_list":[{"name":"x","value":"   "}]}}`))
	f.Add([]byte(`{"template_info":[]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(updatableSend), body), false)
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(activityCreate), body), false)
	})
}

// FuzzMultipartUploads feeds raw multipart bodies to the two file APIs.
func FuzzMultipartUploads(f *testing.F) {
	fs := newFuzzServer(f)
	const boundary = "fuzzboundary"
	ct := "multipart/form-data; boundary=" + boundary
	part := func(name, file string, data []byte) []byte {
		return append(append([]byte("--"+boundary+"\r\nContent-Disposition: form-data; name=\""+name+"\"; filename=\""+file+"\"\r\n"+
			"Content-Type: application/octet-stream\r\n\r\n"), data...), []byte("\r\n--"+boundary+"--\r\n")...)
	}
	f.Add(part("media", "a.png", pngImage(f, 2, 2, 1)))
	f.Add(part("media", "a.gif", gifImage(f)))
	f.Add(part("other", "a.png", []byte("x")))
	f.Add(part("media", "", nil))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\nunterminated"))
	f.Add([]byte("not multipart at all"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serveAs(http.MethodPost, fs.path(mediaUpload)+"&type=image", ct, body), false)
		checkAnswer(t, fs.serveAs(http.MethodPost, fs.path(imgSecCheck), ct, body), false)
	})
}

func FuzzMediaCheckAsync(f *testing.F) {
	fs := newFuzzServer(f)
	raw, _ := json.Marshal(mediaCheckBody("https://cdn.example/a.png", 2, 2, userA, 1))
	f.Add(raw)
	f.Add([]byte(`{"media_url":"https://cdn.example/a.mp3","media_type":1}`))
	f.Add([]byte(`{"media_url":"http://","media_type":2,"version":2,"scene":9}`))
	f.Add([]byte(`{"media_url":"https://x.example/a","media_type":"2","version":2.0}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(mediaCheckAsync), body), false)
	})
}

func FuzzQuotaTools(f *testing.F) {
	fs := newFuzzServer(f)
	f.Add([]byte(`{"cgi_path":"/cgi-bin/token"}`))
	f.Add([]byte(`{"cgi_path":"/sns/jscode2session","appid":"` + appA + `"}`))
	f.Add([]byte(`{"rid":"67d4f8a0-00000000-00000000"}`))
	f.Add([]byte(`{"appid":"` + appA + `","appsecret":"wrong"}`))
	f.Add([]byte(`{"rid":12,"cgi_path":null,"appid":[]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(quotaGet), body), false)
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(ridGet), body), false)
		checkAnswer(t, fs.serve(http.MethodPost, fs.path(clearQuota), body), false)
		checkAnswer(t, fs.serve(http.MethodPost, clearQuota2, body), false)
	})
}
