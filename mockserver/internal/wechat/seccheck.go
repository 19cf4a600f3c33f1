package wechat

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

// secCheckRequest covers both versions: v1 is {"content"} alone, v2 adds
// version 2, scene and openid (docs/platforms/wechat.md).
type secCheckRequest struct {
	Content   string          `json:"content"`
	Version   json.RawMessage `json:"version"`
	Scene     int             `json:"scene"`
	OpenID    string          `json:"openid"`
	Title     string          `json:"title"`
	Nickname  string          `json:"nickname"`
	Signature string          `json:"signature"`
}

type secResult struct {
	Suggest string `json:"suggest"`
	Label   int    `json:"label"`
}

type secDetail struct {
	Strategy string `json:"strategy"`
	ErrCode  int    `json:"errcode"`
	Suggest  string `json:"suggest"`
	Label    int    `json:"label"`
	Prob     int    `json:"prob,omitempty"`
	Level    int    `json:"level,omitempty"`
	Keyword  string `json:"keyword,omitempty"`
}

type secAnswer struct {
	ErrCode ErrCode     `json:"errcode"`
	ErrMsg  string      `json:"errmsg"`
	Result  secResult   `json:"result"`
	Detail  []secDetail `json:"detail"`
	TraceID string      `json:"trace_id"`
}

const maxSecCheckV2Runes = 2500

// POST /wxa/msg_sec_check?access_token=TOKEN
func (e *Emulator) handleMsgSecCheck(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, code := e.checkToken(r)
	c.AppID = appID
	var req secCheckRequest
	if code == CodeOK {
		code = readJSON(w, r, maxSecCheckV1BodyBytes, &req)
		c.OpenID = req.OpenID
	}
	if e.fault(w, r, c) {
		return
	}
	if code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok {
		e.fail(w, c, CodeInvalidCredential, "")
		return
	}
	if l, ok := e.env.Take(app, EndpointMsgSecCheck); !ok {
		e.fail(w, c, quotaCode(l, CodeMinuteFrequency), "")
		return
	}
	version := string(req.Version)
	switch version {
	case "", "null", "1", `"1"`:
		e.secCheckV1(w, c, &req)
	case "2", `"2"`:
		e.secCheckV2(w, c, &req)
	default:
		e.fail(w, c, CodeDataFormat, "")
	}
}

// v1 (legacy): errcode 0 for clean text, 87014 "risky content" otherwise.
// Review-level hits pass: v1 has no review verdict.
func (e *Emulator) secCheckV1(w http.ResponseWriter, c *platform.Call, req *secCheckRequest) {
	if req.Content == "" {
		e.fail(w, c, CodeDataFormat, "")
		return
	}
	if v := e.env.Content.Check(req.Content); v.Suggest == content.Risky {
		e.fail(w, c, CodeRiskyContent, "")
		return
	}
	c.ErrCode = 0
	writeJSON(w, errorBody{ErrCode: CodeOK, ErrMsg: "ok"})
}

// v2: the verdict is data, not an error — risky text still answers errcode
// 0 with result.suggest "risky". The openid must be a user of the app.
func (e *Emulator) secCheckV2(w http.ResponseWriter, c *platform.Call, req *secCheckRequest) {
	switch {
	// Empty or over 2500 characters: the platform's code is UNCONFIRMED
	// (the doc states the limit, not the answer); 47001 fits a bad body.
	case req.Content == "" || utf8.RuneCountInString(req.Content) > maxSecCheckV2Runes:
		e.fail(w, c, CodeDataFormat, "")
		return
	case req.Scene < 1 || req.Scene > 4:
		e.fail(w, c, CodeInvalidScene, "")
		return
	case req.OpenID == "" || !e.env.Store.HasUser(Name, c.AppID, req.OpenID):
		e.fail(w, c, CodeInvalidOpenID, "")
		return
	}
	v := e.env.Content.Check(req.Content, req.Title, req.Nickname, req.Signature)
	ans := secAnswer{ErrCode: CodeOK, ErrMsg: "ok", Result: secResult{Suggest: v.Suggest, Label: v.Label},
		TraceID: fmt.Sprintf("%08x-%08x-%08x", uint32(e.env.Clock.Now().Unix()), rand.Uint32(), rand.Uint32())}
	prob := 90
	if v.Suggest == content.Pass {
		prob = 10
	}
	ans.Detail = append(ans.Detail, secDetail{Strategy: "content_model", Suggest: v.Suggest, Label: v.Label, Prob: prob})
	for _, h := range v.Hits {
		level := 90
		if h.Suggest == content.Review {
			level = 50
		}
		ans.Detail = append(ans.Detail, secDetail{Strategy: "keyword", Suggest: h.Suggest, Label: h.Label, Level: level, Keyword: h.Word})
	}
	c.ErrCode = 0
	writeJSON(w, ans)
}
