package wechat

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
)

// pathGetTemplate lists the app's private templates
// (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/getTemplateList.html):
// {"errcode":0,"errmsg":"ok","data":[{"priTmplId","title","content",
// "example","type","keywordEnumValueList":[{"keywordCode":"phrase1.DATA",
// "enumValueList":[…]}]}]}; a keyword is "{{thing1.DATA}}" in content.
const pathGetTemplate = "/wxaapi/newtmpl/gettemplate"

type templateAnswer struct {
	ErrCode *int64 `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Data    []struct {
		ID       string `json:"priTmplId"`
		Title    string `json:"title"`
		Content  string `json:"content"`
		EnumList []struct {
			Code   string   `json:"keywordCode"`
			Values []string `json:"enumValueList"`
		} `json:"keywordEnumValueList"`
	} `json:"data"`
}

// Templates lists the app's templates with their keywords (the sender
// validates a message against them before accepting it), with the token
// the app holds: platform.ErrNoToken until it has one.
func (c *Client) Templates(ctx context.Context) ([]platform.Template, error) {
	var out []platform.Template
	err := platform.WithCurrentToken(c.broker, func(token string) *platform.Error {
		a, perr := c.api.Do(ctx, callGet(c.url(pathGetTemplate, url.Values{"access_token": {token}}), pathGetTemplate, token))
		if perr != nil {
			return perr
		}
		var ans templateAnswer
		if err := json.Unmarshal(a.Body, &ans); err != nil {
			return malformed(pathGetTemplate, "not JSON")
		}
		switch {
		case ans.ErrCode == nil:
			return malformed(pathGetTemplate, "no errcode")
		case *ans.ErrCode != 0:
			return c.classify(businessRules, Code(*ans.ErrCode), ans.ErrMsg)
		}
		out = make([]platform.Template, 0, len(ans.Data))
		for _, d := range ans.Data {
			t := platform.Template{ID: d.ID, Title: d.Title, Keywords: platform.ContentKeywords(d.Content)}
			for _, e := range d.EnumList {
				if t.Enums == nil {
					t.Enums = map[string][]string{}
				}
				t.Enums[strings.TrimSuffix(e.Code, ".DATA")] = e.Values
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}
