package douyin

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Image moderation, three generations (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/basic-abilities/content-security/picture-detect-v2
// and …/picture-detect-v3; the legacy API in the mini-game docs, …/mini-game/develop/server/content-safety/image-detection):
//
//	POST /api/v2/tags/image/        legacy, header X-Token (getAccessToken), {"targets","tasks"}, antidirt shape
//	POST /api/apps/censor/image     V2, token in the body, {"error","message","predicts"}
//	POST /api/apps/v1/censor/image/ V3, header access-token (client token), {"err_no","err_msg","log_id","predicts"}
//
// An image is judged by the content rules' risky_images: by the SHA-256 of
// the bytes sent in image_data (base64), or by the exact URL sent in image
// (the mock never downloads it, so an unlisted URL passes). image wins
// over image_data when both are sent ("有 image 字段时，此字段无效").
//
// The docs and SKIT-ByteDance disagree on the trailing slash of the legacy
// and V3 paths (the docs' URLs end in "/", SKIT's do not): both forms are
// served.
const (
	// maxImageBody bounds an image request: base64 of a few megabytes. No
	// limit is documented (UNCONFIRMED); a larger body is a parameter error.
	maxImageBody = 8 << 20
	// maxImageTasks: the legacy API's task cap is not documented; antidirt's
	// 10 is assumed (UNCONFIRMED).
	maxImageTasks = 10
)

// imageTargets are the legacy API's detection services ("目前支持 porn、
// politics、ad、disgusting 四种"), each reported by one model of the mock's
// naming (the doc's example shows image_porn for porn; the others are
// UNCONFIRMED).
var imageTargets = map[string]string{
	"porn":       "image_porn",
	"politics":   "image_politics",
	"ad":         "image_ad",
	"disgusting": "image_disgusting",
}

// imageModels are the V2/V3 model features, in the doc's order. A risky
// image is reported as a hit of the first, porn (the rules carry no
// category; UNCONFIRMED which model a real hit names).
var imageModels = []string{"porn", "cartoon_leader", "anniversary_flag", "sensitive_flag", "sensitive_text",
	"leader_recognition", "bloody", "fandongtaibiao", "plant_ppx", "high_risk_social_event", "high_risk_boom",
	"high_risk_money", "high_risk_terrorist_uniform", "high_risk_sensitive_map", "great_hall", "cartoon_porn",
	"party_founding_memorial"}

// Codes of the V2 image API: "error" in {"error","message","predicts"},
// HTTP 200 (the doc's table).
const (
	CodeImageParams   ErrNo = 1 // 参数有误
	CodeImageToken    ErrNo = 2 // access_token 校验失败
	CodeImageDownload ErrNo = 3 // 图片下载失败: image is not an http(s) link
	CodeImageInternal ErrNo = 4 // 服务内部错误; also a quota the mock enforces (UNCONFIRMED)
)

func readJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return false
	}
	return decodeJSON(body, v)
}

// imageVerdict judges one image. It reports ok false when the image is
// missing or unreadable: no image and no image_data, base64 that does not
// decode, or an image that is not an http(s) URL (badLink).
func (e *Emulator) imageVerdict(link, data string) (risky, badLink, ok bool) {
	if link != "" {
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return false, true, false
		}
		return e.env.Content.RiskyImageURL(link), false, true
	}
	if data == "" {
		return false, false, false
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) == 0 {
		return false, false, false
	}
	return e.env.Content.RiskyImage(raw), false, true
}

type imagePredict struct {
	ModelName string `json:"model_name"`
	Hit       bool   `json:"hit"`
}

func modelPredicts(risky bool) []imagePredict {
	out := make([]imagePredict, len(imageModels))
	for i, m := range imageModels {
		out[i] = imagePredict{ModelName: m, Hit: risky && i == 0}
	}
	return out
}

type tagsImageRequest struct {
	Targets []string `json:"targets"`
	Tasks   []struct {
		Image     string `json:"image"`
		ImageData string `json:"image_data"`
	} `json:"tasks"`
}

