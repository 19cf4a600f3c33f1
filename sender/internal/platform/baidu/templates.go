package baidu

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// pathTemplateList lists the app's templates
// (GET /rest/2.0/smartapp/template/templatelist?access_token=&offset=&count=,
// count at most 20; swan-docs serverapi/getTemplateList.md):
// {"errno":0,"data":{"total_count","list":[{"template_id","title",
// "content":"购买地点{{keyword1.DATA}}\n…"}]}}.
const pathTemplateList = "/rest/2.0/smartapp/template/templatelist"

const tplPageSize = 20

// Templates lists the app's templates with their keyword keys
// ("keyword1", …), read from each template's content, with the token the
// app holds (platform.ErrNoToken until it has one).
func (c *Client) Templates(ctx context.Context) ([]platform.Template, error) {
	var out []platform.Template
	// Bounded: a short page ends the walk.
	for offset := 0; offset < 100*tplPageSize; offset += tplPageSize {
		var list struct {
			List []struct {
				ID      string `json:"template_id"`
				Title   string `json:"title"`
				Content string `json:"content"`
			} `json:"list"`
		}
		err := platform.WithCurrentToken(c.broker, func(token string) *platform.Error {
			u := c.tokenURL(pathTemplateList, token) + "&offset=" + strconv.Itoa(offset) + "&count=" + strconv.Itoa(tplPageSize)
			a, perr := c.api.Do(ctx, call.Request{Method: http.MethodGet, URL: u, Name: pathTemplateList, Token: token})
			if perr != nil {
				return perr
			}
			ans, perr := c.decodeAnswer(pathTemplateList, a.Body)
			if perr != nil {
				return perr
			}
			if code, ok := ans.gateway(); ok {
				return c.gatewayError(gatewayRules, code, call.Text(ans.ErrorMsg))
			}
			errno, ok := call.Number(ans.Errno)
			switch {
			case !ok:
				return malformed(pathTemplateList, "no errno")
			case errno != 0:
				return c.errnoError(sendRules, Errno(errno), call.Text(ans.Msg))
			}
			if json.Unmarshal(ans.Data, &list) != nil {
				return malformed(pathTemplateList, "data is not a template list")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, t := range list.List {
			out = append(out, platform.Template{ID: t.ID, Title: t.Title, Keywords: platform.ContentKeywords(t.Content)})
		}
		if len(list.List) < tplPageSize {
			break
		}
	}
	return out, nil
}
