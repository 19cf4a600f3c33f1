package wechat

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// Temporary media (uploadTempMedia / getTempMedia, https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/kf-mgnt/kf-message/uploadTempMedia.html):
// mini-programs upload images only; a media_id lives 3 days and may be used
// again and again.
const (
	mediaLife = 3 * 24 * time.Hour
	// maxImageBytes: 2 MB is the limit the Official Account pages table for
	// images (one page also says 10 MB); the mini-program value is
	// UNCONFIRMED. Over it: 40009.
	maxImageBytes = 2 << 20
	// multipartSlack is what a multipart body may carry beyond its file
	// (boundaries, headers, other fields).
	multipartSlack = 64 << 10
)

// imageTypes are the formats accepted, by the type the bytes sniff as,
// with the file extension media/get names them by: "支持PNG\JPEG\JPG\GIF格式"
// (uploadTempMedia), plus BMP, which the Official Account image rules list.
var imageTypes = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/bmp": "bmp"}

// errNoFile is a multipart body without the named file part.
var errNoFile = errors.New("no file part")

// readFilePart reads the file in form field name of a multipart body: at
// most limit bytes (tooBig when there are more). errNoFile when the body
// is not multipart or has no such part.
func readFilePart(w http.ResponseWriter, r *http.Request, name string, limit int64) (data []byte, filename string, tooBig bool, err error) {
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "", false, errNoFile
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, limit+multipartSlack), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", true, nil
			}
			return nil, "", false, errNoFile
		}
		if part.FormName() != name {
			_ = part.Close()
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", true, nil
			}
			return nil, "", false, errNoFile
		}
		if int64(len(data)) > limit {
			return nil, "", true, nil
		}
		return data, part.FileName(), false, nil
	}
}

type uploadAnswer struct {
	ErrCode   ErrCode `json:"errcode"`
	ErrMsg    string  `json:"errmsg"`
	Type      string  `json:"type"`
	MediaID   string  `json:"media_id"`
	CreatedAt int64   `json:"created_at"`
}

// newMediaID looks like WeChat's 64-character media ids.
func newMediaID() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// POST /cgi-bin/media/upload?access_token=TOKEN&type=image, multipart part
// "media".
//
// Checks: token; quota media_upload; type "image" (else 40004 "invalid
// media type"); a "media" part with bytes (41005); at most 2 MB (40009,
// UNCONFIRMED); PNG, JPEG, GIF or BMP by content (40005, UNCONFIRMED).
// created_at is a number: the current page's field table and the Official
// Account example say so (the mini-program example's "xxx" is a
// placeholder), and silenceper decodes it as int64.
func (e *Emulator) handleMediaUpload(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.begin(w, r, c, nil, nil)
	if !ok || !e.take(w, c, app, EndpointMediaUpload, CodeMinuteQuota) {
		return
	}
	if t := r.URL.Query().Get("type"); t != "image" {
		e.fail(w, c, CodeInvalidMediaType, "")
		return
	}
	data, name, tooBig, err := readFilePart(w, r, "media", maxImageBytes)
	switch {
	case tooBig:
		e.fail(w, c, CodeInvalidImageSize, "")
		return
	case err != nil || len(data) == 0:
		e.fail(w, c, CodeMediaMissing, "")
		return
	}
	ct := http.DetectContentType(data)
	if _, ok := imageTypes[ct]; !ok {
		e.fail(w, c, CodeInvalidFileType, "")
		return
	}
	now := e.env.Clock.Now()
	m := &store.Media{Platform: Name, AppID: app.AppID, ID: newMediaID(), Type: "image", ContentType: ct,
		FileName: name, Data: data, Created: now, Expires: now.Add(mediaLife)}
	e.env.Store.PutMedia(m, now)
	c.ErrCode = 0
	writeJSON(w, uploadAnswer{ErrCode: CodeOK, ErrMsg: "ok", Type: m.Type, MediaID: m.ID, CreatedAt: now.Unix()})
}

// media returns the app's live file id, or the code to answer: 41006 when
// the id is empty, 40007 "invalid media_id" when it is unknown, expired or
// another app's.
func (e *Emulator) media(app *store.App, id string) (*store.Media, ErrCode) {
	if id == "" {
		return nil, CodeMediaIDMissing
	}
	m, ok := e.env.Store.MediaByID(Name, app.AppID, id)
	if !ok || !e.env.Clock.Now().Before(m.Expires) {
		return nil, CodeInvalidMediaID
	}
	return m, CodeOK
}

// checkMediaID is media for callers that only need the id to be good.
func (e *Emulator) checkMediaID(app *store.App, id string) ErrCode {
	_, code := e.media(app, id)
	return code
}

// GET /cgi-bin/media/get?access_token=TOKEN&media_id=ID: the bytes, with
// "Content-disposition: attachment; filename="MEDIA_ID.jpg"" (getTempMedia);
// errors in JSON (41006, 40007).
func (e *Emulator) handleMediaGet(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.begin(w, r, c, nil, nil)
	if !ok || !e.take(w, c, app, EndpointMediaGet, CodeMinuteQuota) {
		return
	}
	m, code := e.media(app, r.URL.Query().Get("media_id"))
	if code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-disposition", `attachment; filename="`+m.ID+"."+imageTypes[m.ContentType]+`"`)
	h.Set("Cache-Control", "no-cache, must-revalidate")
	h.Set("Content-Length", strconv.Itoa(len(m.Data)))
	c.ErrCode = 0
	_, _ = w.Write(m.Data)
}
