package baidu

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

// syncCheckText (docs/platforms/baidu.md): JSON {"content","type"},
// content at most 10 KB of bytes, type a list of "risk" (内容违规) and
// "lead" (诱导违规), default ["risk"], case-sensitive.
const maxCheckTextBytes = 10 * 1024

// Check types.
const (
	checkRisk = "risk"
	checkLead = "lead"
)

type checkTextRequest struct {
	Content *string  `json:"content"`
	Type    []string `json:"type"`
}

type checkResult struct {
	Type  string `json:"type"`
	Errno Errno  `json:"errno"`
	Msg   string `json:"msg"`
}

type checkTextData struct {
	RetrieveID string        `json:"retrieveId"`
	Res        []checkResult `json:"res"`
}

// POST /rest/2.0/smartapp/riskDetection/v2/syncCheckText?access_token=…
//
// The verdict comes from the content rules: "risk" fails on a risky hit,
// "lead" on a review-level hit (the mock's mapping: the rules have no
// inducement category of their own). A failed type answers errno 82512
// "potential risk" in its res entry and at the top level, as in the SDK's
// sample; the errno for a lead violation is UNCONFIRMED (82512 is used).
// Bad input — not JSON, no or empty content, content over 10 KB, an unknown
// type — is errno 2002 (UNCONFIRMED: the doc lists no codes for it).
func (e *Emulator) handleCheckText(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, gw := e.checkToken(r)
	c.AppID = appID
	if e.fault(w, r, c) {
		return
	}
	if gw != 0 {
		gatewayFail(w, c, gw)
		return
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok {
		gatewayFail(w, c, GatewayTokenInvalid)
		return
	}
	if r.Method != http.MethodPost {
		fail(w, c, ErrnoParam, "method "+r.Method+" not allowed, use POST")
		return
	}
	if l, ok := e.env.Take(app, EndpointCheckText); !ok {
		gatewayFail(w, c, quotaCode(l))
		return
	}
	req, detail := readCheckText(w, r)
	if detail != "" {
		fail(w, c, ErrnoParam, detail)
		return
	}
	v := e.env.Content.Check(*req.Content)
	data := checkTextData{RetrieveID: strconv.FormatInt(e.env.Clock.Now().UnixMilli(), 10)}
	top := ErrnoOK
	for _, typ := range req.Type {
		violated := typ == checkRisk && v.Suggest == content.Risky ||
			typ == checkLead && hasReviewHit(v)
		res := checkResult{Type: typ, Errno: ErrnoOK, Msg: "pass"}
		if violated {
			res.Errno, res.Msg = ErrnoRisk, ErrnoRisk.Message()
			top = ErrnoRisk
		}
		data.Res = append(data.Res, res)
	}
	c.ErrCode = int(top)
	writeJSON(w, http.StatusOK, businessAnswer{Errno: top, Msg: top.Message(), Data: data})
}

func hasReviewHit(v content.Verdict) bool {
	for _, h := range v.Hits {
		if h.Suggest == content.Review {
			return true
		}
	}
	return false
}

// readCheckText decodes and checks the body; detail names what is wrong.
func readCheckText(w http.ResponseWriter, r *http.Request) (checkTextRequest, string) {
	var req checkTextRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, "content exceeds 10KB"
		}
		return req, "unreadable body"
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, "body is not a JSON object of the right shape"
	}
	switch {
	case req.Content == nil || *req.Content == "":
		return req, "content is empty"
	case len(*req.Content) > maxCheckTextBytes:
		return req, "content exceeds 10KB"
	}
	if len(req.Type) == 0 {
		req.Type = []string{checkRisk}
	}
	seen := map[string]bool{}
	types := req.Type[:0]
	for _, t := range req.Type {
		if t != checkRisk && t != checkLead {
			return req, "type " + strconv.Quote(t) + " is not risk or lead"
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	req.Type = types
	return req, ""
}
