package baidu

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/platform"
)

// syncCheckText (douyin-kuaishou-baidu.md §3.5).
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
	var nonEmpty []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			nonEmpty = append(nonEmpty, t)
		}
	}
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
		body, err := encodeCheck(checkTextRequest{Content: piece, Type: types})
		if err != nil {
			return platform.Verdict{}, malformed(pathCheckText, "encode request")
		}
		var v checkVerdict
		err = c.withToken(ctx, func(token string) *platform.Error {
			_, b, perr := c.call(ctx, request{path: pathCheckText, query: url.Values{"access_token": {token}},
				contentType: contentJSON, body: body, token: token})
			if perr != nil {
				return perr
			}
			v, perr = c.parseCheck(b)
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

func encodeCheck(r checkTextRequest) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return "", err
	}
	return buf.String(), nil
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
	a, perr := decodeAnswer(pathCheckText, b)
	if perr != nil {
		return checkVerdict{}, perr
	}
	if code, ok := a.gateway(); ok {
		return checkVerdict{}, c.gatewayError(gatewayRules, code, text(a.ErrorMsg))
	}
	errno, ok := number(a.Errno)
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
			if n, ok := number(r.Errno); ok && n != 0 {
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
		return checkVerdict{}, c.errnoError(checkRules, Errno(errno), text(a.Msg))
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
