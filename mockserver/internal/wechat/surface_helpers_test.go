package wechat_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// api is the path of a token-authenticated API with extra query values.
func api(path, tok string, kv ...string) string {
	q := url.Values{"access_token": {tok}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}

// pngImage is a w×h PNG whose pixels depend on seed (so two seeds give
// two different files).
func pngImage(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x) + seed, G: uint8(y), B: seed, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegImage(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifImage(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bmpImage is the smallest BMP header http.DetectContentType recognises.
func bmpImage() []byte { return append([]byte("BM"), make([]byte, 64)...) }

// multipartBody builds a multipart/form-data body with one file part.
func multipartBody(t testing.TB, field, filename string, data []byte) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// raw sends body with the given content type and returns the answer
// without decoding it (a media download is not JSON).
func (m *mock) raw(method, path, contentType string, body []byte) (*http.Response, []byte) {
	m.t.Helper()
	req, err := http.NewRequestWithContext(m.ctx, method, m.URL+path, bytes.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			m.t.Fatalf("%s %s: answer leaks a secret: %s", method, path, b)
		}
	}
	return resp, b
}

// multipart posts one file part and decodes the JSON answer.
func (m *mock) multipart(path, field, filename string, data []byte) reply {
	m.t.Helper()
	body, ct := multipartBody(m.t, field, filename, data)
	resp, b := m.raw(http.MethodPost, path, ct, body)
	r := reply{Status: resp.StatusCode, Body: b}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r.Fields); err != nil {
		m.t.Fatalf("POST %s: answer is not a JSON object: %v: %s", path, err, b)
	}
	return r
}

// upload uploads an image of app A and returns its media_id.
func (m *mock) upload(tok string, data []byte) string {
	m.t.Helper()
	r := m.multipart(api("/cgi-bin/media/upload", tok, "type", "image"), "media", "a.png", data)
	wantCode(m.t, r, 0)
	id := r.str("media_id")
	if len(id) != 64 {
		m.t.Fatalf("media_id %q is not 64 characters: %s", id, r.Body)
	}
	return id
}

// openWindow: the user writes to app A's customer service (or enters the
// session, trigger "enter").
func (m *mock) openWindow(openID, trigger string) mockapi.KefuWindow {
	m.t.Helper()
	w, err := m.Control.OpenKefuSession(m.ctx, mockapi.KefuSession{Platform: mockapi.PlatformWeChat, AppID: appA,
		OpenID: openID, Trigger: trigger})
	if err != nil {
		m.t.Fatalf("open window: %v", err)
	}
	return w
}

// kefuMessages reads app A's customer-service messages in the inbox.
func (m *mock) kefuMessages() []mockapi.Message {
	m.t.Helper()
	ms, err := m.Control.Messages(m.ctx, mockclient.MessageFilter{Platform: mockapi.PlatformWeChat, Kind: mockapi.KindCustomerService})
	if err != nil {
		m.t.Fatalf("read inbox: %v", err)
	}
	return ms.Messages
}

func text(to, content string) map[string]any {
	return map[string]any{"touser": to, "msgtype": "text", "text": map[string]any{"content": content}}
}

func mockclientKind(kind string) mockclient.MessageFilter {
	return mockclient.MessageFilter{Platform: mockapi.PlatformWeChat, Kind: kind}
}

// ridPattern is the shape of a rid and of a trace_id.
var ridPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// wantAnswer is wantMsg when msg is set, else wantCode.
func wantAnswer(t testing.TB, r reply, code int64, msg string) {
	t.Helper()
	if msg == "" {
		wantCode(t, r, code)
		return
	}
	wantMsg(t, r, code, msg)
}
