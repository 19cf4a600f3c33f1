package baidu

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Subscribe ids (docs/platforms/baidu.md): "同一用户在同一个订阅id
// 下的多次授权不累积下发权限，只能下发一条。若要订阅多条，需要不同订阅 id", and a
// subscription has no time limit. The mock's model: a grant credit in the
// store is one authorization (under its own subscribe id); a send names the
// subscribe id it spends, consumes one credit, and that id can never carry
// another message to that user for that template (4007). The id is keyed by
// template too because one client subscribe call can cover several
// templates under one id (UNCONFIRMED). Long-term grants are not consumed,
// but each subscribe id still carries one message.
type subKey struct{ appID, openID, templateID, subscribeID string }

// maxUsed bounds the memory of spent subscribe ids; the oldest are
// forgotten first (a replay that old is then accepted again).
const maxUsed = 1 << 20

// msgKeyBase starts the msg_key sequence; the doc's examples are small
// integers (158, 4330862).
const msgKeyBase = 4_330_000

var errSpent = errors.New("subscribe id already used")

type sendAnswerData struct {
	MsgKey int64 `json:"msg_key"`
}

// okSendAnswer is writeJSON's bytes for a successful send, made once
// around its msg_key.
var okSendAnswer = platform.NewIntAnswer(func(key int64) []byte {
	return platform.EncodeJSON(businessAnswer{Errno: ErrnoOK, Msg: ErrnoOK.Message(), Data: sendAnswerData{MsgKey: key}})
})

// sendError is a rejection found while checking a send under the store lock.
type sendError struct {
	errno  Errno
	detail string
}

func (e *sendError) Error() string { return e.errno.Message() + ": " + e.detail }

// POST /rest/2.0/smartapp/template/message/subscribe/send?access_token=…
// with form fields template_id, touser_openId, subscribe_id, data (a JSON
// string) and page (optional).
//
// Checks, in order: the token (gateway 100/110/111); method and form
// (2002); limits (gateway 4/17/18, none by default); template_id,
// touser_openId, subscribe_id and data present (2002); data a JSON object
// (2002); touser_openId a user of the app (4010); template_id the app's
// (4001); every template keyword present with a non-empty value and no key
// the template lacks, the page well formed (2002); then the subscription:
// no credit left, or the subscribe id already spent, is 4007.
func (e *Emulator) handleSubscribeSend(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	appID, gw := e.checkToken(r)
	formErr := readForm(w, r)
	f := r.Form
	c.AppID, c.OpenID = appID, f.Get("touser_openId")
	app, ok := e.admit(w, r, c, gw, formErr, EndpointSubscribeSend, http.MethodPost)
	if !ok {
		return
	}
	req := sendRequest{TemplateID: f.Get("template_id"), OpenID: f.Get("touser_openId"),
		SubscribeID: f.Get("subscribe_id"), Page: f.Get("page")}
	raw := f.Get("data")
	for _, p := range [][2]string{{"template_id", req.TemplateID}, {"touser_openId", req.OpenID},
		{"subscribe_id", req.SubscribeID}, {"data", raw}} {
		if p[1] == "" {
			fail(w, c, ErrnoParam, p[0]+" is empty")
			return
		}
	}
	if req.Data, _ = platform.RawObject([]byte(raw)); req.Data == nil {
		fail(w, c, ErrnoParam, "data is not a JSON object")
		return
	}
	key := subKey{appID: appID, openID: req.OpenID, templateID: req.TemplateID, subscribeID: req.SubscribeID}
	var values map[string]string
	keyHash := hashSubKey(key)
	e.subMu.Lock()
	err := e.env.Store.Send(Name, appID, req.OpenID, req.TemplateID, func(t *store.Template) error {
		var serr *sendError
		if values, serr = checkSend(app, t, &req); serr != nil {
			return serr
		}
		if e.used.has(key, keyHash) {
			return errSpent
		}
		return nil
	})
	if err == nil {
		e.markUsedLocked(key, keyHash)
	}
	e.subMu.Unlock()
	var serr *sendError
	switch {
	case err == nil:
	case errors.As(err, &serr):
		fail(w, c, serr.errno, serr.detail)
		return
	case errors.Is(err, store.ErrUnknownUser):
		fail(w, c, ErrnoOpenID, "")
		return
	case errors.Is(err, store.ErrUnknownTemplate):
		fail(w, c, ErrnoTemplate, "")
		return
	case errors.Is(err, errSpent):
		fail(w, c, ErrnoNotSubscribed, "subscribe_id already used")
		return
	case errors.Is(err, store.ErrNoGrant):
		fail(w, c, ErrnoNotSubscribed, "")
		return
	case errors.Is(err, store.ErrUnknownApp):
		gatewayFail(w, c, GatewayTokenInvalid)
		return
	default:
		gatewayFail(w, c, GatewayUnavailable)
		return
	}
	msgKey := e.msgKey.Add(1)
	e.env.Deliver(mockapi.Message{
		Platform: Name, AppID: appID, OpenID: req.OpenID, TemplateID: req.TemplateID, Data: values,
		Page: req.Page, MsgID: strconv.FormatInt(msgKey, 10), ReceivedAt: e.env.Clock.Now(),
	})
	c.ErrCode = 0
	platform.WriteAnswer(w, contentType, okSendAnswer.Bytes(msgKey))
}

// markUsedLocked records a spent subscribe id (h its hash); e.subMu must be
// held.
func (e *Emulator) markUsedLocked(k subKey, h uint64) {
	e.used.add(k, h)
	e.order = append(e.order, k)
	if len(e.order) > maxUsed {
		e.used.remove(e.order[0], hashSubKey(e.order[0]))
		e.order = e.order[1:]
	}
}

type sendRequest struct {
	TemplateID, OpenID, SubscribeID, Page string
	Data                                  map[string]json.RawMessage
}

// checkSend validates data and page against the template and returns the
// keyword values. Baidu documents no per-type value rules for its keys
// ("keyword1", "keyword2", …), so a value must only be present, non-blank
// text on one line (UNCONFIRMED: length limits are not documented). A key
// the template lacks is refused (UNCONFIRMED). No content screening happens
// at send: Baidu documents no errno for it (use syncCheckText).
func checkSend(app *store.App, t *store.Template, req *sendRequest) (map[string]string, *sendError) {
	values := make(map[string]string, len(t.Keywords))
	for _, key := range t.Keywords {
		raw, ok := req.Data[key]
		if !ok {
			return nil, &sendError{ErrnoParam, "data." + key + " is missing"}
		}
		v, ok := platform.KeywordValue(raw)
		if !ok || !validValue(v) {
			return nil, &sendError{ErrnoParam, "data." + key + ".value is invalid"}
		}
		values[key] = v
	}
	if len(req.Data) > len(values) {
		var extra []string
		for k := range req.Data {
			if _, ok := values[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return nil, &sendError{ErrnoParam, "data." + extra[0] + " is not a keyword of the template"}
	}
	if req.Page != "" && !platform.ValidPage(app, req.Page) {
		return nil, &sendError{ErrnoParam, "page is invalid"}
	}
	return values, nil
}

func validValue(v string) bool {
	if strings.TrimSpace(v) == "" || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
