package douyin

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Moderation (docs/platforms/douyin.md): both endpoints judge each text
// on its own with the shared content rules. A risky text is a hit
// (predicts[].hit true, prob 1, the signal old clients read); review-level
// hits pass (hit false, prob 0), since Douyin has no review verdict.
const (
	maxModerationTasks = 10 // antidirt: "最多支持10个任务"; the same cap on censor/text is UNCONFIRMED
	antidirtModel      = "short_content_antidirt"
	censorModel        = "text_censor" // UNCONFIRMED: the doc example is placeholder text
)

type antidirtRequest struct {
	Tasks []struct {
		Content *string `json:"content"`
	} `json:"tasks"`
}

type antidirtPredict struct {
	Prob      int     `json:"prob"`
	CallBack  string  `json:"call_back"` // UNCONFIRMED: in doc examples, not in the facts file
	Hit       bool    `json:"hit"`
	Target    *string `json:"target"` // null in the doc example
	ModelName string  `json:"model_name"`
}

type antidirtItem struct {
	Msg      string            `json:"msg"`
	Code     int               `json:"code"`
	TaskID   string            `json:"task_id"`
	Predicts []antidirtPredict `json:"predicts"`
	DataID   *string           `json:"data_id"` // null in the doc example
}

type antidirtAnswer struct {
	LogID string         `json:"log_id"`
	Data  []antidirtItem `json:"data"`
}

func taskID(prefix string) string {
	var b [12]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return prefix + strings.ToUpper(hex.EncodeToString(b[:]))
}

// verdict is (hit, prob) for one text.
func (e *Emulator) verdict(text string) (bool, int) {
	if e.env.Content.Check(text).Suggest == content.Risky {
		return true, 1
	}
	return false, 0
}

// POST /api/v2/tags/text/antidirt, header X-Token (getAccessToken token),
// body {"tasks":[{"content":…}]}.
//
// Errors leave the gateway's shape {"error_id","code","message","exception"}:
// 401 for a missing, unknown, replaced or expired token, 400 for a body that
// is not JSON, holds no task, more than 10, or a task without content.
func (e *Emulator) handleAntidirt(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, state := e.checkToken(r.Header.Get("X-Token"), true)
	c.AppID = appID
	var req antidirtRequest
	ok := readJSON(w, r, &req)
	if e.fault(w, r, c, famAntidirt) {
		return
	}
	if state != tokenOK {
		e.fail(w, c, famAntidirt, CodeAntidirtToken)
		return
	}
	if !ok || len(req.Tasks) == 0 || len(req.Tasks) > maxModerationTasks {
		e.fail(w, c, famAntidirt, CodeAntidirtParams)
		return
	}
	for _, t := range req.Tasks {
		if t.Content == nil {
			e.fail(w, c, famAntidirt, CodeAntidirtParams)
			return
		}
	}
	app, found := e.env.Store.App(Name, appID)
	if !found {
		e.fail(w, c, famAntidirt, CodeAntidirtToken)
		return
	}
	if _, ok := e.env.Take(app, EndpointAntidirt); !ok {
		e.fail(w, c, famAntidirt, CodeAntidirtRateLimit)
		return
	}
	ans := antidirtAnswer{LogID: e.logID(), Data: make([]antidirtItem, 0, len(req.Tasks))}
	for _, t := range req.Tasks {
		hit, prob := e.verdict(*t.Content)
		ans.Data = append(ans.Data, antidirtItem{TaskID: taskID("MICROAPP_"),
			Predicts: []antidirtPredict{{Prob: prob, Hit: hit, ModelName: antidirtModel}}})
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, ans)
}

type censorRequest struct {
	AppID   string   `json:"app_id"`
	Content []string `json:"content"`
}

type censorPredict struct {
	ModelName string `json:"model_name"`
	Prob      int    `json:"prob"`
	Hit       bool   `json:"hit"`
	Target    string `json:"target"`
}

type censorItem struct {
	Msg      string          `json:"msg"`
	Code     int             `json:"code"`
	TaskID   string          `json:"task_id"`
	DataID   string          `json:"data_id"`
	Predicts []censorPredict `json:"predicts"`
}

// POST /api/apps/v1/censor/text/, header access-token (client_token), body
// {"app_id":"tt…","content":["text1","text2"]}.
//
// Its error codes were not retrieved (UNCONFIRMED): the mock answers the
// common ones, 28001003/28001008 for the token, 28001007 for a body that is
// not JSON, an app_id other than the token's, or no (or over 10) texts.
func (e *Emulator) handleCensor(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, state := e.checkToken(r.Header.Get("access-token"), false)
	c.AppID = appID
	var req censorRequest
	ok := readJSON(w, r, &req)
	if e.fault(w, r, c, famOpen) {
		return
	}
	switch state {
	case tokenMissing, tokenInvalid:
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return
	case tokenExpired:
		e.fail(w, c, famOpen, CodeTokenExpired)
		return
	}
	switch {
	case !ok:
		e.fail(w, c, famOpen, CodeInvalidParam)
		return
	case req.AppID != appID:
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: app_id")
		return
	case len(req.Content) == 0 || len(req.Content) > maxModerationTasks:
		e.failMsg(w, c, famOpen, CodeInvalidParam, "参数不合法: content must hold 1 to 10 texts")
		return
	}
	app, found := e.env.Store.App(Name, appID)
	if !found {
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return
	}
	if l, ok := e.env.Take(app, EndpointCensor); !ok {
		e.fail(w, c, famOpen, quotaCode(l))
		return
	}
	items := make([]censorItem, 0, len(req.Content))
	for _, text := range req.Content {
		hit, prob := e.verdict(text)
		items = append(items, censorItem{TaskID: taskID(""), DataID: "",
			Predicts: []censorPredict{{ModelName: censorModel, Prob: prob, Hit: hit}}})
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, openAnswer{ErrNo: CodeOK, ErrMsg: "", LogID: e.logID(), Data: items})
}
