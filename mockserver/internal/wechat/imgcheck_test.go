package wechat_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const (
	imgSecCheck     = "/wxa/img_sec_check"
	mediaCheckAsync = "/wxa/media_check_async"
)

func TestImgSecCheck(t *testing.T) {
	t.Parallel()
	risky := pngImage(t, 6, 6, 66)
	m := start(t, func(s *mockapi.Seed) {
		s.ContentRules = &mockapi.ContentRules{RiskyImages: []string{content.ImageDigest(risky)}}
	})
	tok := m.token(appA, secretA)
	tests := []struct {
		name  string
		path  string
		field string
		data  []byte
		code  int64
		msg   string
	}{
		{"clean png", api(imgSecCheck, tok), "media", pngImage(t, 6, 6, 1), 0, "ok"},
		{"clean jpeg", api(imgSecCheck, tok), "media", jpegImage(t), 0, "ok"},
		{"clean gif", api(imgSecCheck, tok), "media", gifImage(t), 0, "ok"},
		{"risky by its SHA-256", api(imgSecCheck, tok), "media", risky, 87014, "risky content"},
		{"over 1 MB", api(imgSecCheck, tok), "media", append(pngImage(t, 2, 2, 0), make([]byte, 1<<20)...), 40006, "invalid media size"},
		{"bmp is not taken", api(imgSecCheck, tok), "media", bmpImage(), 40005, "invalid file type"},
		{"not an image", api(imgSecCheck, tok), "media", []byte("plain words"), 40005, "invalid file type"},
		{"no media part", api(imgSecCheck, tok), "image", risky, 41005, "media data missing"},
		{"no token", imgSecCheck, "media", risky, 41001, "access_token missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantMsg(t, m.multipart(tt.path, tt.field, "x.png", tt.data), tt.code, tt.msg)
		})
	}
}

func TestImgSecCheckFollowsTheRules(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	img := pngImage(t, 5, 5, 5)
	wantCode(t, m.multipart(api(imgSecCheck, tok), "media", "x.png", img), 0)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{RiskyImages: []string{strings.ToUpper(content.ImageDigest(img))}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.multipart(api(imgSecCheck, tok), "media", "x.png", img), 87014)
}

func mediaCheckBody(url string, mediaType, version int, openID string, scene int) map[string]any {
	return map[string]any{"media_url": url, "media_type": mediaType, "version": version, "openid": openID, "scene": scene}
}

func TestMediaCheckAsyncValidation(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	const img = "https://cdn.example/a.jpg"
	tests := []struct {
		name string
		body any
		code int64
	}{
		{"v2 image", mediaCheckBody(img, 2, 2, userA, 1), 0},
		{"v2 audio", mediaCheckBody("https://cdn.example/a.mp3", 1, 2, userA, 4), 0},
		{"v1 legacy", map[string]any{"media_url": img, "media_type": 2}, 0},
		{"empty body", "", 44002},
		{"not JSON", "{", 47001},
		{"no media_url", mediaCheckBody("", 2, 2, userA, 1), 47001},
		{"media_url not http", mediaCheckBody("ftp://cdn.example/a.jpg", 2, 2, userA, 1), 47001},
		{"media_type 3", mediaCheckBody(img, 3, 2, userA, 1), 47001},
		{"version 3", mediaCheckBody(img, 2, 3, userA, 1), 47001},
		{"scene 0", mediaCheckBody(img, 2, 2, userA, 0), 40129},
		{"scene 5", mediaCheckBody(img, 2, 2, userA, 5), 40129},
		{"no openid", mediaCheckBody(img, 2, 2, "", 1), 40003},
		{"another app's user", mediaCheckBody(img, 2, 2, userB, 1), 40003},
	}
	accepted := 0
	for _, tt := range tests {
		r := m.do(http.MethodPost, api(mediaCheckAsync, tok), tt.body)
		wantCode(t, r, tt.code)
		if tt.code == 0 {
			accepted++
			if tid := r.str("trace_id"); !ridPattern.MatchString(tid) || r.errMsg() != "ok" {
				t.Errorf("%s: answer %s, want a trace_id", tt.name, r.Body)
			}
		}
	}
	checks, err := m.Control.MediaChecks(m.ctx, mockapi.PlatformWeChat, appA)
	if err != nil || len(checks.Checks) != accepted || time.Duration(checks.Delay) != 3*time.Second {
		t.Fatalf("media checks = %+v, %v; want %d with the 3 s default delay", checks, err, accepted)
	}
}
