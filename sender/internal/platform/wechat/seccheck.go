package wechat

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/platform"
)

const (
	pathMsgSecCheck = "/wxa/msg_sec_check"
	// maxCheckRunes is msg_sec_check v2's content limit (2,500 characters).
	maxCheckRunes = 2500
	// sceneProfile is scene 1 (资料). The doc lists 1 profile, 2 comment,
	// 3 forum, 4 social log; none is "notification", and profile is the
	// scene SDK examples use for free text (UNCONFIRMED which scene fits
	// message content best).
	sceneProfile = 1
	labelNormal  = "100"
)

type secCheckRequest struct {
	Content string `json:"content"`
	Version int    `json:"version"`
	Scene   int    `json:"scene"`
	OpenID  string `json:"openid"`
}

// CheckContent runs msg_sec_check v2 on texts for the user to (the openid
// must have used the mini-program within 2 hours, else 61010). Texts are
// joined by newlines and checked in 2,500-character pieces; the verdict is
// risky if any piece is. "review" is not risky. The label is the
// platform's number as text ("20001").
func (c *Client) CheckContent(ctx context.Context, to string, texts []string) (platform.Verdict, error) {
	nonEmpty := platform.NonBlank(texts)
	if len(nonEmpty) == 0 {
		// Nothing to judge; the API answers 47001 to empty content.
		return platform.Verdict{Label: labelNormal}, nil
	}
	verdict := platform.Verdict{Label: labelNormal}
	for _, piece := range split(strings.Join(nonEmpty, "\n"), maxCheckRunes) {
		var v platform.Verdict
		err := platform.WithToken(ctx, c.broker, func(token string) *platform.Error {
			req := secCheckRequest{Content: piece, Version: 2, Scene: sceneProfile, OpenID: to}
			b, perr := c.post(ctx, pathMsgSecCheck, url.Values{"access_token": {token}}, req, token)
			if perr != nil {
				return perr
			}
			v, perr = c.parseSecCheck(b)
			return perr
		})
		if err != nil {
			return platform.Verdict{}, err
		}
		if v.Risky {
			return v, nil
		}
		if v.Label != labelNormal && v.Label != "" {
			verdict.Label = v.Label // a "review" label is worth reporting
		}
	}
	return verdict, nil
}

// parseSecCheck reads {"errcode":0,"result":{"suggest","label"},…}. A v1
// style 87014 is taken as a risky verdict rather than an error.
func (c *Client) parseSecCheck(b []byte) (platform.Verdict, *platform.Error) {
	a, perr := c.decodeAnswer(pathMsgSecCheck, b)
	if perr != nil {
		return platform.Verdict{}, perr
	}
	switch {
	case a.ErrCode == nil:
		return platform.Verdict{}, malformed(pathMsgSecCheck, "no errcode")
	case Code(*a.ErrCode) == CodeRiskyContentV1:
		return platform.Verdict{Risky: true, Label: "87014"}, nil
	case *a.ErrCode != 0:
		return platform.Verdict{}, c.classify(businessRules, Code(*a.ErrCode), a.ErrMsg)
	case a.Result == nil:
		return platform.Verdict{}, malformed(pathMsgSecCheck, "no result")
	}
	switch a.Result.Suggest {
	case "pass", "review", "risky":
	default:
		return platform.Verdict{}, malformed(pathMsgSecCheck, "unknown suggest")
	}
	return platform.Verdict{Risky: a.Result.Suggest == "risky", Label: labelText(a.Result.Label)}, nil
}

// labelText is the label as text: WeChat sends a number (20001); a string
// is passed on as it is, anything else is dropped.
func labelText(raw json.RawMessage) string {
	if n := numberText(raw); n != "" {
		return n
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// split cuts s into pieces of at most n runes.
func split(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		i, count := 0, 0
		for i < len(s) && count < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			count++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}