type tagsImagePredict struct {
	Prob      int    `json:"prob"`
	ModelName string `json:"model_name"`
	Target    string `json:"target"`
}

type tagsImageItem struct {
	Code     int                `json:"code"`
	TaskID   string             `json:"task_id"`
	DataID   *string            `json:"data_id"`
	Cached   bool               `json:"cached"`
	Predicts []tagsImagePredict `json:"predicts"`
	Msg      string             `json:"msg"`
}

// POST /api/v2/tags/image/ (and without the slash), header X-Token,
// {"targets":["ad","porn"],"tasks":[{"image":"<url>"}|{"image_data":"<base64>"}]}
//
// One data[] item per task, in order, one predict per target: prob 1 when
// the image is risky (the doc: "值为 0 或者 1，当值为 1 时表示检测的图片有违法
// 违规内容"). Errors in antidirt's gateway shape: 401 for a bad token, 400
// for a body that is not JSON, no or an unknown target, no task, more than
// 10, or a task without a readable image; a quota tags_image → 429
// (UNCONFIRMED).
func (e *Emulator) handleTagsImage(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, state := e.checkToken(r.Header.Get("X-Token"), true)
	c.AppID = appID
	var req tagsImageRequest
	ok := readJSONLimit(w, r, &req, maxImageBody)
	if e.fault(w, r, c, famAntidirt) {
		return
	}
	if state != tokenOK {
		e.fail(w, c, famAntidirt, CodeAntidirtToken)
		return
	}
	if !ok || len(req.Targets) == 0 || len(req.Tasks) == 0 || len(req.Tasks) > maxImageTasks {
		e.fail(w, c, famAntidirt, CodeAntidirtParams)
		return
	}
	for i, t := range req.Targets {
		if _, known := imageTargets[t]; !known || slices.Contains(req.Targets[:i], t) {
			e.fail(w, c, famAntidirt, CodeAntidirtParams)
			return
		}
	}
	verdicts := make([]bool, len(req.Tasks))
	for i, t := range req.Tasks {
		risky, _, readable := e.imageVerdict(t.Image, t.ImageData)
		if !readable {
			e.fail(w, c, famAntidirt, CodeAntidirtParams)
			return
		}
		verdicts[i] = risky
	}
	app, found := e.env.Store.App(Name, appID)
	if !found {
		e.fail(w, c, famAntidirt, CodeAntidirtToken)
		return
	}
	if _, ok := e.env.Take(app, EndpointTagsImage); !ok {
		e.fail(w, c, famAntidirt, CodeAntidirtRateLimit)
		return
	}
	ans := struct {
		LogID string          `json:"log_id"`
		Data  []tagsImageItem `json:"data"`
	}{LogID: e.logID(), Data: make([]tagsImageItem, 0, len(req.Tasks))}
	for _, risky := range verdicts {
		prob := 0
		if risky {
			prob = 1
		}
		it := tagsImageItem{TaskID: taskID(""), Msg: "ok", Predicts: make([]tagsImagePredict, 0, len(req.Targets))}
		for _, t := range req.Targets {
			it.Predicts = append(it.Predicts, tagsImagePredict{Prob: prob, ModelName: imageTargets[t], Target: t})
		}
		ans.Data = append(ans.Data, it)
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, ans)
}

type censorImageRequest struct {
	AppID       string `json:"app_id"`
	AccessToken string `json:"access_token"`
	Image       string `json:"image"`
	ImageData   string `json:"image_data"`
}

type censorImageV2Answer struct {
	Error    ErrNo          `json:"error"`
	Message  string         `json:"message"`
	Predicts []imagePredict `json:"predicts,omitempty"`
}

// censorV2Fail answers a V2 error: {"error":N,"message"} with HTTP 200.
func censorV2Fail(w http.ResponseWriter, c *platform.Call, code ErrNo, msg string) {
	c.ErrCode = int(code)
	writeJSON(w, http.StatusOK, censorImageV2Answer{Error: code, Message: msg})
}

