package wechat

import (
	"net/http"
	"net/url"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Image checks. Images are judged by identity, never by looking at them:
// a content rule's risky_images lists the SHA-256 of risky bytes (for
// img_sec_check, which receives the image) or a risky URL (for
// media_check_async, which receives a link the mock never downloads).

// maxSecImageBytes: img_sec_check takes images "不超过 1M"
// (https://developers.weixin.qq.com/miniprogram/dev/framework/security.imgSecCheck.html);
// a larger one answers 40006 "invalid media size" (observed). The page's
// 750×1334 px limit is not checked: the observed failures are about bytes.
const maxSecImageBytes = 1 << 20

// secImageTypes: "PNG、JPEG、JPG、GIF".
var secImageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true}

// POST /wxa/img_sec_check?access_token=TOKEN, multipart part "media" (v1,
// frozen since 2021-09-01 but still served).
//
// Checks: token; quota img_sec_check (2,000/min → 44991, as msg_sec_check
// — UNCONFIRMED for images; 200,000/day → 45009); a "media" part with bytes
// (41005); at most 1 MB (40006); PNG, JPEG or GIF by content (40005,
// UNCONFIRMED). A risky image answers 87014 "risky content"; a clean one
// {"errcode":0,"errmsg":"ok"}.
func (e *Emulator) handleImgSecCheck(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.begin(w, r, c, nil, nil)
	if !ok || !e.take(w, c, app, EndpointImgSecCheck, CodeMinuteFrequency) {
		return
	}
	data, _, tooBig, err := readFilePart(w, r, "media", maxSecImageBytes)
	switch {
	case tooBig:
		e.fail(w, c, CodeInvalidMediaSize, "")
		return
	case err != nil || len(data) == 0:
		e.fail(w, c, CodeMediaMissing, "")
		return
	case !secImageTypes[http.DetectContentType(data)]:
		e.fail(w, c, CodeInvalidFileType, "")
		return
	case e.env.Content.RiskyImage(data):
		e.fail(w, c, CodeRiskyContent, "")
		return
	}
	e.ok(w, c)
}

// mediaCheckRequest is media_check_async's body: v2 with version 2,
// openid and scene; v1 (legacy) only media_url and media_type.
type mediaCheckRequest struct {
	MediaURL  string `json:"media_url"`
	MediaType int    `json:"media_type"`
	Version   int    `json:"version"`
	OpenID    string `json:"openid"`
	Scene     int    `json:"scene"`
}

// Media types of media_check_async.
const (
	mediaTypeAudio = 1
	mediaTypeImage = 2
)

type traceAnswer struct {
	ErrCode ErrCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
	TraceID string  `json:"trace_id"`
}

// POST /wxa/media_check_async?access_token=TOKEN
// {"media_url","media_type":1|2,"version":2,"openid","scene":1–4}
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/mediaCheckAsync.html).
//
// Checks: token; body; quota media_check_async (2,000/min → 44991,
// UNCONFIRMED code; 200,000/day → 45009); media_url an http(s) URL and
// media_type 1 or 2 (47001, UNCONFIRMED); for version 2, scene 1–4
// (40129) and openid a user of the app (40003); another version number
// 47001. The answer carries a trace_id; the verdict arrives later as the
// wxa_media_check push (mediacheck.go).
func (e *Emulator) handleMediaCheckAsync(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req mediaCheckRequest
	app, ok := e.begin(w, r, c, into(&req), func() string { return req.OpenID })
	if !ok || !e.take(w, c, app, EndpointMediaCheckAsync, CodeMinuteFrequency) {
		return
	}
	u, err := url.Parse(req.MediaURL)
	switch {
	case req.MediaURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		e.fail(w, c, CodeDataFormat, "")
		return
	case req.MediaType != mediaTypeAudio && req.MediaType != mediaTypeImage:
		e.fail(w, c, CodeDataFormat, "")
		return
	case req.Version != 0 && req.Version != 1 && req.Version != 2:
		e.fail(w, c, CodeDataFormat, "")
		return
	case req.Version == 2 && (req.Scene < 1 || req.Scene > 4):
		e.fail(w, c, CodeInvalidScene, "")
		return
	case req.Version == 2 && (req.OpenID == "" || !e.env.Store.HasUser(Name, app.AppID, req.OpenID)):
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	}
	traceID := e.newRID()
	suggest, label := content.Pass, content.LabelNormal
	if e.env.Content.RiskyImageURL(req.MediaURL) {
		suggest, label = content.Risky, content.LabelOther
	}
	e.scheduleMediaCheck(mediaCheck{appID: app.AppID, traceID: traceID, openID: req.OpenID, version: req.Version,
		mediaURL: req.MediaURL, mediaType: req.MediaType, suggest: suggest, label: label, at: e.env.Clock.Now()})
	c.ErrCode = 0
	writeJSON(w, traceAnswer{ErrCode: CodeOK, ErrMsg: "ok", TraceID: traceID})
}
