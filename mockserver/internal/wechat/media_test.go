package wechat_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const mediaUpload = "/cgi-bin/media/upload"

func TestMediaUploadAndGet(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	tok := m.token(appA, secretA)
	images := []struct {
		name, contentType, ext string
		data                   []byte
	}{
		{"png", "image/png", "png", pngImage(t, 8, 8, 1)},
		{"jpeg", "image/jpeg", "jpg", jpegImage(t)},
		{"gif", "image/gif", "gif", gifImage(t)},
		{"bmp", "image/bmp", "bmp", bmpImage()},
	}
	for _, img := range images {
		t.Run(img.name, func(t *testing.T) {
			r := m.multipart(api(mediaUpload, tok, "type", "image"), "media", "f."+img.ext, img.data)
			wantMsg(t, r, 0, "ok")
			id := r.str("media_id")
			// created_at is the mock clock's Unix time (which runs on from its start).
			if at := r.int(t, "created_at"); r.str("type") != "image" || len(id) != 64 || at < beijing11pm.Unix() || at > beijing11pm.Unix()+60 {
				t.Fatalf("upload answer %s", r.Body)
			}
			resp, body := m.raw(http.MethodGet, api("/cgi-bin/media/get", tok, "media_id", id), "", nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, img.data) ||
				resp.Header.Get("Content-Type") != img.contentType ||
				resp.Header.Get("Content-Disposition") != `attachment; filename="`+id+`.`+img.ext+`"` {
				t.Fatalf("media/get: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
			}
		})
	}
	list, err := m.Control.Media(m.ctx, mockapi.PlatformWeChat, appA)
	if err != nil || len(list) != len(images) || list[0].SHA256 != content.ImageDigest(images[0].data) ||
		list[0].Size != len(images[0].data) || list[0].Expired || list[0].ExpiresAt.Sub(list[0].CreatedAt) != 72*time.Hour {
		t.Fatalf("GET /_mock/media = %+v, %v", list, err)
	}
}

func TestMediaErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	good := pngImage(t, 2, 2, 9)
	idB := m.upload(tokB, good)
	tooBig := append(pngImage(t, 2, 2, 0), make([]byte, 2<<20)...)
	upload := []struct {
		name  string
		path  string
		field string
		data  []byte
		code  int64
		msg   string
	}{
		{"no token", mediaUpload + "?type=image", "media", good, 41001, ""},
		{"type missing", api(mediaUpload, tok), "media", good, 40004, "invalid media type"},
		{"type voice", api(mediaUpload, tok, "type", "voice"), "media", good, 40004, "invalid media type"},
		{"wrong field", api(mediaUpload, tok, "type", "image"), "file", good, 41005, "media data missing"},
		{"empty file", api(mediaUpload, tok, "type", "image"), "media", nil, 41005, "media data missing"},
		{"over 2 MB", api(mediaUpload, tok, "type", "image"), "media", tooBig, 40009, "invalid image size"},
		{"not an image", api(mediaUpload, tok, "type", "image"), "media", []byte("just some text, not pixels"), 40005, "invalid file type"},
	}
	for _, tt := range upload {
		t.Run("upload "+tt.name, func(t *testing.T) {
			r := m.multipart(tt.path, tt.field, "a.png", tt.data)
			wantAnswer(t, r, tt.code, tt.msg)
		})
	}
	// A body that is not multipart at all, and GET on the upload.
	wantCode(t, m.do(http.MethodPost, api(mediaUpload, tok, "type", "image"), `{"media":"x"}`), 41005)
	wantCode(t, m.do(http.MethodGet, api(mediaUpload, tok, "type", "image"), nil), 43002)

	get := []struct {
		name, path string
		code       int64
		msg        string
	}{
		{"no media_id", api("/cgi-bin/media/get", tok), 41006, "media_id missing"},
		{"unknown", api("/cgi-bin/media/get", tok, "media_id", strings.Repeat("z", 64)), 40007, "invalid media_id"},
		{"another app's", api("/cgi-bin/media/get", tok, "media_id", idB), 40007, "invalid media_id"},
		{"bad token", api("/cgi-bin/media/get", "x", "media_id", idB), 40001, ""},
	}
	for _, tt := range get {
		t.Run("get "+tt.name, func(t *testing.T) {
			r := m.do(http.MethodGet, tt.path, nil)
			wantAnswer(t, r, tt.code, tt.msg)
		})
	}
	if list, err := m.Control.Media(m.ctx, mockapi.PlatformWeChat, appA); err != nil || len(list) != 0 {
		t.Fatalf("app A's media after failed uploads = %+v, %v", list, err)
	}
}

// A media_id lives 3 days on the mock clock and may be used again and
// again until then.
func TestMediaExpiresAfterThreeDays(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	id := m.upload(tok, pngImage(t, 3, 3, 7))
	get := func() int64 {
		return m.do(http.MethodGet, api("/cgi-bin/media/get", m.token(appA, secretA), "media_id", id), nil).errCode(t)
	}
	for range 3 {
		resp, _ := m.raw(http.MethodGet, api("/cgi-bin/media/get", tok, "media_id", id), "", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("reuse of a media_id: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	m.advance(72*time.Hour - time.Minute)
	resp, _ := m.raw(http.MethodGet, api("/cgi-bin/media/get", m.token(appA, secretA), "media_id", id), "", nil)
	if resp.Header.Get("Content-Type") != "image/png" {
		t.Fatal("media gone before its 3 days")
	}
	m.advance(time.Minute)
	if code := get(); code != 40007 {
		t.Fatalf("media/get after 3 days: errcode %d, want 40007", code)
	}
	list, err := m.Control.Media(m.ctx, mockapi.PlatformWeChat, appA)
	if err != nil || len(list) != 1 || !list[0].Expired {
		t.Fatalf("GET /_mock/media = %+v, %v; want it expired", list, err)
	}
}
