package baidu

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// syncCheckText (docs/platforms/baidu.md).
const (
	pathCheckText = "/rest/2.0/smartapp/riskDetection/v2/syncCheckText"
	// maxCheckBytes: "文本的字节数不能超过 10KB".
	maxCheckBytes = 10 * 1024
	// Strategies: risk = 内容违规检测, lead = 诱导违规检测.
	checkRisk = "risk"
	checkLead = "lead"
	// labelPass is the verdict label of clean text (the per-strategy msg of
	// a pass).
	labelPass = "pass"
)

type checkTextRequest struct {
	Content string   `json:"content"`
	Type    []string `json:"type"`
}

// CheckContent runs syncCheckText on texts with the "risk" strategy (and
// "lead" when Config.CheckLead). Texts are joined by newlines and checked
// in pieces of at most 10 KB; the verdict is risky if any piece is. The
// label names the strategies that failed ("risk", "lead", "risk,lead"), or
// is "pass". The API takes no user, so to is not used.
func (c *Client) CheckContent(ctx context.Context, _ string, texts []string) (platform.Verdict, error) {
	nonEmpty := platform.NonBlank(texts)
	if len(nonEmpty) == 0 {
		// Nothing to judge; the API refuses empty content.
		return platform.Verdict{Label: labelPass}, nil
	}
	types := []string{checkRisk}
	if c.cfg.CheckLead {
		types = append(types, checkLead)
	}
	var failed []string
	for _, piece := range splitBytes(strings.Join(nonEmpty, "\n"), maxCheckBytes) {
		body, err := call.JSON(checkTextRequest{Content: piece, Type: types})
		if err != nil {
			return platform.Verdict{}, malformed(pathCheckText, "encode request")
		}
		var v checkVerdict
		err = platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
			a, perr := c.api.Do(ctx, call.Request{URL: c.tokenURL(pathCheckText, token), Name: pathCheckText,
				ContentType: contentJSON, Body: body, Token: token})
			if perr != nil {
				return perr
			}
			v, perr = c.parseCheck(a.Body)
			return perr
		})
		if err != nil {
			return platform.Verdict{}, err
		}
		for _, t := range v.failed {
			if !slices.Contains(failed, t) {
				failed = append(failed, t)
			}
		}
	}
	if len(failed) == 0 {
		return platform.Verdict{Label: labelPass}, nil
	}
	return platform.Verdict{Risky: true, Label: strings.Join(failed, ",")}, nil
}

// checkVerdict is one piece's judgement: the strategies (or, without a
// per-strategy list, the errno) that failed; none is a pass.
type checkVerdict struct {
	failed []string
}

// parseCheck reads
// {"errno":0,"msg":"success","data":{"retrieveId","res":[{"type","errno","msg"}]}}.
// A violation is a non-zero errno, per strategy in data.res and at the top
// (82512 "potential risk" in the SDK's sample): the official SDK turns it
// into an error, this client into a verdict. A non-zero top-level errno
// with no failed strategy is an error, except 82512, which is a verdict
// whatever data says.
func (c *Client) parseCheck(b []byte) (checkVerdict, *platform.Error) {
	a, perr := c.decodeAnswer(pathCheckText, b)
	if perr != nil {
		return checkVerdict{}, perr
	}
	if code, ok := a.gateway(); ok {
		return checkVerdict{}, c.gatewayError(gatewayRules, code, call.Text(a.ErrorMsg))
	}
	errno, ok := call.Number(a.Errno)
	if !ok {
		return checkVerdict{}, malformed(pathCheckText, "no errno")
	}
	var data struct {
		Res []struct {
			Type  string          `json:"type"`
			Errno json.RawMessage `json:"errno"`
		} `json:"res"`
	}
	var v checkVerdict
	if json.Unmarshal(a.Data, &data) == nil {
		for _, r := range data.Res {
			if n, ok := call.Number(r.Errno); ok && n != 0 {
				v.failed = append(v.failed, strategyLabel(r.Type))
			}
		}
	}
	switch {
	case len(v.failed) > 0:
		return v, nil
	case Errno(errno) == ErrnoRisk:
		return checkVerdict{failed: []string{strconv.FormatInt(errno, 10)}}, nil
	case errno != 0:
		return checkVerdict{}, c.errnoError(checkRules, Errno(errno), call.Text(a.Msg))
	}
	return v, nil
}

// strategyLabel is a failed strategy's name as a label: the two known
// names as they are; anything else is the platform's text, bounded.
func strategyLabel(t string) string {
	switch t {
	case checkRisk, checkLead:
		return t
	case "":
		return "unknown"
	}
	if len(t) > 32 {
		t = strings.ToValidUTF8(t[:32], "")
	}
	return t
}

// splitBytes cuts s into pieces of at most n bytes, at rune boundaries.
func splitBytes(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		if i == 0 { // cannot happen with n ≥ utf8.UTFMax; never loop forever
			i = n
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}
