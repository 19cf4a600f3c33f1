package douyin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

const (
	// pathCensor is the newer text moderation (内容安全检测（新）, §1.6b),
	// called with the client token: the v2 client's check.
	pathCensor = "/api/apps/v1/censor/text/"
	// pathAntidirt is the legacy text moderation (§1.6a), called with the
	// getAccessToken token in X-Token: the v1 client's check.
	pathAntidirt = "/api/v2/tags/text/antidirt"
	headerXToken = "X-Token"
	// maxTasks: antidirt takes at most 10 tasks a call ("最多支持10个任务");
	// the same cap on censor/text is UNCONFIRMED (the mock applies it).
	maxTasks = 10
)

type censorRequest struct {
	AppID   string   `json:"app_id"`
	Content []string `json:"content"`
}

type antidirtTask struct {
	Content string `json:"content"`
}

type antidirtRequest struct {
	Tasks []antidirtTask `json:"tasks"`
}

// CheckContent runs the platform's text moderation on texts: censor/text
// on v2, antidirt on v1, so the check uses the token the client already
// holds. Each non-empty text is one task, in calls of at most 10. The
// verdict is risky as soon as one text is: a predict with hit true, or
// prob ≥ 1 (older antidirt answers had no hit and a 0/1 prob). Label is the
// hitting predict's target, else its model_name; "" when nothing hit.
// Douyin's check takes no user, so to is not used.
func (c *Client) CheckContent(ctx context.Context, to string, texts []string) (platform.Verdict, error) {
	nonEmpty := platform.NonBlank(texts)
	for len(nonEmpty) > 0 {
		batch := nonEmpty[:min(maxTasks, len(nonEmpty))]
		nonEmpty = nonEmpty[len(batch):]
		var v platform.Verdict
		err := platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
			var perr *platform.Error
			v, perr = c.check(ctx, token, batch)
			return perr
		})
		if err != nil {
			return platform.Verdict{}, err
		}
		if v.Risky {
			return v, nil
		}
	}
	return platform.Verdict{}, nil
}

func (c *Client) check(ctx context.Context, token string, batch []string) (platform.Verdict, *platform.Error) {
	if !c.legacyMode {
		b, perr := c.postOK(ctx, c.openURL, pathCensor, http.Header{headerToken: {token}},
			censorRequest{AppID: c.cfg.AppID, Content: batch}, token)
		if perr != nil {
			return platform.Verdict{}, perr
		}
		return c.parseCensor(b, len(batch), token)
	}
	req := antidirtRequest{Tasks: make([]antidirtTask, len(batch))}
	for i, t := range batch {
		req.Tasks[i].Content = t
	}
	r, perr := c.post(ctx, c.legacyURL, pathAntidirt, http.Header{headerXToken: {token}}, req, token)
	if perr != nil {
		return platform.Verdict{}, perr
	}
	return c.parseAntidirt(r, len(batch), token)
}

// moderationAnswer is the union of both moderation answers:
//
//	censor/text: {"err_no":0,"err_msg":"","log_id","data":[item…]}
//	antidirt:    {"log_id","data":[item…]}, or on error
//	             {"error_id","code":401,"message","exception"}
//
// item: {"msg","code":0,"task_id","data_id","predicts":[{"model_name","prob","hit","target"}]}
type moderationAnswer struct {
	ErrNo   json.RawMessage `json:"err_no"`
	ErrMsg  json.RawMessage `json:"err_msg"`
	ErrorID json.RawMessage `json:"error_id"`
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type moderationItem struct {
	Code     json.RawMessage `json:"code"`
	Msg      json.RawMessage `json:"msg"`
	Predicts []struct {
		ModelName json.RawMessage `json:"model_name"`
		Target    json.RawMessage `json:"target"` // null in the antidirt doc example
		Prob      json.RawMessage `json:"prob"`   // 0/1 in old answers; "for reference only" in new ones
		Hit       json.RawMessage `json:"hit"`
	} `json:"predicts"`
}

// parseCensor reads a censor/text answer for n texts.
func (c *Client) parseCensor(b []byte, n int, token string) (platform.Verdict, *platform.Error) {
	var a moderationAnswer
	if perr := decode(pathCensor, b, &a); perr != nil {
		return platform.Verdict{}, perr
	}
	code, ok := errNo(a.ErrNo)
	switch {
	case !ok:
		return platform.Verdict{}, malformed(pathCensor, "no err_no")
	case code != CodeOK:
		return platform.Verdict{}, c.classify(businessRules, code, c.api.Scrub(text(a.ErrMsg), token))
	}
	return c.verdict(pathCensor, a.Data, n, token)
}

// parseAntidirt reads an antidirt answer for n texts. Its errors come in
// the gateway's shape, with (probably) the code as HTTP status: the body is
// read whatever the status, and only a body without a code falls back to
// the HTTP status.
func (c *Client) parseAntidirt(r *call.Answer, n int, token string) (platform.Verdict, *platform.Error) {
	var a moderationAnswer
	if perr := decode(pathAntidirt, r.Body, &a); perr != nil {
		if !r.OK() {
			return platform.Verdict{}, r.StatusError(Platform)
		}
		return platform.Verdict{}, perr
	}
	code, hasCode := errNo(a.Code)
	if (hasCode && code != CodeOK) || text(a.ErrorID) != "" {
		if !hasCode || code == CodeOK {
			if !r.OK() {
				return platform.Verdict{}, r.StatusError(Platform)
			}
			return platform.Verdict{}, malformed(pathAntidirt, "error_id without a code")
		}
		e := c.classify(antidirtRules, code, c.api.Scrub(text(a.Message), token))
		if e.Class == message.OutcomeThrottled && !r.OK() {
			// The gateway's own Retry-After, if longer, beats the hint.
			e.RetryAfter = max(e.RetryAfter, r.StatusError(Platform).RetryAfter)
		}
		return platform.Verdict{}, e
	}
	if !r.OK() {
		return platform.Verdict{}, r.StatusError(Platform)
	}
	return c.verdict(pathAntidirt, a.Data, n, token)
}

// verdict reads data[]: one item per text, in order.
func (c *Client) verdict(path string, data json.RawMessage, n int, token string) (platform.Verdict, *platform.Error) {
	var items []moderationItem
	if len(data) == 0 || data[0] != '[' {
		return platform.Verdict{}, malformed(path, "no data")
	}
	if perr := decode(path, data, &items); perr != nil {
		return platform.Verdict{}, perr
	}
	if len(items) != n {
		// A text without a judgement is not a pass.
		return platform.Verdict{}, malformed(path, "data does not hold one item per text")
	}
	for _, it := range items {
		if code, ok := errNo(it.Code); ok && code != CodeOK {
			return platform.Verdict{}, c.classify(businessRules, code, c.api.Scrub(text(it.Msg), token))
		}
		for _, p := range it.Predicts {
			hit := strings.TrimSpace(string(p.Hit)) == "true"
			var prob float64
			_ = json.Unmarshal(p.Prob, &prob)
			if hit || prob >= 1 {
				return platform.Verdict{Risky: true, Label: first(text(p.Target), text(p.ModelName), "hit")}, nil
			}
		}
	}
	return platform.Verdict{}, nil
}
