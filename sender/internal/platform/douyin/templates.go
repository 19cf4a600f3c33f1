package douyin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// pathQueryAppTpl lists the app's subscription templates on v2
// (GET open.douyin.com/api/notification/v2/subscription/query_app_tpl/
// ?classification=&page_num=&page_size=, the client token in the
// access-token header; docs/platforms/douyin.md): {"err_no":0,"data":
// {"total_count","template_list":[{"msg_id","title","keyword_list":[…]}]}}.
// classification 1 is one-time, 2 long-term; a page holds at most 50.
const pathQueryAppTpl = "/api/notification/v2/subscription/query_app_tpl/"

const tplPageSize = 50

// ErrNoTemplateList: the legacy v1 API has no template list.
var ErrNoTemplateList = platform.ErrUnsupported

type tplAnswer struct {
	ErrNo  json.RawMessage `json:"err_no"`
	ErrMsg json.RawMessage `json:"err_msg"`
	Data   struct {
		Total int `json:"total_count"`
		List  []struct {
			MsgID    string   `json:"msg_id"`
			Title    string   `json:"title"`
			Keywords []string `json:"keyword_list"`
		} `json:"template_list"`
	} `json:"data"`
}

// Templates lists the app's one-time and long-term templates, keyed by
// msg_id (the template id of notify_user) with their keyword names, with
// the client token the app holds (platform.ErrNoToken until it has one).
// v1 apps: platform.ErrUnsupported.
func (c *Client) Templates(ctx context.Context) ([]platform.Template, error) {
	if c.legacyMode {
		return nil, ErrNoTemplateList
	}
	var out []platform.Template
	for class := 1; class <= 2; class++ {
		// Bounded: a page that adds nothing ends the walk, whatever
		// total_count says.
		for num := 1; num <= 100; num++ {
			var page tplAnswer
			err := platform.WithCurrentToken(c.broker, func(token string) *platform.Error {
				q := url.Values{"classification": {strconv.Itoa(class)}, "page_num": {strconv.Itoa(num)},
					"page_size": {strconv.Itoa(tplPageSize)}}
				a, perr := c.api.Do(ctx, call.Request{Method: http.MethodGet, URL: c.openURL + pathQueryAppTpl + "?" + q.Encode(),
					Name: pathQueryAppTpl, Header: http.Header{headerToken: {token}}, Token: token})
				if perr != nil {
					return perr
				}
				page = tplAnswer{}
				if perr := decode(pathQueryAppTpl, a.Body, &page); perr != nil {
					return perr
				}
				code, ok := errNo(page.ErrNo)
				switch {
				case !ok:
					return malformed(pathQueryAppTpl, "no err_no")
				case code != CodeOK:
					return c.classify(businessRules, code, c.api.Scrub(text(page.ErrMsg), token))
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			for _, t := range page.Data.List {
				out = append(out, platform.Template{ID: t.MsgID, Title: t.Title, Keywords: t.Keywords})
			}
			if len(page.Data.List) < tplPageSize {
				break
			}
		}
	}
	return out, nil
}