const imageCensorSuccess = "image censor success" // the message of every documented success

// POST /api/apps/censor/image (V2, developer.toutiao.com and its sandbox)
// {"app_id","access_token","image"|"image_data"}
//
// Errors (the doc's table, HTTP 200): 1 body not JSON, app_id missing, no
// image; 2 token missing, unknown, expired or not app_id's; 3 image not an
// http(s) link; 4 a quota censor_image_v2 (UNCONFIRMED: no limit code is
// documented). Faults answer in this shape too.
func (e *Emulator) handleCensorImageV2(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req censorImageRequest
	ok := readJSONLimit(w, r, &req, maxImageBody)
	appID, state := e.checkToken(req.AccessToken, true)
	c.AppID = appID
	if c.AppID == "" {
		c.AppID = req.AppID
	}
	if a, hit := e.env.Fault(r.Context(), c); hit {
		if platform.Abort(w, a) {
			return
		}
		code := ErrNo(*a.ErrCode)
		msg := a.ErrMsg
		if msg == "" {
			msg = code.Message()
		}
		censorV2Fail(w, c, code, msg)
		return
	}
	switch {
	case !ok || req.AppID == "":
		censorV2Fail(w, c, CodeImageParams, CodeImageParams.Message())
		return
	case state != tokenOK || appID != req.AppID:
		censorV2Fail(w, c, CodeImageToken, CodeImageToken.Message())
		return
	}
	risky, badLink, readable := e.imageVerdict(req.Image, req.ImageData)
	switch {
	case badLink:
		censorV2Fail(w, c, CodeImageDownload, CodeImageDownload.Message())
		return
	case !readable:
		censorV2Fail(w, c, CodeImageParams, CodeImageParams.Message()+": image or image_data is required")
		return
	}
	app, found := e.env.Store.App(Name, appID)
	if !found {
		censorV2Fail(w, c, CodeImageToken, CodeImageToken.Message())
		return
	}
	if _, ok := e.env.Take(app, EndpointCensorImageV2); !ok {
		censorV2Fail(w, c, CodeImageInternal, "too many requests")
		return
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, censorImageV2Answer{Error: CodeOK, Message: imageCensorSuccess, Predicts: modelPredicts(risky)})
}

// POST /api/apps/v1/censor/image/ (V3, open.douyin.com; SKIT drops the
// slash) header access-token (client token), {"app_id","image"|"image_data"}
// → {"err_no":0,"err_msg":"image censor success","log_id","predicts":[…]}
// (predicts at the top level, as the doc and SKIT's AppsCensorImageV1Response
// have it). The doc's example also carries access_token in the body; it is
// ignored. V3's error codes are not documented (UNCONFIRMED): the common
// ones, 28001003/28001008 for the token, 28001007 for a body that is not
// JSON, an app_id other than the token's, no image, unreadable image_data
// or an image that is not an http(s) link; a quota censor_image →
// 28003018 (28003017 for a day quota).
func (e *Emulator) handleCensorImage(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req censorImageRequest
	ok := readJSONLimit(w, r, &req, maxImageBody)
	app, allowed := e.openCaller(w, r, c, EndpointCensorImage, "")
	if !allowed {
		return
	}
	bad := func(detail string) {
		e.failMsg(w, c, famOpen, CodeInvalidParam, CodeInvalidParam.Message()+": "+detail)
	}
	if !ok || req.AppID != app.AppID {
		bad("app_id must be the token's app")
		return
	}
	risky, badLink, readable := e.imageVerdict(req.Image, req.ImageData)
	if !readable || badLink {
		bad("image (an http(s) link) or image_data (base64) is required")
		return
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, struct {
		ErrNo    ErrNo          `json:"err_no"`
		ErrMsg   string         `json:"err_msg"`
		LogID    string         `json:"log_id"`
		Predicts []imagePredict `json:"predicts"`
	}{CodeOK, imageCensorSuccess, e.logID(), modelPredicts(risky)})
}
